/**
 * Identity: the internal OpenID Provider at /oidc (oidc-provider), the relying-party routes at /auth (openid-client,
 * backend-for-frontend: tokens stay on the server, the browser holds only the `mm_session` cookie), users'
 * registration and password sign-in, and the `authenticate` middleware (session cookie or bearer access token).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as jose from 'jose';
import type Provider from 'oidc-provider';
import type { Interaction } from 'oidc-provider';
import * as oidc from 'openid-client';
import type pg from 'pg';
import type pino from 'pino';
import { z } from 'zod';
import type { ControlConfig } from '../config.js';
import type { Api } from '../http/api.js';
import { clientIp, type AppEnv, type AuthUser } from '../http/context.js';
import { HttpError, conflict } from '../http/errors.js';
import { RateLimiter, rateLimit, type RateLimitOptions } from '../http/rate-limit.js';
import type { KeyStore } from '../keys.js';
import { purgeExpiredOidcPayloads } from './adapter.js';
import { loginPage, messagePage } from './pages.js';
import { hashPassword, verifyPassword } from '../secrets.js';
import { API_SCOPE, CLI_CLIENT_ID, FIRST_PARTY_CLIENTS, GRANT_CLAIM, IDP_SESSION_COOKIE, WEB_CLIENT_ID, createProvider } from './provider.js';
import { safeReturnTo } from './return-to.js';
import { TimeZone } from '../meetings/schemas.js';
import { DuplicateEmailError, IdentityUsers, toAuthUser } from './users.js';

export { hashPassword, verifyPassword } from '../secrets.js';
export { safeReturnTo } from './return-to.js';
export { API_SCOPE, CLI_CLIENT_ID, CLI_REDIRECT_URI, WEB_CLIENT_ID } from './provider.js';

export const SESSION_COOKIE = 'mm_session';
/** Binds a sign-in in progress to the browser that started it (path /auth, ten minutes). */
export const LOGIN_BINDING_COOKIE = 'mm_auth';
/** `?idp=` value of the built-in provider (also the default). */
export const INTERNAL_IDP = 'internal';

/** Idle lifetime of a web session, renewed on use (at most once every SESSION_TOUCH_SECONDS). */
export const SESSION_IDLE_SECONDS = 7 * 24 * 3600;
export const SESSION_ABSOLUTE_SECONDS = 30 * 24 * 3600;
const SESSION_TOUCH_SECONDS = 3600;
/** Per client IP: registrations 10 at once, then 10 an hour; login form posts 20 at once, then 20 a minute. */
export const REGISTER_BURST = 10;
export const LOGIN_BURST = 20;
const LOGIN_STATE_SECONDS = 600;
/** How often the provider checks PostgreSQL for a rotated `oidc` key (another instance may have rotated). */
const KEY_CHECK_MS = 60_000;
const PURGE_MS = 10 * 60_000;

export interface Identity {
  /**
   * Sets c.var.user from the `mm_session` cookie or an `Authorization: Bearer` access token (JWT signed by the
   * issuer, `aud` = apiAudience, scope `api`, its grant still alive). No credential: null. A bad bearer: 401.
   */
  authenticate: MiddlewareHandler<AppEnv>;
  /** Starts a web session (sets the cookie) for a user who did not sign in through an IdP: a guest. */
  startSession: (c: Context<AppEnv>, userId: string, idp: string) => Promise<void>;
  /** Mounts the IdP at /oidc and the relying-party routes at /auth (JSON ones declared through `api`). */
  mount(app: Hono<AppEnv>, api: Api): void;
  close(): Promise<void>;
  /** `${publicUrl}/oidc` */
  readonly issuer: string;
  /** Resource indicator and `aud` of API access tokens: `${publicUrl}/api`. */
  readonly apiAudience: string;
  /** Picks up a rotated `oidc` key now (else within a minute): call after `keys.rotate()`. */
  reloadKeys(): Promise<void>;
}

export interface IdentityDeps {
  pool: pg.Pool;
  config: ControlConfig;
  log: pino.Logger;
  /** purpose 'oidc' */
  keys: KeyStore;
  /** Rate limits per client IP (defaults: REGISTER_BURST then 10 an hour; LOGIN_BURST then one per 3 s). */
  limits?: { register?: RateLimitOptions; login?: RateLimitOptions };
}

const UserOut = z.object({ id: z.string(), email: z.string(), displayName: z.string() });


const RegisterBody = z.object({
  email: z.email().max(254),
  password: z.string().min(10, 'at least 10 characters').max(1024),
  displayName: z.string().trim().min(1).max(100),
  timeZone: TimeZone.optional(),
});

const sha256 = (s: string) => createHash('sha256').update(s).digest();
const newSecret = () => randomBytes(32).toString('base64url');
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

interface LiveProvider {
  provider: Provider;
  callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  kids: string;
}

async function ensureSecret(pool: pg.Pool, name: string): Promise<string> {
  await pool.query('INSERT INTO identity_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, newSecret()]);
  const { rows } = await pool.query<{ value: string }>('SELECT value FROM identity_secrets WHERE name = $1', [name]);
  return rows[0]!.value;
}

export async function createIdentity(deps: IdentityDeps): Promise<Identity> {
  const { pool, config, keys } = deps;
  const log = deps.log.child({ module: 'identity' });
  const publicUrl = new URL(config.publicUrl);
  const base = config.publicUrl.replace(/\/+$/, '');
  const issuer = `${base}/oidc`;
  const apiAudience = `${base}/api`;
  const redirectUri = `${base}/auth/callback`;
  const users = new IdentityUsers(pool);
  const webClientSecret = await ensureSecret(pool, 'oidc.client.meshmeet-web');
  const cookieKeys = [await ensureSecret(pool, 'oidc.cookie-key.1')];
  const registerLimiter = new RateLimiter(deps.limits?.register ?? { burst: REGISTER_BURST, perSecond: 10 / 3600 });
  const loginLimiter = new RateLimiter(deps.limits?.login ?? { burst: LOGIN_BURST, perSecond: 1 / 3 });
  const cookieBase = { httpOnly: true, secure: config.secureCookies ?? config.publicUrl.startsWith('https:'), sameSite: 'Lax' } as const;

  // ---- the provider, re-created when the set of `oidc` keys changes (rotation) ----
  let live: LiveProvider | undefined;
  let checkedAt = 0;
  let refreshing: Promise<LiveProvider> | null = null;

  async function refresh(): Promise<LiveProvider> {
    const jwks = await keys.privateJwks();
    const kids = jwks.map((k) => k.kid).join(',');
    checkedAt = Date.now();
    if (live && live.kids === kids) return live;
    const provider = createProvider({ issuer, base, apiAudience, pool, users, jwks, cookieKeys, webClientSecret, log });
    const callback = provider.callback() as unknown as LiveProvider['callback'];
    const changed = live !== undefined;
    live = { provider, callback, kids };
    if (changed) {
      log.info({ kids }, 'oidc signing keys changed; provider re-created');
      rpConfigs.delete(INTERNAL_IDP); // the relying party re-reads the JWKS too
      verifyKeys = undefined;
    }
    return live;
  }

  async function current(force = false): Promise<LiveProvider> {
    if (!force && live && Date.now() - checkedAt < KEY_CHECK_MS) return live;
    refreshing ??= refresh().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  // ---- bearer tokens: verified locally against the same keys the provider publishes ----
  let verifyKeys: { get: jose.JWTVerifyGetKey; kids: Set<string>; at: number } | undefined;
  async function loadVerifyKeys() {
    const set = await keys.jwks();
    verifyKeys = { get: jose.createLocalJWKSet(set), kids: new Set(set.keys.map((k) => k.kid!)), at: Date.now() };
    return verifyKeys;
  }
  const getVerifyKey: jose.JWTVerifyGetKey = async (header, token) => {
    let k = verifyKeys;
    const stale = !k || Date.now() - k.at > 5 * 60_000 || (header.kid !== undefined && !k.kids.has(header.kid) && Date.now() - k.at > 5_000);
    if (stale) k = await loadVerifyKeys();
    return k!.get(header, token);
  };

  function invalidToken(c: Context<AppEnv>, why: string): HttpError {
    c.header('WWW-Authenticate', `Bearer error="invalid_token", error_description="${why}"`);
    return new HttpError(401, 'invalid_token', `bearer token rejected: ${why}`);
  }

  async function userFromBearer(c: Context<AppEnv>, token: string): Promise<AuthUser> {
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, getVerifyKey, {
        issuer,
        audience: apiAudience,
        algorithms: ['ES256'],
        typ: 'at+jwt',
        requiredClaims: ['exp', 'sub', GRANT_CLAIM],
      }));
    } catch (err) {
      throw invalidToken(c, err instanceof jose.errors.JWTExpired ? 'expired' : 'invalid');
    }
    const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
    if (!scopes.includes(API_SCOPE)) throw invalidToken(c, 'missing scope api');
    // Revocation: revoking a refresh token (or reusing a rotated one) deletes its grant; its access tokens die with it.
    const { rows } = await pool.query<{ id: string; email: string; display_name: string }>(
      `SELECT u.id, u.email, u.display_name FROM oidc_payloads g JOIN users u ON u.id::text = g.payload->>'accountId'
        WHERE g.model = 'Grant' AND g.id = $1 AND (g.expires_at IS NULL OR g.expires_at > now()) AND u.id::text = $2`,
      [String(payload[GRANT_CLAIM]), payload.sub],
    );
    const row = rows[0];
    if (!row) throw invalidToken(c, 'revoked');
    return { id: row.id, email: row.email, displayName: row.display_name };
  }

  // ---- web sessions ----
  function setSessionCookie(c: Context<AppEnv>, value: string) {
    setCookie(c, SESSION_COOKIE, value, { ...cookieBase, path: '/', maxAge: SESSION_IDLE_SECONDS });
  }

  async function userFromSession(c: Context<AppEnv>, sid: string): Promise<AuthUser | null> {
    const idHash = sha256(sid);
    const { rows } = await pool.query<{ id: string; email: string; display_name: string; expires_at: Date; guest_meeting_id: string | null }>(
      `SELECT u.id, u.email, u.display_name, s.expires_at, u.guest_meeting_id FROM web_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id_hash = $1 AND s.expires_at > now()`,
      [idHash],
    );
    const row = rows[0];
    if (!row) {
      deleteCookie(c, SESSION_COOKIE, { ...cookieBase, path: '/' });
      return null;
    }
    if (row.expires_at.getTime() < Date.now() + (SESSION_IDLE_SECONDS - SESSION_TOUCH_SECONDS) * 1000) {
      await pool.query(
        `UPDATE web_sessions SET expires_at = LEAST(now() + make_interval(secs => $2), created_at + make_interval(secs => $3)) WHERE id_hash = $1`,
        [idHash, SESSION_IDLE_SECONDS, SESSION_ABSOLUTE_SECONDS],
      );
      setSessionCookie(c, sid);
    }
    return { id: row.id, email: row.email, displayName: row.display_name, ...(row.guest_meeting_id ? { guestOf: row.guest_meeting_id } : {}) };
  }

  /**
   * A new web session for `userId` (signed in through `idp`, or a guest who joined by name), replacing this browser's
   * previous one: a new session id every time (no fixation), and the previous session ends.
   */
  async function startSession(c: Context<AppEnv>, userId: string, idp: string, refreshToken: string | null = null): Promise<void> {
    const previous = getCookie(c, SESSION_COOKIE);
    if (previous && COOKIE_VALUE.test(previous)) await endSession(sha256(previous));
    const sid = newSecret();
    await pool.query(
      'INSERT INTO web_sessions (id_hash, user_id, idp, refresh_token, expires_at) VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))',
      [sha256(sid), userId, idp, refreshToken, SESSION_IDLE_SECONDS],
    );
    setSessionCookie(c, sid);
  }

  /** Deletes a web session and revokes its refresh token at the issuer (best effort). */
  async function endSession(idHash: Buffer): Promise<void> {
    const { rows } = await pool.query<{ idp: string; refresh_token: string | null }>(
      'DELETE FROM web_sessions WHERE id_hash = $1 RETURNING idp, refresh_token',
      [idHash],
    );
    const row = rows[0];
    if (!row?.refresh_token) return;
    try {
      await oidc.tokenRevocation(await rpConfig(row.idp), row.refresh_token, { token_type_hint: 'refresh_token' });
    } catch (err) {
      log.warn({ err, idp: row.idp }, 'refresh token revocation failed');
    }
  }

  // ---- relying party: one openid-client Configuration per issuer, discovered on first use ----
  const rpConfigs = new Map<string, Promise<oidc.Configuration>>();
  function rpConfig(name: string): Promise<oidc.Configuration> {
    let p = rpConfigs.get(name);
    if (!p) {
      p = discover(name);
      rpConfigs.set(name, p);
      const mine = p;
      p.catch(() => {
        if (rpConfigs.get(name) === mine) rpConfigs.delete(name);
      });
    }
    return p;
  }
  async function discover(name: string): Promise<oidc.Configuration> {
    let server: URL;
    let clientId: string;
    let secret: string;
    let metadata: Partial<oidc.ClientMetadata> = {};
    if (name === INTERNAL_IDP) {
      server = new URL(issuer);
      clientId = WEB_CLIENT_ID;
      secret = webClientSecret;
      metadata = { id_token_signed_response_alg: 'ES256' };
    } else {
      const idp = config.externalIdps.find((i) => i.name === name);
      if (!idp) throw new Error(`unknown identity provider ${name}`);
      server = new URL(idp.issuer);
      clientId = idp.clientId;
      secret = idp.clientSecret;
    }
    // Plain-http issuers (development, tests on 127.0.0.1) only; https issuers never get this.
    const options = server.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined;
    return oidc.discovery(server, clientId, { ...metadata, client_secret: secret }, oidc.ClientSecretBasic(secret), options);
  }
  const knownIdp = (name: string) => name === INTERNAL_IDP || config.externalIdps.some((i) => i.name === name);

  // ---- raw Node request/response, as oidc-provider wants them ----
  function raw(c: Context<AppEnv>): { req: IncomingMessage; res: ServerResponse } {
    const req = c.env.incoming;
    // oidc-provider builds its URLs and decides cookie `Secure` from these; they come from the configured public URL,
    // never from the client.
    req.headers['x-forwarded-proto'] = publicUrl.protocol.slice(0, -1);
    req.headers['x-forwarded-host'] = publicUrl.host;
    req.headers['x-forwarded-for'] = c.env.incoming.socket.remoteAddress ?? '';
    return { req, res: c.env.outgoing };
  }

  async function interactionOf(c: Context<AppEnv>, provider: Provider): Promise<Interaction | null> {
    try {
      const details = await provider.interactionDetails(raw(c).req, raw(c).res);
      return details.uid === c.req.param('uid') ? details : null;
    } catch {
      return null;
    }
  }

  function expiredPage(c: Context<AppEnv>) {
    return c.html(messagePage('Sign-in expired', 'This sign-in page has expired. Please start again.', { href: '/auth/login', text: 'Sign in' }), 400);
  }

  const purge = setInterval(() => {
    Promise.all([
      purgeExpiredOidcPayloads(pool),
      pool.query('DELETE FROM web_sessions WHERE expires_at < now()'),
      pool.query('DELETE FROM auth_login_states WHERE expires_at < now()'),
    ]).catch((err) => log.warn({ err }, 'identity purge failed'));
  }, PURGE_MS);
  purge.unref();

  const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.set('user', null);
    const path = c.req.path;
    if (path === '/oidc' || path.startsWith('/oidc/')) return next(); // the IdP does its own client authentication
    const authz = c.req.header('authorization');
    const bearer = authz ? /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authz) : null;
    if (authz && /^bearer\b/i.test(authz)) {
      if (!bearer) throw invalidToken(c, 'malformed');
      c.set('user', await userFromBearer(c, bearer[1]!));
    } else {
      const sid = getCookie(c, SESSION_COOKIE);
      if (sid && COOKIE_VALUE.test(sid)) c.set('user', await userFromSession(c, sid));
      else if (sid) deleteCookie(c, SESSION_COOKIE, { ...cookieBase, path: '/' });
    }
    await next();
  };

  function mount(app: Hono<AppEnv>, api: Api): void {
    // ---- the OpenID Provider: requests handed to oidc-provider's Koa app as they are ----
    app.all('/oidc/*', async (c) => {
      const { callback } = await current();
      const { req, res } = raw(c);
      const url = req.url ?? '/';
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = url; // lets oidc-provider see its mount path
      const rest = url.slice('/oidc'.length);
      req.url = rest.startsWith('/') ? rest : `/${rest}`;
      await callback(req, res);
      return RESPONSE_ALREADY_SENT;
    });

    // ---- interactions: the IdP's login page and (auto-granted, first-party only) consent ----
    app.get('/auth/interaction/:uid', async (c) => {
      c.header('Cache-Control', 'no-store');
      const { provider } = await current();
      const details = await interactionOf(c, provider);
      if (!details) return expiredPage(c);
      const clientId = String(details.params.client_id ?? '');
      if (details.prompt.name === 'login') {
        return c.html(loginPage({ uid: details.uid, clientName: clientId === CLI_CLIENT_ID ? 'MeshMeet CLI' : 'MeshMeet' }));
      }
      if (details.prompt.name === 'consent' && FIRST_PARTY_CLIENTS.has(clientId)) {
        const accountId = details.session?.accountId;
        if (!accountId) return expiredPage(c);
        const grant = (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ?? new provider.Grant({ accountId, clientId });
        const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
        const grantId = await grant.save();
        const to = await provider.interactionResult(raw(c).req, raw(c).res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return c.redirect(to, 303);
      }
      return c.html(messagePage('Not allowed', 'This application is not allowed to use MeshMeet sign-in.'), 403);
    });

    app.post('/auth/interaction/:uid/login', async (c) => {
      c.header('Cache-Control', 'no-store');
      const wait = loginLimiter.take(clientIp(c));
      if (wait > 0) {
        c.header('Retry-After', String(wait));
        return c.html(messagePage('Too many attempts', `Too many sign-in attempts. Try again in ${wait} seconds.`), 429);
      }
      const { provider } = await current();
      const details = await interactionOf(c, provider);
      if (!details || details.prompt.name !== 'login') return expiredPage(c);
      const form = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
      // PostgreSQL stores no NUL: such an email matches nobody (and never reaches the database).
      const email = typeof form.email === 'string' && !form.email.includes('\u0000') ? form.email.trim().slice(0, 254) : '';
      const password = typeof form.password === 'string' ? form.password.slice(0, 1024) : '';
      const user = email ? await users.byEmail(email) : undefined;
      const ok = await verifyPassword(password, user?.passwordHash); // works (and takes as long) without a user too
      if (!user || !ok) {
        const clientName = details.params.client_id === CLI_CLIENT_ID ? 'MeshMeet CLI' : 'MeshMeet';
        return c.html(loginPage({ uid: details.uid, clientName, email, error: 'Wrong email or password.' }), 401);
      }
      const to = await provider.interactionResult(raw(c).req, raw(c).res, { login: { accountId: user.id, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
      return c.redirect(to, 303);
    });

    app.post('/auth/interaction/:uid/abort', async (c) => {
      const { provider } = await current();
      const details = await interactionOf(c, provider);
      if (!details) return expiredPage(c);
      const to = await provider.interactionResult(raw(c).req, raw(c).res, { error: 'access_denied', error_description: 'sign-in cancelled' }, { mergeWithLastSubmission: false });
      return c.redirect(to, 303);
    });

    // ---- relying party ----
    app.get('/auth/login', async (c) => {
      const returnTo = safeReturnTo(c.req.query('returnTo'));
      const idp = c.req.query('idp') || INTERNAL_IDP;
      if (!knownIdp(idp)) throw new HttpError(400, 'bad_request', `idp: unknown identity provider ${idp}`, 'idp');
      let rp: oidc.Configuration;
      try {
        rp = await rpConfig(idp);
      } catch (err) {
        log.error({ err, idp }, 'identity provider discovery failed');
        throw new HttpError(502, 'idp_unavailable', 'the identity provider cannot be reached');
      }
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      let binding = getCookie(c, LOGIN_BINDING_COOKIE);
      if (!binding || !COOKIE_VALUE.test(binding)) binding = newSecret();
      await pool.query(
        `INSERT INTO auth_login_states (state, binding_hash, idp, nonce, code_verifier, return_to, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))`,
        [state, sha256(binding), idp, nonce, codeVerifier, returnTo, LOGIN_STATE_SECONDS],
      );
      setCookie(c, LOGIN_BINDING_COOKIE, binding, { ...cookieBase, path: '/auth', maxAge: LOGIN_STATE_SECONDS });
      const url = oidc.buildAuthorizationUrl(rp, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      c.header('Cache-Control', 'no-store');
      return c.redirect(url.href, 302);
    });

    app.get('/auth/callback', async (c) => {
      c.header('Cache-Control', 'no-store');
      const search = new URL(c.req.url).search;
      const params = new URLSearchParams(search);
      // The state is ours (base64url); anything else is not a sign-in of ours, and never reaches the database.
      const rawState = params.get('state');
      const state = rawState && /^[A-Za-z0-9_-]{1,128}$/.test(rawState) ? rawState : null;
      const again = { href: '/auth/login', text: 'Sign in again' };
      const { rows } = state
        ? await pool.query<{ binding_hash: Buffer; idp: string; nonce: string; code_verifier: string; return_to: string }>(
            'DELETE FROM auth_login_states WHERE state = $1 AND expires_at > now() RETURNING binding_hash, idp, nonce, code_verifier, return_to',
            [state],
          )
        : { rows: [] };
      const pending = rows[0];
      const binding = getCookie(c, LOGIN_BINDING_COOKIE);
      if (!pending || !binding || !timingSafeEqual(sha256(binding), pending.binding_hash)) {
        return c.html(messagePage('Sign-in expired', 'This sign-in has expired or was started in another browser.', again), 400);
      }
      const retry = { href: `/auth/login?${new URLSearchParams({ returnTo: pending.return_to, ...(pending.idp === INTERNAL_IDP ? {} : { idp: pending.idp }) })}`, text: 'Try again' };
      if (params.get('error')) {
        return c.html(messagePage('Sign-in cancelled', params.get('error_description') ?? params.get('error')!, retry), 401);
      }
      let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
      let rp: oidc.Configuration;
      try {
        rp = await rpConfig(pending.idp);
        tokens = await oidc.authorizationCodeGrant(rp, new URL(`${redirectUri}${search}`), {
          pkceCodeVerifier: pending.code_verifier,
          expectedState: state!,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        log.warn({ err, idp: pending.idp }, 'authorization code exchange failed');
        return c.html(messagePage('Sign-in failed', 'The identity provider did not confirm the sign-in.', retry), 502);
      }
      const claims = tokens.claims()!;
      let user: AuthUser | undefined;
      if (pending.idp === INTERNAL_IDP) {
        const row = await users.byId(claims.sub);
        user = row && toAuthUser(row);
      } else {
        let info: Record<string, unknown> = { ...claims };
        if ((typeof info.email !== 'string' || info.email_verified === undefined) && rp.serverMetadata().userinfo_endpoint) {
          try {
            info = { ...info, ...(await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub)) };
          } catch (err) {
            log.warn({ err, idp: pending.idp }, 'userinfo request failed');
          }
        }
        const email = typeof info.email === 'string' ? info.email.trim() : '';
        if (!z.email().safeParse(email).success) {
          return c.html(messagePage('Sign-in failed', 'The identity provider did not share an email address.', retry), 400);
        }
        const name = [info.name, info.preferred_username, email.split('@')[0]].find((v): v is string => typeof v === 'string' && v.trim() !== '')!;
        try {
          const row = await users.findOrCreateExternal({
            issuer: claims.iss,
            subject: claims.sub,
            email,
            emailVerified: info.email_verified === true || info.email_verified === 'true',
            displayName: name.trim().slice(0, 100),
          });
          user = toAuthUser(row);
        } catch (err) {
          if (!(err instanceof DuplicateEmailError)) throw err;
          return c.html(messagePage('Account exists', 'An account with this email address exists already. Sign in with it first.', { href: '/auth/login', text: 'Sign in' }), 409);
        }
      }
      if (!user) return c.html(messagePage('Sign-in failed', 'This account no longer exists.', retry), 401);
      await startSession(c, user.id, pending.idp, tokens.refresh_token ?? null);
      return c.redirect(pending.return_to, 302);
    });

    app.on('POST', '/auth/register', rateLimit(registerLimiter, (c) => clientIp(c)));
    api.route(
      { method: 'post', path: '/auth/register', tag: 'auth', summary: 'Create an account (email and password)', auth: 'none', body: RegisterBody, response: UserOut, status: 201, errors: [409, 429] },
      async ({ body }) => {
        const passwordHash = await hashPassword(body.password);
        try {
          const user = await users.create({ email: body.email.trim(), displayName: body.displayName, passwordHash, timeZone: body.timeZone });
          return toAuthUser(user);
        } catch (err) {
          if (err instanceof DuplicateEmailError) throw conflict(err.message);
          throw err;
        }
      },
    );

    api.route(
      { method: 'post', path: '/auth/logout', tag: 'auth', summary: 'Sign out: ends the session and revokes its refresh token', auth: 'none', status: 204 },
      async (_input, c) => {
        const sid = getCookie(c, SESSION_COOKIE);
        if (sid && COOKIE_VALUE.test(sid)) await endSession(sha256(sid));
        deleteCookie(c, SESSION_COOKIE, { ...cookieBase, path: '/' });
        // Also end this browser's session at the internal IdP, so that the next sign-in asks for the password.
        const idpSession = getCookie(c, IDP_SESSION_COOKIE);
        if (idpSession) await pool.query(`DELETE FROM oidc_payloads WHERE model = 'Session' AND id = $1`, [idpSession]);
        return undefined;
      },
    );

    api.route({ method: 'get', path: '/auth/me', tag: 'auth', summary: 'The signed-in user', auth: 'user', response: UserOut }, ({ user }) => user);
  }

  await current(); // fails early if the keys cannot be loaded

  return {
    authenticate,
    startSession,
    mount,
    issuer,
    apiAudience,
    async reloadKeys() {
      await current(true);
    },
    async close() {
      clearInterval(purge);
      await refreshing?.catch(() => {});
    },
  };
}
