/**
 * Who may do what in a meeting, written out from the product's rules (README, "Host controls"), NOT computed by the
 * code under test. The unit test runs it against the pure policy, the integration test against the HTTP API.
 *
 * The rules:
 *  - Hosts may do everything.
 *  - Co-hosts may do everything but end the meeting and appoint co-hosts, and never act on a host or a co-host.
 *  - Nobody else (panelist, participant, attendee) has any host control, invitation or settings right.
 *  - Nobody removes, denies or promotes themselves; a host or co-host may mute, stop the video or screen of, or admit,
 *    themselves (harmless); someone already a co-host (or the host) cannot be appointed co-host.
 *  - Only the owner (the host) deletes a meeting; hosts and co-hosts change its title, schedule and settings.
 *  - Invitations follow the same rule: a co-host may invite, re-invite (change the role of) and uninvite panelists,
 *    participants and attendees, as one of those roles; never as co-host, never a co-host (not even themselves).
 *  - Someone with no role in the meeting (a stranger to an invitation-only meeting, or a host of another meeting)
 *    learns nothing: 404 for every route.
 *
 * The grids: one row per actor, one column per target, 'Y' allowed, '.' refused. Targets: the host, the co-host
 * "cohost" (the actor itself when the actor is the co-host), a second co-host "cohost2", a panelist, a participant
 * and an attendee. The diagonal is the actor acting on itself.
 */
import type { HostControl, Role } from '../../control/index.js';

export const ACTORS = ['host', 'cohost', 'panelist', 'participant', 'attendee'] as const satisfies readonly Role[];
export type Actor = (typeof ACTORS)[number];
export const TARGETS = ['host', 'cohost', 'cohost2', 'panelist', 'participant', 'attendee'] as const;
export type Target = (typeof TARGETS)[number];

/** The role a target has in the meeting. */
export const roleOfTarget = (t: Target): Role => (t === 'cohost2' ? 'cohost' : t);
/** Whether the actor acts on itself. */
export const isSelf = (actor: Actor, t: Target): boolean => actor === t;

type Grid = Record<Actor, string>;
const NOBODY = { panelist: '......', participant: '......', attendee: '......' };

/** Host controls that name a participant. Columns: host cohost cohost2 panelist participant attendee. */
export const TARGETED_TABLE: Record<Exclude<HostControl, 'muteAll' | 'lock' | 'unlock' | 'end'>, Grid> = {
  //               h c c2 p pa at
  mute: { host: 'YYYYYY', cohost: '.Y.YYY', ...NOBODY },
  stopVideo: { host: 'YYYYYY', cohost: '.Y.YYY', ...NOBODY },
  stopScreen: { host: 'YYYYYY', cohost: '.Y.YYY', ...NOBODY },
  remove: { host: '.YYYYY', cohost: '...YYY', ...NOBODY },
  admit: { host: 'YYYYYY', cohost: '.Y.YYY', ...NOBODY },
  deny: { host: '.YYYYY', cohost: '...YYY', ...NOBODY },
  makeCohost: { host: '...YYY', cohost: '......', ...NOBODY },
};

/** Meeting-wide controls: may this actor use them? */
export const MEETING_WIDE_TABLE: Record<'muteAll' | 'lock' | 'unlock' | 'end', Record<Actor, boolean>> = {
  muteAll: { host: true, cohost: true, panelist: false, participant: false, attendee: false },
  lock: { host: true, cohost: true, panelist: false, participant: false, attendee: false },
  unlock: { host: true, cohost: true, panelist: false, participant: false, attendee: false },
  end: { host: true, cohost: false, panelist: false, participant: false, attendee: false },
};

/** PATCH and DELETE of the meeting itself. */
export const MEETING_TABLE: Record<'update' | 'delete', Record<Actor, boolean>> = {
  update: { host: true, cohost: true, panelist: false, participant: false, attendee: false },
  delete: { host: true, cohost: false, panelist: false, participant: false, attendee: false },
};

export const INVITEE_ROLES = ['cohost', 'panelist', 'participant', 'attendee'] as const satisfies readonly Role[];
export type InviteeRole = (typeof INVITEE_ROLES)[number];

const NOBODY_4 = { panelist: '....', participant: '....', attendee: '....' };
const NOBODY_5 = { panelist: '.....', participant: '.....', attendee: '.....' };

/** POST /meetings/:id/invitees for someone not yet invited, with this role. Columns: cohost panelist participant attendee. */
export const INVITE_NEW_TABLE: Grid = { host: 'YYYY', cohost: '.YYY', ...NOBODY_4 };

/**
 * POST /meetings/:id/invitees for someone invited already (target, by its current role), with a new role
 * (columns: cohost panelist participant attendee). The host as target is left out: the owner is no invitee.
 */
export const REINVITE_TABLE: Record<Exclude<Target, 'host'>, Grid> = {
  cohost: { host: 'YYYY', cohost: '....', ...NOBODY_4 },
  cohost2: { host: 'YYYY', cohost: '....', ...NOBODY_4 },
  panelist: { host: 'YYYY', cohost: '.YYY', ...NOBODY_4 },
  participant: { host: 'YYYY', cohost: '.YYY', ...NOBODY_4 },
  attendee: { host: 'YYYY', cohost: '.YYY', ...NOBODY_4 },
};

/** DELETE /meetings/:id/invitees/:userId. Columns: cohost cohost2 panelist participant attendee. */
export const UNINVITE_TABLE: Grid = { host: 'YYYYY', cohost: '..YYY', ...NOBODY_5 };

export function targeted(control: keyof typeof TARGETED_TABLE, actor: Actor, target: Target): boolean {
  return TARGETED_TABLE[control][actor][TARGETS.indexOf(target)] === 'Y';
}
export function inviteNew(actor: Actor, role: InviteeRole): boolean {
  return INVITE_NEW_TABLE[actor][INVITEE_ROLES.indexOf(role)] === 'Y';
}
export function reinvite(actor: Actor, target: Exclude<Target, 'host'>, role: InviteeRole): boolean {
  return REINVITE_TABLE[target][actor][INVITEE_ROLES.indexOf(role)] === 'Y';
}
export function uninvite(actor: Actor, target: Exclude<Target, 'host'>): boolean {
  return UNINVITE_TABLE[actor][(['cohost', 'cohost2', 'panelist', 'participant', 'attendee'] as const).indexOf(target)] === 'Y';
}
