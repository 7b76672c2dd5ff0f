/** What each role may do on the edge node: pure. The control plane's host controls come in a later issue. */
import type { ProducerSource, Role } from '../../protocol/signalling.js';

/**
 * Webinar attendees only watch; everyone else may send mic and camera, and a screen unless the meeting's policy
 * (carried in the join token) keeps screen sharing to hosts.
 */
export function canProduce(role: Role, source: ProducerSource, screenAllowed = true): boolean {
  if (role === 'attendee') return false;
  if (role === 'phone') return source === 'mic';
  return source !== 'screen' || screenAllowed;
}

/** Plain RTP transports (no ICE, no DTLS) are for the SIP gateway beside the node only, never for browsers. */
export function canUsePlainTransport(role: Role): boolean {
  return role === 'phone';
}
