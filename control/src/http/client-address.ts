/**
 * Resolves the client's address once per request: the socket's peer, or, when that peer is one of the configured
 * trusted proxies (TRUSTED_PROXIES), the address it forwarded in X-Forwarded-For (geo/client-ip.ts). Rate limits,
 * passcode lockouts and the join placement all read it through `clientIp(c)`.
 */
import type { MiddlewareHandler } from 'hono';
import { clientAddress, type TrustedProxies } from '../../../geo/index.js';
import type { AppEnv } from './context.js';

export function clientAddressMiddleware(trusted: TrustedProxies): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { ip } = clientAddress(c.env?.incoming?.socket?.remoteAddress, c.req.header('x-forwarded-for'), trusted);
    if (ip) c.set('clientIp', ip);
    await next();
  };
}
