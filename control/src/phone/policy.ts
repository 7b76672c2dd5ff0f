/** Which meetings phone callers may dial into: pure, tested without I/O. */
export interface PhoneMeetingFacts {
  access: 'invited' | 'link';
  hasPasscode: boolean;
  webinar: boolean;
}

/**
 * A phone caller cannot be identified as an invitee, so an invitation-only meeting takes callers only when it has a
 * passcode (the passcode is then what invites them); link meetings take them like any link holder. Webinars are
 * closed to phones (a caller speaks, and webinar attendees must not).
 */
export function phoneMayDialIn(m: PhoneMeetingFacts): { ok: true } | { ok: false; reason: string } {
  if (m.webinar) return { ok: false, reason: 'webinars take no phone callers' };
  if (m.access === 'invited' && !m.hasPasscode) return { ok: false, reason: 'an invitation-only meeting needs a passcode for phone callers' };
  return { ok: true };
}
