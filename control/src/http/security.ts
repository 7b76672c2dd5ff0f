/**
 * Browser-facing protections of the control plane, as small middleware:
 * - `securityHeaders`: a strict Content-Security-Policy (the portal and sign-in pages run under it), no framing,
 *   `nosniff`, Referrer-Policy `same-origin` (`no-referrer` would make browsers send `Origin: null` on our own form
 *   posts), and HSTS when the public URL is https;
 * - `sameOriginWrites`: a state-changing request (POST/PUT/PATCH/DELETE) that a browser sends from another origin
 *   (its `Origin` or `Sec-Fetch-Site` says so) is refused with 403, whatever cookie rides along. SameSite=Lax does not
 *   stop a sibling origin of the same site (an edge node, say); this does.
 * JSON bodies must be declared `application/json` (checked where bodies are parsed, in api.ts).
 */
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './context.js';
import { HttpError, errorResponse } from './errors.js';

/** `'sha256-…'` source expression for an inline `<style>` or `<script>` body. */
export const cspHash = (body: string): string => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`;

export interface CspOptions {
  /** Extra connect-src sources (the edge nodes' http and ws origins). */
  connect?: string[];
  /** Hashes of inline styles that pages of this server carry. */
  styleHashes?: string[];
}

export function contentSecurityPolicy(o: CspOptions = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self'${o.styleHashes?.length ? ` ${o.styleHashes.join(' ')}` : ''}`,
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    `connect-src 'self'${o.connect?.length ? ` ${o.connect.join(' ')}` : ''}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The http and ws forms of a URL's origin, for connect-src. */
export function connectSources(url: string): string[] {
  const u = new URL(url);
  const ws = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return [u.origin, `${ws}//${u.host}`];
}

export interface HeaderOptions {
  /** The Content-Security-Policy, or a function giving the current one (the set of edge nodes changes). */
  csp: string | (() => string);
  /** Send Strict-Transport-Security (public URL is https). */
  hsts: boolean;
  /** Paths that render their own pages (the IdP): only framing and sniffing headers there. */
  ownPages?: (path: string) => boolean;
}

export function securityHeaders(o: HeaderOptions): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    h.set('X-Content-Type-Options', 'nosniff');
    h.set('X-Frame-Options', 'DENY');
    h.set('Referrer-Policy', 'same-origin');
    h.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (!h.has('Content-Security-Policy')) {
      h.set('Content-Security-Policy', o.ownPages?.(c.req.path) ? "frame-ancestors 'none'" : typeof o.csp === 'string' ? o.csp : o.csp());
    }
    if (o.hsts) h.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  };
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface OriginOptions {
  /** Origins allowed to send state-changing requests besides the server's own (the public URL's origin). */
  allowed: string[];
  /** Paths exempt (the IdP's own endpoints: its token endpoint is called server to server). */
  exempt?: (path: string) => boolean;
}

/**
 * Pure: may a state-changing request with these headers go on? A browser sends `Origin` (and `Sec-Fetch-Site`) on
 * every POST/PATCH/DELETE; a client that sends neither is not a browser and carries no ambient cookie risk.
 */
export function writeAllowed(h: { origin?: string; secFetchSite?: string; host?: string; protocol: string }, allowed: readonly string[]): { ok: true } | { ok: false; reason: string } {
  if (h.origin !== undefined) {
    const own = h.host ? `${h.protocol}//${h.host}` : null;
    if (!(allowed.includes(h.origin) || h.origin === own)) return { ok: false, reason: `requests from origin ${h.origin.slice(0, 100)} are not allowed` };
  }
  if (h.secFetchSite !== undefined && h.secFetchSite !== 'same-origin' && h.secFetchSite !== 'none') {
    return { ok: false, reason: `a ${h.secFetchSite.slice(0, 20)} request cannot change state` };
  }
  return { ok: true };
}

export function sameOriginWrites(o: OriginOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!UNSAFE.has(c.req.method) || o.exempt?.(c.req.path)) return next();
    const verdict = writeAllowed({
      origin: c.req.header('origin'),
      secFetchSite: c.req.header('sec-fetch-site'),
      host: c.req.header('host'),
      protocol: new URL(c.req.url).protocol,
    }, o.allowed);
    if (!verdict.ok) return errorResponse(c, new HttpError(403, 'cross_origin', verdict.reason));
    return next();
  };
}
