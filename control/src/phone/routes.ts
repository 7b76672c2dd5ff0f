/**
 * The internal phone API (see edge-node/protocol/phone.ts), a Hono app mounted at `/internal/phone`: only the SIP
 * gateway, holding the shared secret, may call it. Also `GET /meetings/:id/dial-in` for the portal's invite panel.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { Hono } from 'hono';
import { PhoneJoinRequest, PhoneLeaveRequest, PhoneLookupRequest } from '../../../edge-node/protocol/phone.js';
import { jsonBody, type Api } from '../http/api.js';
import type { AppEnv } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import type { Meetings } from '../meetings/service.js';
import type { PhoneAdmission } from './service.js';
import { z } from 'zod';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Bearer check in constant time; without a configured secret the API does not exist (404). */
export function phoneApi(admission: PhoneAdmission, secret: string | undefined): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', async (c, next) => {
    if (!secret) throw new HttpError(404, 'not_found', 'no phone gateway configured');
    const given = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(given), digest(secret))) throw new HttpError(401, 'unauthorized', 'phone gateway credential required');
    await next();
  });
  app.post('/lookup', async (c) => c.json(await admission.lookup((await jsonBody(c.req, PhoneLookupRequest)).pin)));
  app.post('/join', async (c) => {
    const r = await admission.join(await jsonBody(c.req, PhoneJoinRequest));
    return c.json(r, r.status === 'waiting' ? 202 : 200);
  });
  app.post('/leave', async (c) => {
    await admission.leave(await jsonBody(c.req, PhoneLeaveRequest));
    return c.body(null, 204);
  });
  return app;
}

/** GET /meetings/:id/dial-in: the number to call and the meeting's PIN, or null when no gateway is set up. */
export const DialIn = z.object({ number: z.string(), pin: z.string() }).nullable();
export type DialIn = z.infer<typeof DialIn>;

/** How to dial in, for the portal (any user who may see the meeting). */
export function dialInRoutes(api: Api, meetings: Meetings, dialInNumber: string | undefined): void {
  api.route({
    method: 'get', path: '/meetings/:id/dial-in', tag: 'meetings', auth: 'user', errors: [404],
    summary: 'How to join by phone: the number to call and the meeting\'s numeric PIN (null when no gateway is set up)',
    response: DialIn,
  }, async ({ user, params }) => {
    const { m } = await meetings.access(user, params.id!);
    return dialInNumber ? { number: dialInNumber, pin: m.dial_pin } : null;
  });
}
