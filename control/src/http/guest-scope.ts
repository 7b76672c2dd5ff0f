/**
 * What a guest (someone who joined a meeting by name, without an account) may reach: their one meeting's join,
 * state, participants and chat, and their own identity. Nothing else of the API (no meetings of their own, no
 * search, no contacts, no calendar, nobody else's meeting). Pure, with the middleware that applies it.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.js';
import { HttpError } from './errors.js';

const IN_MEETING: Array<[method: string, suffix: RegExp]> = [
  ['GET', /^$/],
  ['GET', /^\/join$/],
  ['POST', /^\/join$/],
  ['POST', /^\/guests$/],
  ['GET', /^\/participants$/],
  ['GET', /^\/chat$/],
  ['POST', /^\/chat$/],
  ['GET', /^\/chat\/live$/],
];

/** The API areas a guest is confined in; other paths (the web app, sign-in pages, health) are not API. */
const API = /^\/(meetings|users|calendar)(\/|$)/;

export function guestMayUse(method: string, path: string, meetingId: string): boolean {
  if ((method === 'GET' && path === '/auth/me') || (method === 'POST' && path === '/auth/logout')) return true;
  if (!API.test(path)) return true;
  const prefix = `/meetings/${meetingId}`;
  if (!path.startsWith(prefix)) return false;
  const rest = path.slice(prefix.length);
  return IN_MEETING.some(([m, re]) => m === method && re.test(rest));
}

export const guestScope: MiddlewareHandler<AppEnv> = async (c, next) => {
  const user = c.get('user');
  if (user?.guestOf !== undefined && !guestMayUse(c.req.method, c.req.path, user.guestOf)) {
    throw new HttpError(403, 'guest', 'a guest only takes part in the meeting they joined: sign in for more');
  }
  return next();
};
