/**
 * The defects a security probe found (issue 6), each as a test against the real system (tests/helpers/system.ts:
 * real PostgreSQL, a real edge node trusting the control plane's JWKS; users sign in through the real OIDC flow).
 * Each test failed before its fix.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';
import { Browser, register, signedIn } from '../helpers/http-browser.js';
import { startSystem, type TestSystem } from '../helpers/system.js';
import { closed, joinAs } from '../helpers/ws-client.js';

let system: TestSystem;
let base: string;
const users: Record<string, Browser> = {};
const ids: Record<string, string> = {};
const emails: Record<string, string> = {};

async function json(b: Browser, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await b.fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

/** A new meeting of `owner` with these invitees (name -> role) and settings. */
async function meeting(owner: string, invitees: Record<string, string>, settings: Record<string, unknown> = {}): Promise<string> {
  const r = await json(users[owner]!, 'POST', '/meetings', {
    kind: 'instant', title: 'security', settings,
    invitees: Object.entries(invitees).map(([name, role]) => ({ email: emails[name], role })),
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

/** Reconnects with `token`: how the node closed the socket, or 'still open' if it let it in (bounded wait). */
async function reconnect(meetingId: string, token: string): Promise<{ code: number; reason: string } | 'still open'> {
  const ws = new WebSocket(`${system.edge.wsUrl}/ws/${meetingId}?token=${token}`);
  let timer: NodeJS.Timeout | undefined;
  const open = new Promise<'still open'>((resolve) => (timer = setTimeout(() => resolve('still open'), 10_000)));
  const r = await Promise.race([closed(ws), open]);
  clearTimeout(timer);
  ws.terminate();
  return r;
}

describe('security defects (issue 6)', { timeout: 300_000 }, () => {
  before(async () => {
    // Many joins from one address in this file: the join rate limit has its own test (control-api).
    system = await startSystem({ control: { joinRateBurst: 100_000, joinRatePerSecond: 1000 } });
    base = system.controlUrl;
    for (const name of ['hana', 'cora', 'dave', 'erin', 'finn', 'olga']) {
      emails[name] = `${name}@example.test`;
      users[name] = await signedIn(base, emails[name]!, `${name}-password-12`, name[0]!.toUpperCase() + name.slice(1));
      ids[name] = (await json(users[name]!, 'GET', '/users/me')).body.id;
    }
  });
  after(async () => system?.stop());

  test('defect 1: removed through the control plane, the old join token is refused by the edge (4410); after end, 4411', async () => {
    const m = await meeting('hana', { erin: 'participant', finn: 'participant' });
    const host = await json(users.hana!, 'POST', `/meetings/${m}/join`, {});
    const hostClient = await joinAs(system.edge.wsUrl, m, host.body.token);
    const erin = await json(users.erin!, 'POST', `/meetings/${m}/join`, {});
    const finn = await json(users.finn!, 'POST', `/meetings/${m}/join`, {});
    const erinClient = await joinAs(system.edge.wsUrl, m, erin.body.token);
    const gone = new Promise<{ code: number }>((resolve) => erinClient.onClose(resolve));
    assert.deepEqual((await json(users.hana!, 'POST', `/meetings/${m}/controls`, { action: 'remove', participantId: ids.erin })).body, { action: 'remove', affected: 1 });
    assert.equal((await gone).code, CloseCodes.removed);
    assert.deepEqual(await reconnect(m, erin.body.token), { code: CloseCodes.removed, reason: 'you were removed from this meeting' });
    // End: finn never connected, yet his (still valid) token does not open a fresh room afterwards.
    assert.equal((await json(users.hana!, 'POST', `/meetings/${m}/controls`, { action: 'end' })).status, 200);
    hostClient.close();
    assert.deepEqual(await reconnect(m, finn.body.token), { code: CloseCodes.meetingEnded, reason: 'the meeting has ended' });
    assert.deepEqual(await reconnect(m, host.body.token), { code: CloseCodes.meetingEnded, reason: 'the meeting has ended' });
  });

  test('defect 4: a co-host cannot appoint, demote or uninvite co-hosts through the invitee API', async () => {
    const m = await meeting('hana', { cora: 'cohost', dave: 'cohost', erin: 'participant' });
    const cora = users.cora!;
    const role = async (name: string) =>
      (await json(users.hana!, 'GET', `/meetings/${m}/invitees`)).body.invitees.find((i: { userId: string }) => i.userId === ids[name])?.role;
    const appoint = await json(cora, 'POST', `/meetings/${m}/invitees`, { email: emails.erin, role: 'cohost' });
    assert.equal(appoint.status, 403, 'appointing a co-host');
    assert.equal(await role('erin'), 'participant');
    assert.equal((await json(cora, 'POST', `/meetings/${m}/invitees`, { email: emails.finn, role: 'cohost' })).status, 403, 'inviting a new co-host');
    assert.equal((await json(cora, 'POST', `/meetings/${m}/invitees`, { email: emails.dave, role: 'attendee' })).status, 403, 'demoting a co-host');
    assert.equal(await role('dave'), 'cohost');
    assert.equal((await json(cora, 'DELETE', `/meetings/${m}/invitees/${ids.dave}`)).status, 403, 'withdrawing a co-host\'s invitation');
    assert.equal((await json(cora, 'DELETE', `/meetings/${m}/invitees/${ids.hana}`)).status, 403, 'the host');
    assert.equal(await role('dave'), 'cohost');
    // What co-hosts may do still works; and hosts may do all of it.
    assert.equal((await json(cora, 'POST', `/meetings/${m}/invitees`, { email: emails.finn, role: 'attendee' })).status, 204);
    assert.equal((await json(cora, 'DELETE', `/meetings/${m}/invitees/${ids.finn}`)).status, 204);
    assert.equal((await json(users.hana!, 'POST', `/meetings/${m}/invitees`, { email: emails.erin, role: 'cohost' })).status, 204);
    assert.equal((await json(users.hana!, 'DELETE', `/meetings/${m}/invitees/${ids.dave}`)).status, 204);
    // A co-host appointed during the meeting (makeCohost) is protected the same way.
    const n = await meeting('hana', { cora: 'cohost', olga: 'participant' }, { access: 'link' });
    await json(users.olga!, 'POST', `/meetings/${n}/join`, {});
    await json(users.hana!, 'POST', `/meetings/${n}/join`, {});
    assert.equal((await json(users.hana!, 'POST', `/meetings/${n}/controls`, { action: 'makeCohost', participantId: ids.olga })).status, 200);
    assert.equal((await json(cora, 'POST', `/meetings/${n}/invitees`, { email: emails.olga, role: 'attendee' })).status, 403);
  });

  test('defect 5: cookie writes need application/json and a same-origin request', async () => {
    const hana = users.hana!;
    const body = JSON.stringify({ kind: 'instant', title: 'csrf' });
    const plain = await json(hana, 'POST', '/meetings', body, { 'content-type': 'text/plain' });
    assert.equal(plain.status, 415);
    assert.equal(plain.body.error.field, 'body');
    assert.equal((await json(hana, 'POST', '/meetings', body, { 'content-type': 'application/x-www-form-urlencoded' })).status, 415);
    // A page on a sibling origin of the same site (the edge node's, say) with the user's cookie.
    const sibling = await json(hana, 'POST', '/meetings', { kind: 'instant', title: 'csrf' }, { origin: system.edgeUrl, 'sec-fetch-site': 'same-site' });
    assert.equal(sibling.status, 403);
    assert.equal(sibling.body.error.code, 'cross_origin');
    assert.equal((await json(hana, 'POST', '/meetings', { kind: 'instant', title: 'csrf' }, { origin: 'https://evil.example' })).status, 403);
    assert.equal((await json(hana, 'POST', '/meetings', { kind: 'instant', title: 'csrf' }, { 'sec-fetch-site': 'cross-site' })).status, 403);
    const m = await meeting('hana', {});
    assert.equal((await json(hana, 'DELETE', `/meetings/${m}`, undefined, { origin: system.edgeUrl })).status, 403);
    assert.equal((await json(hana, 'PATCH', `/meetings/${m}`, { title: 'x' }, { origin: 'null' })).status, 403);
    assert.equal((await json(hana, 'POST', '/auth/logout', undefined, { origin: 'https://evil.example' })).status, 403);
    // The app's own requests pass.
    const own = await json(hana, 'POST', '/meetings', { kind: 'instant', title: 'ok' }, { origin: base, 'sec-fetch-site': 'same-origin' });
    assert.equal(own.status, 201);
    assert.equal((await json(hana, 'GET', '/meetings', undefined, { origin: 'https://evil.example' })).status, 200, 'reads are not writes');
  });

  test('defect 6: bad ids, NUL characters and non-Latin-1 ids are 400s naming the field, never 500', async () => {
    const hana = users.hana!;
    const m = await meeting('hana', { erin: 'participant' });
    const cases: Array<[string, string, unknown, string]> = [
      ['DELETE', `/meetings/${m}/invitees/not-a-uuid`, undefined, 'userId'],
      ['POST', `/meetings/${m}/controls`, { action: 'remove', participantId: 'not-a-uuid' }, 'participantId'],
      ['POST', `/meetings/${m}/controls`, { action: 'admit', participantId: "1' OR '1'='1" }, 'participantId'],
      ['POST', '/meetings', { kind: 'instant', title: 'a\u0000b' }, 'title'],
      ['PATCH', `/meetings/${m}`, { title: '\u0000' }, 'title'],
      ['PATCH', '/users/me', { displayName: 'Ha\u0000na' }, 'displayName'],
      ['GET', '/users/search?q=ha%00', undefined, 'q'],
      ['POST', '/users/me/contacts', { userId: 'nope' }, 'userId'],
      ['DELETE', '/users/me/contacts/nope', undefined, 'userId'],
      ['POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'x\u0000' }, 'body'],
      ['POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'x', recipientId: 'nope' }, 'recipientId'],
      ['GET', `/meetings/${encodeURIComponent('ĀĀ')}/invite.ics`, undefined, 'id'],
      ['GET', `/meetings/${encodeURIComponent('会議')}`, undefined, 'id'],
      ['POST', '/auth/register', { email: 'x@example.test', password: 'long-enough-1', displayName: 'N\u0000' }, 'displayName'],
    ];
    await json(hana, 'POST', `/meetings/${m}/join`, {});
    for (const [method, path, body, field] of cases) {
      const r = await json(hana, method, path, body);
      assert.equal(r.status, 400, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.field, field, `${method} ${path}`);
    }
    // The sign-in callback with a NUL in its state: a sign-in of nobody's, not a server error.
    for (const state of ['%00', 'abc%00def', '%C4%80']) {
      const r = await fetch(`${base}/auth/callback?state=${state}&code=x`);
      assert.equal(r.status, 400, `state=${state}`);
    }
    const login = await users.hana!.follow(`${base}/auth/login?returnTo=/auth/me`, {}, (l) => l.includes('/auth/interaction/'));
    const form = await new Browser().fetch(`${login.url}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'email=a%00b&password=x' });
    assert.ok(form.status < 500, `login form with NUL: ${form.status}`);
  });

  test('defect 3: returnTo with dot segments cannot send the browser off-site after sign-in', async () => {
    await register(base, { email: 'rita@example.test', password: 'rita-password-12', displayName: 'Rita' });
    for (const returnTo of ['/..//evil.com', '/.//evil.com']) {
      const b = new Browser();
      const page = await b.follow(`${base}/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
      const end = await b.submitLogin(page, 'rita@example.test', 'rita-password-12', (l) => !l.startsWith(base));
      assert.ok(end.url.startsWith(`${base}/`), `${returnTo} ended at ${end.url}`);
      assert.equal(new URL(end.url).pathname, '/app/', `${returnTo} ended at ${end.url}`);
    }
  });

  test('defect 7: security headers on the API, the portal, the sign-in pages and the edge page', async () => {
    const pages = [`${base}/app/`, `${base}/meetings`, `${base}/auth/login`, `${base}/openapi.json`, `${base}/no/such/route`, `${base}/join/?meeting=x`];
    for (const url of pages) {
      const r = await fetch(url, { redirect: 'manual' });
      const csp = r.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.match(csp, /script-src 'self'(;|$)/, url);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, url);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', url);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', url);
      assert.equal(r.headers.get('referrer-policy'), 'same-origin', url);
      assert.equal(r.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
    }
    // The sign-in page uses the app's stylesheet: no inline style or script is allowed.
    const b = new Browser();
    const login = await b.follow(`${base}/auth/login`);
    assert.match(login.res.headers.get('content-security-policy') ?? '', /style-src 'self';/);
    for (const url of [`${system.edgeUrl}/`, `${system.edgeUrl}/?meeting=x`, `${system.edgeUrl}/healthz`, `${system.edgeUrl}/app.js`]) {
      const r = await fetch(url);
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, url);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', url);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', url);
    }
  });

  test('defect 8: invitee emails only for hosts and co-hosts', async () => {
    const link = await meeting('hana', { cora: 'cohost', erin: 'attendee' }, { access: 'link' });
    const invited = await meeting('hana', { cora: 'cohost', erin: 'attendee', dave: 'participant' });
    const list = async (who: string, m: string) => (await json(users[who]!, 'GET', `/meetings/${m}/invitees`)).body.invitees as Array<{ email: string | null }>;
    for (const m of [link, invited]) {
      assert.ok((await list('hana', m)).every((i) => i.email?.endsWith('@example.test')), 'host sees emails');
      assert.ok((await list('cora', m)).every((i) => i.email?.endsWith('@example.test')), 'co-host sees emails');
      const seen = await list('erin', m);
      assert.ok(seen.length >= 2 && seen.every((i) => i.email === null), `attendee sees no emails: ${JSON.stringify(seen)}`);
    }
    const outsider = await list('olga', link);
    assert.ok(outsider.length >= 2 && outsider.every((i) => i.email === null), 'a signed-in user with the link sees no emails');
  });

  test('defect 9: chat after the meeting ended is refused (409)', async () => {
    const m = await meeting('hana', { erin: 'participant' });
    await json(users.hana!, 'POST', `/meetings/${m}/join`, {});
    await json(users.erin!, 'POST', `/meetings/${m}/join`, {});
    assert.equal((await json(users.erin!, 'POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'before' })).status, 201);
    assert.equal((await json(users.hana!, 'POST', `/meetings/${m}/controls`, { action: 'end' })).status, 200);
    for (const who of ['erin', 'hana']) {
      const r = await json(users[who]!, 'POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'after' });
      assert.equal(r.status, 409, who);
      assert.equal(r.body.error.code, 'meeting_ended');
    }
    assert.deepEqual((await json(users.erin!, 'GET', `/meetings/${m}/chat`)).body.messages.map((x: { body: string }) => x.body), ['before'], 'history stays readable');
  });

  test('defect 2: guests join by name only where the meeting allows it, under the meeting\'s rules, and reach nothing else', async () => {
    const hana = users.hana!;
    const guestJoin = (b: Browser, m: string, body: Record<string, unknown> = { name: 'Gina Guest' }) => json(b, 'POST', `/meetings/${m}/guests`, body);
    // Off by default, for instant and scheduled meetings alike: 404, the meeting is not revealed.
    const closedMeeting = await meeting('hana', {}, { access: 'link' });
    assert.equal((await guestJoin(new Browser(), closedMeeting)).status, 404);
    assert.equal((await guestJoin(new Browser(), 'nosuchmeeting')).status, 404);
    // Allowed: a guest session, a token the edge node takes, and nothing but this meeting.
    const m = await meeting('hana', {}, { guestJoin: true });
    const gina = new Browser();
    const joined = await guestJoin(gina, m);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(joined.body.role, 'participant');
    assert.ok(gina.cookie('mm_session'), 'a guest session');
    (await joinAs(system.edge.wsUrl, m, joined.body.token)).close();
    assert.equal((await json(gina, 'GET', '/auth/me')).body.displayName, 'Gina Guest');
    for (const [method, path] of [['GET', '/meetings'], ['POST', '/meetings'], ['GET', `/meetings/${closedMeeting}`], ['GET', '/users/search?q=ha'],
      ['GET', `/meetings/${m}/invitees`], ['POST', `/meetings/${m}/controls`], ['POST', '/calendar/feed']] as const) {
      const r = await json(gina, method, path, method === 'POST' ? { kind: 'instant', title: 'x', action: 'lock' } : undefined);
      assert.equal(r.status, 403, `${method} ${path}: ${r.status}`);
    }
    assert.equal((await json(users.hana!, 'GET', '/users/search?q=gina')).body.users.length, 0, 'guests are not users anyone can find');
    // The meeting's rules: passcode, waiting room, lock, capacity, removal, end.
    await json(hana, 'PATCH', `/meetings/${m}`, { settings: { passcode: 'secret-1' } });
    assert.equal((await guestJoin(new Browser(), m)).body.error.code, 'wrong_passcode');
    assert.equal((await guestJoin(new Browser(), m, { name: 'Pia', passcode: 'secret-1' })).status, 200);
    await json(hana, 'PATCH', `/meetings/${m}`, { settings: { passcode: null, waitingRoom: true } });
    const wendy = new Browser();
    const waiting = await guestJoin(wendy, m, { name: 'Wendy' });
    assert.equal(waiting.status, 202);
    assert.equal((await json(wendy, 'GET', `/meetings/${m}/join`)).body.state, 'waiting');
    await json(hana, 'POST', `/meetings/${m}/join`, {});
    assert.equal((await json(hana, 'POST', `/meetings/${m}/controls`, { action: 'admit', participantId: waiting.body.participantId })).status, 200);
    const admitted = await json(wendy, 'POST', `/meetings/${m}/join`, {});
    assert.equal(admitted.status, 200);
    await json(hana, 'PATCH', `/meetings/${m}`, { settings: { waitingRoom: false } });
    assert.equal((await json(hana, 'POST', `/meetings/${m}/controls`, { action: 'lock' })).status, 200);
    assert.equal((await guestJoin(new Browser(), m)).status, 423);
    await json(hana, 'POST', `/meetings/${m}/controls`, { action: 'unlock' });
    await json(hana, 'PATCH', `/meetings/${m}`, { settings: { maxParticipants: 2 } });
    assert.equal((await guestJoin(new Browser(), m)).body.error?.code, 'full');
    await json(hana, 'PATCH', `/meetings/${m}`, { settings: { maxParticipants: 100 } });
    const wendyClient = await joinAs(system.edge.wsUrl, m, admitted.body.token);
    const gone = new Promise<{ code: number }>((resolve) => wendyClient.onClose(resolve));
    assert.equal((await json(hana, 'POST', `/meetings/${m}/controls`, { action: 'remove', participantId: waiting.body.participantId })).status, 200);
    assert.equal((await gone).code, CloseCodes.removed);
    assert.equal((await json(wendy, 'POST', `/meetings/${m}/join`, {})).body.error.code, 'removed');
    assert.equal((await guestJoin(wendy, m, { name: 'Wendy again' })).body.error.code, 'removed', 'the same guest session stays removed');
    assert.deepEqual(await reconnect(m, admitted.body.token), { code: CloseCodes.removed, reason: 'you were removed from this meeting' });
    assert.equal((await json(hana, 'POST', `/meetings/${m}/controls`, { action: 'end' })).status, 200);
    assert.equal((await guestJoin(new Browser(), m)).body.error.code, 'meeting_ended');
  });
});
