/** The meetings API: CRUD, invitees, join (waiting room), participants and host controls. */
import { z } from 'zod';
import type { Api } from '../http/api.js';
import { HttpError } from '../http/errors.js';
import { clientIp, type AppContext } from '../http/context.js';
import { rateLimit, type RateLimiter } from '../http/rate-limit.js';
import { ROLES } from './policy.js';
import {
  ControlRequest, ControlResponse, CreateMeeting, GuestJoinRequest, Invitee, JoinRequest, JoinResponse, JoinState, MeetingList, MeetingView, ParticipantList, UpdateMeeting,
} from './schemas.js';
import type { JoinPlacement } from './placement.js';
import type { Meetings } from './service.js';
import type { IceServer } from '../turn/credentials.js';

/** Starts a web session for a new guest (the identity module's). */
export type StartSession = (c: AppContext, userId: string, idp: string) => Promise<void>;

export function meetingRoutes(
  api: Api, meetings: Meetings, joinLimiter: RateLimiter, placement: JoinPlacement,
  iceServers: (participantId: string) => IceServer[] = () => [], startSession?: StartSession,
): void {
  const tag = 'meetings';
  api.app.use('/meetings/:id/join', rateLimit(joinLimiter, (c) => clientIp(c)));
  api.app.use('/meetings/:id/guests', rateLimit(joinLimiter, (c) => clientIp(c)));

  api.route({ method: 'post', path: '/meetings', tag, summary: 'Create an instant or scheduled meeting', auth: 'user', body: CreateMeeting, response: MeetingView, status: 201 },
    ({ user, body }) => meetings.create(user, body));
  api.route({ method: 'get', path: '/meetings', tag, summary: 'Meetings you own or are invited to', auth: 'user', response: MeetingList },
    async ({ user }) => ({ meetings: await meetings.list(user) }));
  api.route({ method: 'get', path: '/meetings/:id', tag, summary: 'One meeting (404 if it is private and you are not invited)', auth: 'user', response: MeetingView, errors: [404] },
    ({ user, params }) => meetings.view(user, params.id!));
  api.route({ method: 'patch', path: '/meetings/:id', tag, summary: 'Change title, schedule or settings (hosts)', auth: 'user', body: UpdateMeeting, response: MeetingView, errors: [403, 404, 409] },
    ({ user, params, body }) => meetings.update(user, params.id!, body));
  api.route({ method: 'delete', path: '/meetings/:id', tag, summary: 'Delete a meeting (owner)', auth: 'user', status: 204, errors: [403, 404] },
    async ({ user, params }) => {
      await meetings.remove(user, params.id!);
    });

  const InviteeView = z.object({ userId: z.string(), email: z.string().nullable().describe('null unless you are a host or co-host'), displayName: z.string(), role: z.enum(ROLES) });
  api.route({ method: 'get', path: '/meetings/:id/invitees', tag, summary: 'Invitees and their roles', auth: 'user', response: z.object({ invitees: z.array(InviteeView) }), errors: [404] },
    async ({ user, params }) => ({ invitees: await meetings.invitees(user, params.id!) }));
  api.route({ method: 'post', path: '/meetings/:id/invitees', tag, summary: 'Invite a user by email with a role (hosts)', auth: 'user', body: Invitee, status: 204, errors: [403, 404] },
    async ({ user, params, body }) => {
      await meetings.invite(user, params.id!, body.email, body.role);
    });
  api.route({ method: 'delete', path: '/meetings/:id/invitees/:userId', tag, summary: 'Withdraw an invitation (hosts)', auth: 'user', status: 204, errors: [403, 404] },
    async ({ user, params }) => {
      await meetings.uninvite(user, params.id!, params.userId!);
    });

  api.route({
    method: 'post', path: '/meetings/:id/join', tag, auth: 'user', body: JoinRequest, response: JoinResponse, errors: [403, 404, 409, 423, 429, 503],
    summary: 'Join: checks passcode, lock, capacity, role and the waiting room; returns a join token and the chosen edge node (nearest healthy), or 202 while waiting',
  }, async ({ user, params, body }, c) => {
    const r = await meetings.join(user, params.id!, body.passcode, `${clientIp(c)}|${user.guestOf !== undefined ? 'guest' : user.id}`);
    if (r.status === 'admitted') Object.assign(r, await placement.place(c, params.id!), { iceServers: iceServers(r.participantId) });
    return c.json(r, r.status === 'waiting' ? 202 : 200);
  });
  if (startSession) {
    api.route({
      method: 'post', path: '/meetings/:id/guests', tag, auth: 'none', body: GuestJoinRequest, response: JoinResponse, errors: [403, 404, 409, 423, 429, 503],
      summary: 'Join by name without an account, where the meeting allows guests: sets a guest session (this meeting only) and '
        + 'decides like POST /meetings/:id/join (passcode, lock, capacity, waiting room, removal, end)',
    }, async ({ user, params, body }, c) => {
      let who = user;
      if (user && user.guestOf !== undefined && user.guestOf === params.id) {
        // This browser is a guest here already: removed stays removed (whatever name comes next); the same name is the
        // same guest (a reload); another name is another guest (a second tab).
        if ((await meetings.myState(user, params.id!)).state === 'removed') throw new HttpError(403, 'removed', 'you were removed from this meeting');
        if (user.displayName !== body.name) who = null;
      }
      if (!who || (who.guestOf !== undefined && who.guestOf !== params.id)) {
        who = await meetings.createGuest(params.id!, body.name);
        await startSession(c, who.id, 'guest');
      }
      // Guests are new users each time: wrong passcodes count per client address, not per guest.
      const r = await meetings.join(who, params.id!, body.passcode, `${clientIp(c)}|${who.guestOf !== undefined ? 'guest' : who.id}`);
      if (r.status === 'admitted') Object.assign(r, await placement.place(c, params.id!), { iceServers: iceServers(r.participantId) });
      return c.json(r, r.status === 'waiting' ? 202 : 200);
    });
  }
  api.route({ method: 'get', path: '/meetings/:id/join', tag, summary: 'Your state in the meeting (waiting, admitted, denied, removed)', auth: 'user',
    response: JoinState, errors: [404] },
  ({ user, params }) => meetings.myState(user, params.id!));
  api.route({ method: 'get', path: '/meetings/:id/participants', tag, summary: 'Participants (hosts also see the waiting room)', auth: 'user',
    response: ParticipantList, errors: [404] },
  async ({ user, params }) => ({ participants: await meetings.participants(user, params.id!) }));
  api.route({ method: 'post', path: '/meetings/:id/controls', tag, auth: 'user', body: ControlRequest, response: ControlResponse, errors: [403, 404, 409, 502],
    summary: 'Host controls: mute, muteAll, stopVideo, stopScreen, remove, lock, unlock, end, admit, deny, makeCohost' },
  ({ user, params, body }) => meetings.control(user, params.id!, body.action, body.participantId));
}
