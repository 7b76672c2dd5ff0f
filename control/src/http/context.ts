/** What every request handler can read: the signed-in user (or null) and the client's address. */
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

export interface AuthUser {
  id: string;
  email: string;
  displayName: string;
  /** Set for a guest (no account): the one meeting this user exists for; guests reach nothing else. */
  guestOf?: string;
}

export type AppEnv = {
  Bindings: HttpBindings;
  Variables: { user: AuthUser | null; clientIp?: string };
};

export type AppContext = Context<AppEnv>;

/**
 * The client's IP: the socket's peer, or the address a trusted proxy forwarded (resolved once per request by
 * `clientAddressMiddleware`, http/client-address.ts; X-Forwarded-For from anyone else is ignored).
 */
export function clientIp(c: AppContext): string {
  return c.get('clientIp') ?? c.env?.incoming?.socket?.remoteAddress ?? 'unknown';
}
