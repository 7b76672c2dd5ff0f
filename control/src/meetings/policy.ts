/**
 * Meeting decisions as pure functions: who may do which host control to whom, what role a user gets, whether a
 * join is allowed, and the lifecycle. No I/O: tested exhaustively in tests/unit/meeting-policy.test.ts.
 */
export const ROLES = ['host', 'cohost', 'panelist', 'participant', 'attendee'] as const;
/** Roles a participant may have: a user's, or `phone` for a caller through the SIP gateway (never invited, never promoted). */
export const PARTICIPANT_ROLES = [...ROLES, 'phone'] as const;
export type Role = (typeof ROLES)[number];
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

export const HOST_CONTROLS = [
  'mute', 'muteAll', 'stopVideo', 'stopScreen', 'remove', 'lock', 'unlock', 'end', 'admit', 'deny', 'makeCohost',
] as const;
export type HostControl = (typeof HOST_CONTROLS)[number];

/** Controls that act on one participant (they name a target). */
export const TARGETED: ReadonlySet<HostControl> = new Set(['mute', 'stopVideo', 'stopScreen', 'remove', 'admit', 'deny', 'makeCohost']);

const RANK: Record<ParticipantRole, number> = { host: 4, cohost: 3, panelist: 2, participant: 1, phone: 1, attendee: 0 };

export type ControlDecision = { ok: true } | { ok: false; reason: string };

/**
 * May `actor` use `control` on `target` (a role, or null for meeting-wide controls)?
 * Hosts may do everything; co-hosts everything but end the meeting and appoint co-hosts, and never to a host or
 * another co-host; nobody else has host controls. Nobody removes or demotes themselves through host controls.
 */
export function canControl(actor: ParticipantRole, control: HostControl, target: ParticipantRole | null, targetIsSelf = false): ControlDecision {
  if (actor !== 'host' && actor !== 'cohost') return { ok: false, reason: `a ${actor} has no host controls` };
  if (TARGETED.has(control) && target === null) return { ok: false, reason: `${control} needs a participant` };
  if (targetIsSelf && (control === 'remove' || control === 'deny' || control === 'makeCohost')) {
    return { ok: false, reason: `you cannot ${control} yourself` };
  }
  if (actor === 'cohost') {
    if (control === 'end' || control === 'makeCohost') return { ok: false, reason: `only a host can ${control}` };
    if (target !== null && !targetIsSelf && RANK[target] >= RANK.cohost) return { ok: false, reason: `a co-host cannot ${control} a ${target}` };
  } else if (target === 'host' && !targetIsSelf && control !== 'mute') {
    return { ok: false, reason: `a host cannot ${control} another host` };
  }
  if (control === 'makeCohost' && target !== null && RANK[target] >= RANK.cohost) return { ok: false, reason: `already a ${target}` };
  if (control === 'makeCohost' && target === 'phone') return { ok: false, reason: 'a phone caller cannot be a co-host' };
  return { ok: true };
}

/**
 * May `actor` invite someone as `next`, change an invitee's role to `next`, or (with `next` null) withdraw an
 * invitation, when the invitee's current role is `current` (null: not invited yet)? The same rules as host controls:
 * only hosts and co-hosts; a co-host never appoints a co-host (that is `makeCohost`) and never acts on a host or
 * co-host (demoting one by re-inviting, or withdrawing their invitation). Hosts are never invited.
 */
export function canChangeInvitation(actor: Role, current: Role | null, next: Role | null): ControlDecision {
  if (actor !== 'host' && actor !== 'cohost') return { ok: false, reason: `a ${actor} cannot change invitations` };
  if (next === 'host') return { ok: false, reason: 'nobody is invited as a host' };
  if (current === 'host') return { ok: false, reason: 'the host\'s role cannot be changed' };
  if (current !== null) {
    const onTarget = canControl(actor, 'remove', current);
    if (!onTarget.ok) return { ok: false, reason: `a co-host cannot change a ${current}'s invitation` };
  }
  if (next === 'cohost' && current !== 'cohost') {
    const appoint = canControl(actor, 'makeCohost', current ?? 'participant');
    if (!appoint.ok) return appoint;
  }
  return { ok: true };
}

/** The stronger of two roles (an invitee appointed co-host during the meeting is a co-host). */
export function higherRole(a: Role | null, b: Role | null): Role | null {
  if (!a) return b;
  if (!b) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

export interface MeetingFacts {
  ownerId: string;
  access: 'invited' | 'link';
  webinar: boolean;
}

/** The role a user has in a meeting, or null when the meeting is invitation-only and the user is not invited. */
export function roleOf(m: MeetingFacts, userId: string, memberRole: Role | null): Role | null {
  if (userId === m.ownerId) return 'host';
  if (memberRole) return memberRole;
  if (m.access === 'invited') return null;
  return m.webinar ? 'attendee' : 'participant';
}

export const isHostLike = (r: ParticipantRole) => r === 'host' || r === 'cohost';

export interface JoinFacts {
  role: ParticipantRole;
  status: 'scheduled' | 'live' | 'ended';
  locked: boolean;
  /** The participant's recorded state in this meeting, if any. */
  state: 'waiting' | 'admitted' | 'denied' | 'removed' | null;
  waitingRoom: boolean;
  hasPasscode: boolean;
  passcodeOk: boolean;
  passcodeLockedOut: boolean;
  /** Admitted participants other than this user. */
  admittedOthers: number;
  maxParticipants: number;
}

export type JoinDecision =
  | { outcome: 'admit' }
  | { outcome: 'wait' }
  | { outcome: 'refuse'; status: 403 | 409 | 423 | 429; code: string; message: string };

/** The join decision, in the order a user would expect to hear the reasons. */
export function decideJoin(f: JoinFacts): JoinDecision {
  const host = isHostLike(f.role);
  if (f.status === 'ended') return { outcome: 'refuse', status: 409, code: 'meeting_ended', message: 'the meeting has ended' };
  if (f.state === 'removed') return { outcome: 'refuse', status: 403, code: 'removed', message: 'you were removed from this meeting' };
  if (f.state === 'denied') return { outcome: 'refuse', status: 403, code: 'denied', message: 'the host denied entry' };
  if (!host && f.hasPasscode) {
    if (f.passcodeLockedOut) return { outcome: 'refuse', status: 429, code: 'passcode_locked', message: 'too many wrong passcodes; try again later' };
    if (!f.passcodeOk) return { outcome: 'refuse', status: 403, code: 'wrong_passcode', message: 'wrong or missing passcode' };
  }
  if (f.locked && !host && f.state !== 'admitted') return { outcome: 'refuse', status: 423, code: 'locked', message: 'the meeting is locked' };
  if (!host && f.state !== 'admitted' && f.admittedOthers >= f.maxParticipants) {
    return { outcome: 'refuse', status: 409, code: 'full', message: 'the meeting is full' };
  }
  if (f.waitingRoom && !host && f.state !== 'admitted') return { outcome: 'wait' };
  return { outcome: 'admit' };
}

/** Failed passcodes a client may make before its joins to that meeting are locked out. */
export const PASSCODE_MAX_FAILURES = 5;
export const PASSCODE_LOCKOUT_SECONDS = 15 * 60;

/** The edge role carried in the join token: the edge only distinguishes senders from view-only attendees. */
export function screenShareAllowed(role: ParticipantRole, policy: 'all' | 'hosts'): boolean {
  if (role === 'attendee' || role === 'phone') return false;
  return policy === 'all' || isHostLike(role);
}
