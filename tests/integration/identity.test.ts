/**
 * Identity end to end: the internal OpenID Provider, the relying-party routes, bearer tokens, an external IdP (a
 * second oidc-provider), rate limits and key rotation. Real PostgreSQL, real HTTP on 127.0.0.1, fetch with a cookie
 * jar and redirects followed by hand, as a browser would.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import * as jose from 'jose';
import Provider from 'oidc-provider';
import * as oidc from 'openid-client';
import pg from 'pg';
import pino from 'pino';
import { z } from 'zod';
import { ControlConfig, type ExternalIdp } from '../../control/src/config.js';
import { migrate } from '../../control/src/db/migrate.js';
import { Api } from '../../control/src/http/api.js';
import type { AppEnv } from '../../control/src/http/context.js';
import { HttpError, errorResponse } from '../../control/src/http/errors.js';
import { CLI_CLIENT_ID, LOGIN_BURST, REGISTER_BURST, createIdentity, type Identity, type IdentityDeps } from '../../control/src/identity/index.js';
import { KeyStore } from '../../control/src/keys.js';
import { dropDatabase, freshDatabase, postgres, type PostgresService } from '../helpers/services.js';
import { Browser, register, type Page } from '../helpers/http-browser.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

// ---------------------------------------------------------------------------------------------------------------
// HTTP servers on free ports; the handler is set once the port (and so the public URL) is known.

interface Served {
  base: string;
  setHandler(h: http.RequestListener): void;
  close(): Promise<void>;
}

async function listen(port = 0): Promise<Served> {
  let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${bound}`,
    setHandler: (h) => (handler = h),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Control {
  base: string;
  identity: Identity;
  api: Api;
  close(): Promise<void>;
}

/** The control-plane pieces identity needs: a Hono app with identity mounted and a protected `/whoami`. */
/**
 * The tests' own rate limits: registrations and logins are never the limit here (this file registers more accounts
 * than one IP may in an hour), except in the rate-limit test, which passes the product's limits with a frozen clock.
 */
const ROOMY: NonNullable<IdentityDeps['limits']> = { register: { burst: 10_000, perSecond: 100 }, login: { burst: 10_000, perSecond: 100 } };

async function startControl(pool: pg.Pool, externalIdps: ExternalIdp[] = [], port = 0, limits = ROOMY): Promise<Control> {
  const served = await listen(port);
  const config = ControlConfig.parse({ publicUrl: served.base, externalIdps });
  const identity = await createIdentity({ pool, config, log, keys: new KeyStore(pool, 'oidc'), limits });
  const app = new Hono<AppEnv>();
  app.onError((err, c) => {
    if (err instanceof HttpError) return errorResponse(c, err);
    log.error({ err }, 'request failed');
    return errorResponse(c, new HttpError(500, 'internal', String(err)));
  });
  app.use('*', identity.authenticate);
  const api = new Api(app);
  identity.mount(app, api);
  api.route(
    { method: 'get', path: '/whoami', tag: 'test', summary: 'who is calling', auth: 'user', response: z.object({ id: z.string(), email: z.string(), displayName: z.string() }) },
    ({ user }) => user,
  );
  served.setHandler(getRequestListener(app.fetch));
  return {
    base: served.base,
    identity,
    api,
    close: async () => {
      await served.close();
      await identity.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// A tiny browser: cookie jar (name, path, expiry; host-only cookies on 127.0.0.1 ports are all one host, as in
// browsers) and manual redirects.

/** Browser sign-in through /auth/login; returns where it ended. */
async function webSignIn(control: Control, b: Browser, email: string, password: string, query = 'returnTo=/whoami') {
  const page = await b.follow(`${control.base}/auth/login?${query}`);
  assert.equal(page.res.status, 200, `login page expected, got ${page.res.status} at ${page.url}`);
  assert.match(page.url, /\/auth\/interaction\/[^/]+$/);
  return b.submitLogin(page, email, password);
}

const bearer = (base: string, token: string, path = '/whoami') => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });

// ---------------------------------------------------------------------------------------------------------------
// The CLI: public client `meshmeet-cli`, authorization code + PKCE, loopback redirect.

const LOOPBACK = 'http://127.0.0.1:53682/callback';

async function cliConfig(control: Control): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(control.identity.issuer), CLI_CLIENT_ID, { id_token_signed_response_alg: 'ES256' }, oidc.None(), { execute: [oidc.allowInsecureRequests] });
}

async function cliTokens(control: Control, cfg: oidc.Configuration, email: string, password: string, b = new Browser()) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(cfg, {
    redirect_uri: LOOPBACK,
    scope: 'openid offline_access api',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
  });
  const atLoopback = (l: string) => l.startsWith(LOOPBACK);
  let end = await b.follow(url.href, {}, atLoopback);
  if (!atLoopback(end.url)) {
    assert.equal(end.res.status, 200);
    end = await b.submitLogin(end, email, password, atLoopback);
  }
  assert.ok(atLoopback(end.url), `expected the loopback redirect, ended at ${end.url}`);
  return oidc.authorizationCodeGrant(cfg, new URL(end.url), { pkceCodeVerifier: codeVerifier, expectedState: state });
}

// ---------------------------------------------------------------------------------------------------------------

let pgService: PostgresService;
let dbUrl: string;
let pool: pg.Pool;
let control: Control;
const closers: Array<() => Promise<void>> = [];

// The external IdP: a plain oidc-provider with static accounts; it signs in `externalAccount` without a form.
let externalAccount = 'ext-alice';
const EXTERNAL_ACCOUNTS: Record<string, { email: string; email_verified: boolean; name: string }> = {
  'ext-alice': { email: 'alice@external.test', email_verified: true, name: 'Alice External' },
  'ext-bob': { email: 'bob@example.test', email_verified: true, name: 'Bob via External' },
  'ext-mallory': { email: 'carol@example.test', email_verified: false, name: 'Not Carol' },
};
let externalIssuer: string;

async function startExternalIdp(served: Served, redirectUri: string): Promise<void> {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(served.base, {
    clients: [{ client_id: 'meshmeet', client_secret: 'external-secret', redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] }],
    jwks: { keys: [{ ...(await jose.exportJWK(privateKey)), kid: 'ext-1', alg: 'RS256', use: 'sig' } as never] },
    cookies: { keys: ['external-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
    findAccount: (_ctx, sub) => {
      const a = EXTERNAL_ACCOUNTS[sub];
      return a ? { accountId: sub, claims: () => ({ sub, ...a }) } : undefined;
    },
  });
  const callback = provider.callback();
  served.setHandler(async (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      return provider.interactionFinished(req, res, { login: { accountId: externalAccount } }, { mergeWithLastSubmission: false });
    }
    const grant = new provider.Grant({ accountId: details.session!.accountId!, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  });
  externalIssuer = served.base;
}

before(async () => {
  pgService = await postgres();
  dbUrl = await freshDatabase(pgService.url);
  pool = new pg.Pool({ connectionString: dbUrl, max: 8 });
  await migrate(pool);

  // The control plane must know the external issuer and the external IdP the control plane's redirect URI: both
  // servers listen first, then are configured.
  const external = await listen();
  closers.push(external.close);
  control = await startControl(pool, [{ name: 'ext', issuer: external.base, clientId: 'meshmeet', clientSecret: 'external-secret' }]);
  closers.push(control.close);
  await startExternalIdp(external, `${control.base}/auth/callback`);
});

after(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await pool?.end();
  if (dbUrl) await dropDatabase(dbUrl);
  await pgService?.stop();
});

// ---------------------------------------------------------------------------------------------------------------

test('browser: register, sign in through the internal IdP, session cookie, /auth/me and a protected route, logout', async () => {
  const email = 'Alice@Example.test';
  const reg = await register(control.base, { email, password: 'correct horse battery', displayName: 'Alice', timeZone: 'Europe/Berlin' });
  assert.equal(reg.status, 201);
  const alice = (await reg.json()) as { id: string; email: string; displayName: string };
  assert.deepEqual(Object.keys(alice).sort(), ['displayName', 'email', 'id']);
  assert.equal(alice.displayName, 'Alice');

  assert.equal((await register(control.base, { email: 'alice@example.TEST', password: 'another password', displayName: 'A2' })).status, 409);
  const short = await register(control.base, { email: 'short@example.test', password: 'too short', displayName: 'S' });
  assert.equal(short.status, 400);
  assert.equal(((await short.json()) as { error: { field: string } }).error.field, 'password');
  assert.equal((await register(control.base, { email: 'tz@example.test', password: 'long enough pw', displayName: 'T', timeZone: 'Mars/Base' })).status, 400);

  const b = new Browser();
  assert.equal((await b.fetch(`${control.base}/auth/me`)).status, 401);

  // A wrong password re-shows the form with 401 and no session.
  const page = await b.follow(`${control.base}/auth/login?returnTo=/whoami`);
  assert.equal(page.res.status, 200);
  const wrong = await b.submitLogin(page, email, 'wrong password!');
  assert.equal(wrong.res.status, 401);
  assert.match(wrong.text, /Wrong email or password/);

  const signedIn = await b.submitLogin(wrong, email, 'correct horse battery');
  assert.equal(signedIn.res.status, 200, `ended at ${signedIn.url}`);
  assert.equal(signedIn.url, `${control.base}/whoami`);
  assert.deepEqual(await signedIn.res.json(), alice);
  // The trail went through the internal IdP's consent page (auto-granted: a redirect, no form) and the callback.
  assert.ok(signedIn.trail.some((u) => /\/auth\/interaction\/[^/]+$/.test(u)), signedIn.trail.join('\n'));
  assert.ok(signedIn.trail.some((u) => u.startsWith(`${control.base}/auth/callback?`)));

  const sessionCookie = b.setCookies.find((c) => c.startsWith('mm_session='))!;
  assert.match(sessionCookie, /HttpOnly/i);
  assert.match(sessionCookie, /SameSite=Lax/i);
  assert.match(sessionCookie, /Path=\/(;|$)/);
  assert.doesNotMatch(sessionCookie, /Secure/i); // secureCookies is off here
  // Tokens stay on the server: no JWT or refresh token in anything the browser received.
  const { rows: [session] } = await pool.query<{ refresh_token: string }>('SELECT refresh_token FROM web_sessions WHERE user_id = $1', [alice.id]);
  assert.ok(session?.refresh_token, 'the web session keeps a refresh token');
  for (const text of [...b.bodies, ...b.setCookies]) {
    assert.ok(!text.includes(session.refresh_token), 'refresh token leaked to the browser');
    assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]+\.eyJ/, 'a JWT reached the browser');
  }
  // The cookie value is not stored as such.
  const { rows: raw } = await pool.query('SELECT 1 FROM web_sessions WHERE id_hash = $1', [Buffer.from(b.cookie('mm_session')!)]);
  assert.equal(raw.length, 0);

  const me = await b.fetch(`${control.base}/auth/me`);
  assert.equal(me.status, 200);
  assert.deepEqual(await me.json(), alice);
  assert.equal((await b.fetch(`${control.base}/whoami`)).status, 200);

  // The JSON routes are in the OpenAPI document.
  const doc = control.api.openapi({ title: 't', version: '1' }) as { paths: Record<string, Record<string, unknown>> };
  assert.ok(doc.paths['/auth/register']?.post && doc.paths['/auth/me']?.get && doc.paths['/auth/logout']?.post);

  const rtRow = `SELECT 1 FROM oidc_payloads WHERE model = 'RefreshToken' AND id = $1`;
  assert.equal((await pool.query(rtRow, [session.refresh_token])).rows.length, 1, 'the refresh token is in the IdP store');
  const out = await b.fetch(`${control.base}/auth/logout`, { method: 'POST' });
  assert.equal(out.status, 204);
  assert.match(b.setCookies.at(-2)! + b.setCookies.at(-1)!, /mm_session=;/);
  assert.equal((await b.fetch(`${control.base}/auth/me`)).status, 401);
  assert.equal((await b.fetch(`${control.base}/whoami`)).status, 401);
  const { rows: left } = await pool.query('SELECT 1 FROM web_sessions WHERE user_id = $1', [alice.id]);
  assert.equal(left.length, 0);
  // Logout revoked the refresh token at the IdP (its grant is gone with all its tokens).
  assert.equal((await pool.query(rtRow, [session.refresh_token])).rows.length, 0);
  // And ended the IdP's own session: the next sign-in asks for the password again.
  const again = await b.follow(`${control.base}/auth/login`);
  assert.equal(again.res.status, 200);
  assert.match(again.text, /name="password"/);

  // A forged session cookie is no session.
  const forged = await fetch(`${control.base}/auth/me`, { headers: { cookie: `mm_session=${'A'.repeat(43)}` } });
  assert.equal(forged.status, 401);
});

test('returnTo: same-origin paths only; callbacks only in the browser that started the sign-in', async () => {
  assert.equal((await register(control.base, { email: 'rt@example.test', password: 'return to sender', displayName: 'RT' })).status, 201);
  for (const [returnTo, expected] of [['//evil.example/x', '/'], ['https://evil.example/', '/'], ['/\\evil.example', '/'], ['/meetings/42?tab=chat', '/meetings/42?tab=chat']] as const) {
    const b = new Browser();
    const end = await webSignIn(control, b, 'rt@example.test', 'return to sender', `returnTo=${encodeURIComponent(returnTo)}`);
    const last = end.trail.at(-1)!;
    assert.equal(last, `${control.base}${expected}`, `returnTo ${returnTo}`);
  }

  // A callback URL carried to another browser (no mm_auth binding cookie) does not sign that browser in.
  const victim = new Browser();
  const attacker = new Browser();
  const page = await attacker.follow(`${control.base}/auth/login`);
  const cb = await attacker.submitLogin(page, 'rt@example.test', 'return to sender', (l) => l.includes('/auth/callback?'));
  const res = await victim.fetch(cb.url);
  assert.equal(res.status, 400);
  assert.equal(victim.cookie('mm_session'), undefined);
  // An unknown idp is a 400.
  assert.equal((await fetch(`${control.base}/auth/login?idp=nope`, { redirect: 'manual' })).status, 400);
});

test('bearer: meshmeet-cli tokens by code + PKCE, refresh rotation, revocation, expiry, audience, garbage', async () => {
  const email = 'cli@example.test';
  const password = 'command line only';
  const reg = await register(control.base, { email, password, displayName: 'Cli User' });
  assert.equal(reg.status, 201);
  const user = (await reg.json()) as { id: string };
  const cfg = await cliConfig(control);

  const t1 = await cliTokens(control, cfg, email, password);
  assert.ok(t1.access_token && t1.refresh_token && t1.id_token);
  const r1 = await bearer(control.base, t1.access_token);
  assert.equal(r1.status, 200);
  assert.equal(((await r1.json()) as { id: string }).id, user.id);
  const claims = jose.decodeJwt(t1.access_token);
  assert.equal(claims.aud, control.identity.apiAudience);
  assert.equal(claims.iss, control.identity.issuer);
  assert.equal(jose.decodeProtectedHeader(t1.access_token).typ, 'at+jwt');

  // Refresh rotates: a new refresh token; the old one is refused afterwards (and its reuse revokes the chain).
  const t2 = await oidc.refreshTokenGrant(cfg, t1.refresh_token!);
  assert.ok(t2.refresh_token && t2.refresh_token !== t1.refresh_token);
  assert.equal((await bearer(control.base, t2.access_token)).status, 200);
  await assert.rejects(oidc.refreshTokenGrant(cfg, t1.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');
  assert.equal((await bearer(control.base, t2.access_token)).status, 401, 'reuse of a rotated refresh token revokes the grant');
  await assert.rejects(oidc.refreshTokenGrant(cfg, t2.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');

  // Revocation of a refresh token: it and the access tokens of its grant stop working.
  const t3 = await cliTokens(control, cfg, email, password);
  assert.equal((await bearer(control.base, t3.access_token)).status, 200);
  await oidc.tokenRevocation(cfg, t3.refresh_token!, { token_type_hint: 'refresh_token' });
  const revoked = await bearer(control.base, t3.access_token);
  assert.equal(revoked.status, 401);
  assert.equal(((await revoked.json()) as { error: { code: string } }).error.code, 'invalid_token');
  assert.match(revoked.headers.get('www-authenticate') ?? '', /invalid_token/);
  await assert.rejects(oidc.refreshTokenGrant(cfg, t3.refresh_token!), (err: oidc.ResponseBodyError) => err.error === 'invalid_grant');

  // Expired, or for another audience: the same claims of a live token, signed with the IdP's real key.
  const t4 = await cliTokens(control, cfg, email, password);
  const live = jose.decodeJwt(t4.access_token);
  const { kid, key } = await new KeyStore(pool, 'oidc').current();
  const resign = (changes: jose.JWTPayload) => new jose.SignJWT({ ...live, ...changes }).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(key);
  assert.equal((await bearer(control.base, await resign({}))).status, 200, 'the re-signed token itself is fine');
  const now = Math.floor(Date.now() / 1000);
  const expired = await bearer(control.base, await resign({ iat: now - 3600, exp: now - 60 }));
  assert.equal(expired.status, 401);
  assert.match(expired.headers.get('www-authenticate') ?? '', /expired/);
  assert.equal((await bearer(control.base, await resign({ aud: 'https://other.example/api' }))).status, 401);
  assert.equal((await bearer(control.base, await resign({ scope: 'openid' }))).status, 401, 'no api scope');
  // Signed by a key that is not the IdP's.
  const foreign = await jose.generateKeyPair('ES256');
  assert.equal((await bearer(control.base, await new jose.SignJWT(live).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(foreign.privateKey))).status, 401);
  // An ID token is not an access token.
  assert.equal((await bearer(control.base, t4.id_token!)).status, 401);
  // Garbage.
  for (const value of ['Bearer garbage', 'Bearer a.b.c', 'Bearer ', 'bearer !!!']) {
    const res = await fetch(`${control.base}/whoami`, { headers: { authorization: value } });
    assert.equal(res.status, 401, value);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_token');
  }
  // No credential at all on a public route is simply anonymous.
  assert.equal((await fetch(`${control.base}/auth/me`)).status, 401);
});

test('external IdP: sign-in creates and links a user; the next sign-in reuses it; verified email links', async () => {
  externalAccount = 'ext-alice';
  const first = await new Browser().follow(`${control.base}/auth/login?idp=ext&returnTo=/auth/me`);
  assert.equal(first.res.status, 200, `ended at ${first.url}`);
  assert.ok(first.trail.some((u) => u.startsWith(externalIssuer)), 'went through the external issuer');
  const u1 = (await first.res.json()) as { id: string; email: string; displayName: string };
  assert.equal(u1.email, 'alice@external.test');
  assert.equal(u1.displayName, 'Alice External');
  const { rows: links } = await pool.query('SELECT issuer, subject, user_id FROM external_identities WHERE user_id = $1', [u1.id]);
  assert.deepEqual(links, [{ issuer: externalIssuer, subject: 'ext-alice', user_id: u1.id }]);
  const { rows: hash } = await pool.query('SELECT password_hash FROM users WHERE id = $1', [u1.id]);
  assert.equal(hash[0].password_hash, null);

  const second = await new Browser().follow(`${control.base}/auth/login?idp=ext&returnTo=/auth/me`);
  assert.equal(((await second.res.json()) as { id: string }).id, u1.id);
  const { rows: count } = await pool.query(`SELECT count(*)::int AS n FROM users WHERE lower(email) = 'alice@external.test'`);
  assert.equal(count[0].n, 1);

  // A verified external email that matches an existing account links to it.
  const bobReg = await register(control.base, { email: 'bob@example.test', password: 'bob has a password', displayName: 'Bob' });
  assert.equal(bobReg.status, 201);
  const bob = (await bobReg.json()) as { id: string };
  externalAccount = 'ext-bob';
  const viaExt = await new Browser().follow(`${control.base}/auth/login?idp=ext&returnTo=/auth/me`);
  assert.equal(((await viaExt.res.json()) as { id: string }).id, bob.id);

  // An unverified one that matches is refused, not linked.
  assert.equal((await register(control.base, { email: 'carol@example.test', password: 'carol has a password', displayName: 'Carol' })).status, 201);
  externalAccount = 'ext-mallory';
  const refused = await new Browser().follow(`${control.base}/auth/login?idp=ext&returnTo=/auth/me`);
  assert.equal(refused.res.status, 409);
  const { rows: mallory } = await pool.query(`SELECT 1 FROM external_identities WHERE subject = 'ext-mallory'`);
  assert.equal(mallory.length, 0);
});

test('rate limits: the registration after the burst gets 429, and so does a login post beyond the burst', async () => {
  // A second instance on the same database with the product's limits (it also shows that instances share the IdP's
  // secrets), on a clock that does not move: no token refills, however slowly this machine runs the loop.
  const frozen = () => 1_000_000;
  const other = await startControl(pool, [], 0, {
    register: { burst: REGISTER_BURST, perSecond: 10 / 3600, clock: frozen },
    login: { burst: LOGIN_BURST, perSecond: 1 / 3, clock: frozen },
  });
  closers.push(other.close);
  for (let i = 1; i <= REGISTER_BURST; i++) {
    const res = await register(other.base, { email: `rl${i}@example.test`, password: 'rate limited pw', displayName: `RL ${i}` });
    assert.equal(res.status, 201, `registration ${i}`);
  }
  const over = await register(other.base, { email: 'rl-over@example.test', password: 'rate limited pw', displayName: 'RL over' });
  assert.equal(over.status, 429);
  assert.equal(over.headers.get('retry-after'), '360', 'one registration per 6 minutes after the burst');
  assert.equal(((await over.json()) as { error: { code: string } }).error.code, 'rate_limited');

  const post = () => fetch(`${other.base}/auth/interaction/nope/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%40b.c&password=x' });
  for (let i = 1; i <= LOGIN_BURST; i++) assert.equal((await post()).status, 400, `login post ${i}`);
  const limited = await post();
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('retry-after'), '3', 'one login post per 3 s after the burst');
});

test('key rotation: tokens signed before still verify; new tokens use the new key; sign-in keeps working', async () => {
  const email = 'rotate@example.test';
  const password = 'rotation rotation';
  assert.equal((await register(control.base, { email, password, displayName: 'Rot' })).status, 201);
  const cfg = await cliConfig(control);
  const before = await cliTokens(control, cfg, email, password);
  const oldKid = jose.decodeProtectedHeader(before.access_token).kid;

  const newKid = await new KeyStore(pool, 'oidc').rotate();
  await control.identity.reloadKeys();
  assert.notEqual(newKid, oldKid);

  assert.equal((await bearer(control.base, before.access_token)).status, 200, 'token signed before the rotation');
  const jwks = (await (await fetch(`${control.identity.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
  assert.deepEqual(new Set(jwks.keys.map((k) => k.kid)), new Set([newKid, oldKid]));

  const after = await oidc.refreshTokenGrant(cfg, before.refresh_token!);
  assert.equal(jose.decodeProtectedHeader(after.access_token).kid, newKid);
  assert.equal(jose.decodeProtectedHeader(after.id_token!).kid, newKid);
  assert.equal((await bearer(control.base, after.access_token)).status, 200);

  // The web sign-in (its ID token now signed by the new key) still works.
  const b = new Browser();
  const end = await webSignIn(control, b, email, password);
  assert.equal(end.res.status, 200);
  assert.equal(((await end.res.json()) as { email: string }).email, email);
});

test('restart: web sessions, refresh tokens and access tokens survive a new control plane on the same URL', async () => {
  const email = 'restart@example.test';
  const password = 'survives restarts';
  assert.equal((await register(control.base, { email, password, displayName: 'Restart' })).status, 201);
  const b = new Browser();
  assert.equal((await webSignIn(control, b, email, password)).res.status, 200);
  const cfg = await cliConfig(control);
  const tokens = await cliTokens(control, cfg, email, password);
  // A sign-in left half-way (login page shown) before the restart.
  const half = new Browser();
  const page = await half.follow(`${control.base}/auth/login?returnTo=/auth/me`);
  assert.equal(page.res.status, 200);

  const port = Number(new URL(control.base).port);
  await control.close();
  control = await startControl(pool, [], port);
  closers.push(control.close);

  assert.equal((await b.fetch(`${control.base}/auth/me`)).status, 200);
  assert.equal((await bearer(control.base, tokens.access_token)).status, 200);
  const refreshed = await oidc.refreshTokenGrant(cfg, tokens.refresh_token!);
  assert.equal((await bearer(control.base, refreshed.access_token)).status, 200);
  const finished = await half.submitLogin(page, email, password);
  assert.equal(finished.res.status, 200);
  assert.equal(((await finished.res.json()) as { email: string }).email, email);
});
