/**
 * Time-limited TURN credentials (the "TURN REST API" scheme that coturn's `use-auth-secret` implements): the username
 * is `<expiry unix seconds>:<participant id>`, the password is base64(HMAC-SHA1(shared secret, username)). coturn
 * recomputes the HMAC with the same secret and refuses a username whose expiry has passed, so no static password ever
 * reaches a client and a leaked credential dies on its own. Pure: tested without I/O.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';

/** One entry of RTCConfiguration.iceServers, as the join response carries it. */
export const IceServer = z.object({
  urls: z.array(z.string()),
  username: z.string().optional(),
  credential: z.string().optional(),
});
export type IceServer = z.infer<typeof IceServer>;

export interface TurnSettings {
  /** turn:/turns: URLs of the TURN servers beside the nodes, e.g. `turns:turn.example.com:443?transport=tcp`. */
  urls: string[];
  /** The `static-auth-secret` shared with coturn. */
  secret: string;
  /** How long a credential stays valid (coturn refuses allocations and refreshes after that). */
  ttlSeconds: number;
}

export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

/** The ICE servers for one participant; `nowMs` is injected so that the expiry is testable. */
export function iceServersFor(s: TurnSettings | null, participantId: string, nowMs = Date.now()): IceServer[] {
  if (!s || s.urls.length === 0) return [];
  const expiry = Math.floor(nowMs / 1000) + s.ttlSeconds;
  // ':' separates the expiry; a participant id never contains one (uuids), but never let one shift the split.
  const username = `${expiry}:${participantId.replaceAll(':', '_')}`;
  return [{ urls: [...s.urls], username, credential: turnPassword(s.secret, username) }];
}

/** Splits `TURN_URLS` (comma separated) and checks each is a turn: or turns: URL. */
export function parseTurnUrls(raw: string | undefined): string[] {
  if (!raw) return [];
  const urls = raw.split(',').map((u) => u.trim()).filter(Boolean);
  for (const u of urls) {
    if (!/^turns?:[^\s]+$/.test(u)) throw new Error(`not a turn: or turns: URL: '${u}'`);
  }
  return urls;
}
