/** The meetings API: CRUD, invitees, join (waiting room), participants and host controls. */
import { z } from 'zod';
import type { Api } from '../http/api.js';
import { clientIp } from '../http/context.js';
import { rateLimit, type RateLimiter } from '../http/rate-limit.js';
import { ROLES } from './policy.js';
import {
  ControlRequest, ControlResponse, CreateMeeting, Invitee, JoinRequest, JoinResponse, MeetingView, ParticipantView, UpdateMeeting,
} from './schemas.js';
import type { Meetings } from './service.js';
import type { IceServer } from '../turn/credentials.js';

export function meetingRoutes(api: Api, meetings: Meetings, joinLimiter: RateLimiter, iceServers: (participantId: string) => IceServer[] = () => []): void {
  const tag = 'meetings';
  api.app.use('/meetings/:id/join', rateLimit(joinLimiter, (c) => clientIp(c)));

  api.route({ method: 'post', path: '/meetings', tag, summary: 'Create an instant or scheduled meeting', auth: 'user', body: CreateMeeting, response: MeetingView, status: 201 },
    ({ user, body }) => meetings.create(user, body));
  api.route({ method: 'get', path: '/meetings', tag, summary: 'Meetings you own or are invited to', auth: 'user', response: z.object({ meetings: z.array(MeetingView) }) },
    async ({ user }) => ({ meetings: await meetings.list(user) }));
  api.route({ method: 'get', path: '/meetings/:id', tag, summary: 'One meeting (404 if it is private and you are not invited)', auth: 'user', response: MeetingView, errors: [404] },
    ({ user, params }) => meetings.view(user, params.id!));
  api.route({ method: 'patch', path: '/meetings/:id', tag, summary: 'Change title, schedule or settings (hosts)', auth: 'user', body: UpdateMeeting, response: MeetingView, errors: [403, 404, 409] },
    ({ user, params, body }) => meetings.update(user, params.id!, body));
  api.route({ method: 'delete', path: '/meetings/:id', tag, summary: 'Delete a meeting (owner)', auth: 'user', status: 204, errors: [403, 404] },
    async ({ user, params }) => {
      await meetings.remove(user, params.id!);
    });

  const InviteeView = z.object({ userId: z.string(), email: z.string(), displayName: z.string(), role: z.enum(ROLES) });
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
    method: 'post', path: '/meetings/:id/join', tag, auth: 'user', body: JoinRequest, response: JoinResponse, errors: [403, 404, 409, 423, 429],
    summary: 'Join: checks passcode, lock, capacity, role and the waiting room; returns a join token and the edge node URL, or 202 while waiting',
  }, async ({ user, params, body }, c) => {
    const r = await meetings.join(user, params.id!, body.passcode, `${clientIp(c)}|${user.id}`);
    return c.json(r.status === 'admitted' ? { ...r, iceServers: iceServers(r.participantId) } : r, r.status === 'waiting' ? 202 : 200);
  });
  api.route({ method: 'get', path: '/meetings/:id/join', tag, summary: 'Your state in the meeting (waiting, admitted, denied, removed)', auth: 'user',
    response: z.object({ state: z.enum(['waiting', 'admitted', 'denied', 'removed']).nullable() }), errors: [404] },
  ({ user, params }) => meetings.myState(user, params.id!));
  api.route({ method: 'get', path: '/meetings/:id/participants', tag, summary: 'Participants (hosts also see the waiting room)', auth: 'user',
    response: z.object({ participants: z.array(ParticipantView) }), errors: [404] },
  async ({ user, params }) => ({ participants: await meetings.participants(user, params.id!) }));
  api.route({ method: 'post', path: '/meetings/:id/controls', tag, auth: 'user', body: ControlRequest, response: ControlResponse, errors: [403, 404, 409, 502],
    summary: 'Host controls: mute, muteAll, stopVideo, stopScreen, remove, lock, unlock, end, admit, deny, makeCohost' },
  ({ user, params, body }) => meetings.control(user, params.id!, body.action, body.participantId));
}
