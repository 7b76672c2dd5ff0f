/**
 * The control plane over HTTP, as a client sees it, on the system the end-to-end tests start
 * (tests/helpers/system.ts: real PostgreSQL, chat in PostgreSQL here, a real edge node trusting its JWKS). Users
 * sign in through the real OIDC flow. Covers bad input, 401/403/404, the OpenAPI document, users and contacts,
 * calendar, chat (idempotent sends, history, DMs, the live socket: DM filtering, strangers refused, a removed user's
 * socket closed), the join token working on the edge (with the webinar and screen-share policies in it), host
 * controls reaching edge clients (mute, remove, end as 4411) and deny, meeting delete and the invitee routes, the
 * join rate limit, key rotation (the node accepts the new key; the control plane switches within the minute), metrics.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { ControlPlane } from '../../control/index.js';
import { KeyStore } from '../../control/src/keys.js';
import { waitFor, type TestEdge } from '../helpers/edge.js';
import { Browser, signedIn } from '../helpers/http-browser.js';
import { startSystem, type TestSystem } from '../helpers/system.js';
import { closed, joinAs, opusRtpParameters, upgradeRefused } from '../helpers/ws-client.js';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';
import { SIGNER_REFRESH_MS } from '../../control/src/keys.js';

let system: TestSystem;
let control: ControlPlane;
let edge: TestEdge;
let base: string;
let host: Browser;
let guest: Browser;
let third: Browser;
const ids: Record<string, string> = {};
/** The control plane's clock runs this far ahead of the real one (key refresh tests move it instead of waiting). */
let clockOffset = 0;
/** Joins: a burst of 50 per client IP, then (practically) none: deterministic, however slowly the machine runs. */
const JOIN_BURST = 50;

/** A live chat socket for `b` in meeting `m`; `frames` records every frame it receives. */
function liveChat(b: Browser, m: string): { ws: WebSocket; frames: any[]; ready: Promise<unknown> } {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/meetings/${m}/chat/live`, { headers: { cookie: `mm_session=${b.cookie('mm_session')}` } });
  const frames: any[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  return { ws, frames, ready: waitFor('the live socket', () => frames.some((f) => f.type === 'ready'), 15_000) };
}

/** POST from another loopback address (its own rate-limit bucket), with `b`'s session. */
function postFrom(localAddress: string, b: Browser, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, {
      method: 'POST', localAddress,
      headers: { 'content-type': 'application/json', cookie: `mm_session=${b.cookie('mm_session')}` },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const kidOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid as string;
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

const json = (b: Browser, method: string, path: string, body?: unknown) => b.json(method, `${base}${path}`, body);

describe('control plane API', { timeout: 300_000 }, () => {
  before(async () => {
    system = await startSystem({ control: { joinRateBurst: JOIN_BURST, joinRatePerSecond: 0.0001 }, clock: () => Date.now() + clockOffset });
    ({ control, edge, controlUrl: base } = system);
    host = await signedIn(base, 'hana@example.test', 'hana-password-1', 'Hana Host');
    guest = await signedIn(base, 'gus@example.test', 'gus-password-12', 'Gus Guest');
    third = await signedIn(base, 'tia@example.test', 'tia-password-12', 'Tia Third');
    for (const [name, b] of [['host', host], ['guest', guest], ['third', third]] as const) ids[name] = (await json(b, 'GET', '/users/me')).body.id;
  });
  after(async () => system?.stop());

  test('health, JWKS and the OpenAPI document', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: Array<{ alg: string; d?: string }> };
    assert.equal(jwks.keys.length, 1, 'one join key before any rotation');
    assert.ok(jwks.keys.every((k) => k.alg === 'ES256' && k.d === undefined), 'public ES256 keys only');
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    for (const p of ['/meetings', '/meetings/{id}/join', '/meetings/{id}/controls', '/meetings/{id}/chat', '/users/me', '/calendar/feed', '/auth/register']) {
      assert.ok(doc.paths[p], `${p} documented`);
    }
  });

  test('without a session: 401; bad input: 400 naming the field; oversized: 413; unknown: 404', async () => {
    const anon = new Browser();
    assert.equal((await json(anon, 'GET', '/meetings')).status, 401);
    assert.equal((await fetch(`${base}/meetings`, { headers: { authorization: 'Bearer nonsense' } })).status, 401);
    const bad = await json(host, 'POST', '/meetings', { kind: 'scheduled', title: 'x', startsAt: 'tomorrow', durationMinutes: 30, timeZone: 'UTC' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'startsAt');
    const tz = await json(host, 'POST', '/meetings', { kind: 'scheduled', title: 'x', startsAt: '2026-12-01T10:00:00Z', durationMinutes: 30, timeZone: 'Mars/Olympus' });
    assert.equal(tz.body.error.field, 'timeZone');
    assert.equal((await json(host, 'POST', '/meetings', '{"kind":')).status, 400);
    assert.equal((await json(host, 'POST', '/meetings', { kind: 'instant', title: 'x'.repeat(70_000) })).status, 413);
    assert.equal((await json(host, 'GET', '/meetings/zzzzzzzzzzzz')).status, 404);
    assert.equal((await json(host, 'GET', '/no/such/route')).status, 404);
  });

  test('profile, search and contacts', async () => {
    const me = await json(guest, 'PATCH', '/users/me', { displayName: 'Gus G.', timeZone: 'America/New_York' });
    assert.equal(me.status, 200);
    assert.deepEqual([me.body.displayName, me.body.timeZone], ['Gus G.', 'America/New_York']);
    assert.equal((await json(guest, 'PATCH', '/users/me', { timeZone: 'Nowhere/Land' })).status, 400);
    const found = await json(host, 'GET', '/users/search?q=gus');
    assert.deepEqual(found.body.users.map((u: { id: string }) => u.id), [ids.guest]);
    assert.equal(found.body.users[0].email, undefined, 'no email before they are a contact');
    assert.equal((await json(host, 'GET', '/users/search?q=g')).status, 400, 'two characters at least');
    assert.equal((await json(host, 'POST', '/users/me/contacts', { userId: ids.guest })).status, 204);
    assert.equal((await json(host, 'POST', '/users/me/contacts', { userId: ids.host })).status, 400);
    assert.equal((await json(host, 'POST', '/users/me/contacts', { userId: randomUUID() })).status, 404);
    const contacts = await json(host, 'GET', '/users/me/contacts');
    assert.deepEqual(contacts.body.contacts.map((c: { email: string }) => c.email), ['gus@example.test']);
    assert.equal((await json(host, 'DELETE', `/users/me/contacts/${ids.guest}`)).status, 204);
    assert.equal((await json(host, 'DELETE', `/users/me/contacts/${ids.guest}`)).status, 404);
  });

  let meetingId: string;
  test('a scheduled meeting with an invitee, its .ics, and the calendar feed', async () => {
    const created = await json(host, 'POST', '/meetings', {
      kind: 'scheduled', title: 'Planning', startsAt: '2026-12-02T15:00:00-05:00', durationMinutes: 45, timeZone: 'America/New_York',
      settings: { waitingRoom: true, passcode: 'letmein' }, invitees: [{ email: 'gus@example.test', role: 'participant' }],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    meetingId = created.body.id;
    assert.equal(created.body.settings.hasPasscode, true);
    assert.equal(created.body.startsAt, '2026-12-02T20:00:00.000Z');
    assert.equal((await json(third, 'GET', `/meetings/${meetingId}`)).status, 404, 'not invited: it does not exist for you');
    const ics = await host.fetch(`${base}/meetings/${meetingId}/invite.ics`);
    assert.equal(ics.status, 200);
    assert.match(ics.headers.get('content-type')!, /text\/calendar/);
    const text = await ics.text();
    assert.match(text, /BEGIN:VCALENDAR/);
    assert.match(text, /SUMMARY:Planning/);
    assert.match(text, /DTSTART[^:]*:20261202T200000Z/);
    assert.match(text, /gus@example\.test/);
    assert.equal((await third.fetch(`${base}/meetings/${meetingId}/invite.ics`)).status, 404);
    const feed = await json(guest, 'POST', '/calendar/feed');
    assert.equal(feed.status, 201);
    const feedText = await (await fetch(feed.body.url)).text();
    assert.match(feedText, /SUMMARY:Planning/, 'the invitee sees it in their feed');
    const rotated = await json(guest, 'POST', '/calendar/feed');
    assert.equal((await fetch(feed.body.url)).status, 404, 'the old URL stops working');
    assert.equal((await json(guest, 'DELETE', '/calendar/feed')).status, 204);
    assert.equal((await fetch(rotated.body.url)).status, 404);
  });

  test('join through the waiting room; the token works on the edge node', async () => {
    const hostJoin = await json(host, 'POST', `/meetings/${meetingId}/join`, {});
    assert.equal(hostJoin.status, 200);
    assert.equal(hostJoin.body.role, 'host');
    assert.equal((await json(guest, 'POST', `/meetings/${meetingId}/join`, {})).body.error.code, 'wrong_passcode');
    const waiting = await json(guest, 'POST', `/meetings/${meetingId}/join`, { passcode: 'letmein' });
    assert.equal(waiting.status, 202);
    assert.equal((await json(guest, 'GET', `/meetings/${meetingId}/join`)).body.state, 'waiting');
    const list = await json(host, 'GET', `/meetings/${meetingId}/participants`);
    assert.deepEqual(list.body.participants.filter((p: { state: string }) => p.state === 'waiting').map((p: { userId: string }) => p.userId), [ids.guest]);
    assert.equal((await json(guest, 'POST', `/meetings/${meetingId}/controls`, { action: 'admit', participantId: ids.guest })).status, 403);
    assert.equal((await json(host, 'POST', `/meetings/${meetingId}/controls`, { action: 'admit', participantId: ids.guest })).status, 200);
    const admitted = await json(guest, 'POST', `/meetings/${meetingId}/join`, { passcode: 'letmein' });
    assert.equal(admitted.status, 200);
    assert.equal(admitted.body.nodeUrl, edge.url);
    const client = await joinAs(edge.wsUrl, meetingId, admitted.body.token);
    client.close();
  });

  test('chat: idempotent sends, history pages, DMs, live delivery', async () => {
    const live: any[] = [];
    const cookie = (b: Browser) => `mm_session=${b.cookie('mm_session')}`;
    const ws = new WebSocket(`${base.replace('http', 'ws')}/meetings/${meetingId}/chat/live`, { headers: { cookie: cookie(host) } });
    ws.on('message', (d) => live.push(JSON.parse(d.toString())));
    await waitFor('the live socket', () => live.some((f) => f.type === 'ready'));
    const clientId = randomUUID();
    const first = await json(guest, 'POST', `/meetings/${meetingId}/chat`, { clientId, body: 'hello 👋' });
    assert.equal(first.status, 201);
    const retry = await json(guest, 'POST', `/meetings/${meetingId}/chat`, { clientId, body: 'hello 👋' });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.duplicate, true);
    assert.equal(retry.body.message.id, first.body.message.id);
    await json(host, 'POST', `/meetings/${meetingId}/chat`, { clientId: randomUUID(), body: 'for Gus only', recipientId: ids.guest });
    for (let i = 0; i < 3; i++) await json(host, 'POST', `/meetings/${meetingId}/chat`, { clientId: randomUUID(), body: `note ${i}` });
    await waitFor('live delivery of every message', () => live.filter((f) => f.type === 'message').length === 5);
    const page1 = await json(guest, 'GET', `/meetings/${meetingId}/chat?limit=3`);
    assert.deepEqual(page1.body.messages.map((m: { body: string }) => m.body), ['note 2', 'note 1', 'note 0']);
    const page2 = await json(guest, 'GET', `/meetings/${meetingId}/chat?limit=3&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    assert.deepEqual(page2.body.messages.map((m: { body: string }) => m.body), ['for Gus only', 'hello 👋']);
    assert.equal((await json(guest, 'GET', `/meetings/${meetingId}/chat?cursor=garbage`)).status, 400);
    assert.equal((await json(guest, 'POST', `/meetings/${meetingId}/chat`, { clientId: 'not-a-uuid', body: 'x' })).body.error.field, 'clientId');
    assert.equal((await json(guest, 'POST', `/meetings/${meetingId}/chat`, { clientId: randomUUID(), body: 'x', recipientId: randomUUID() })).status, 404);
    // Not in the meeting: no chat, no history, no live socket.
    assert.equal((await json(third, 'GET', `/meetings/${meetingId}/chat`)).status, 404);
    assert.equal((await json(third, 'POST', `/meetings/${meetingId}/chat`, { clientId: randomUUID(), body: 'let me in' })).status, 404);
    const stranger = new WebSocket(`${base.replace('http', 'ws')}/meetings/${meetingId}/chat/live`, { headers: { cookie: `mm_session=${third.cookie('mm_session')}` } });
    assert.match(await upgradeRefused(stranger), /404/);
    ws.close();
  });

  test('DMs are private to the pair', async () => {
    // A link meeting so that a third person can be in it too.
    const m = (await json(host, 'POST', '/meetings', { kind: 'instant', title: 'open', settings: { access: 'link' } })).body.id;
    for (const b of [host, guest, third]) assert.equal((await json(b, 'POST', `/meetings/${m}/join`, {})).status, 200);
    await json(host, 'POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'psst', recipientId: ids.guest });
    await json(host, 'POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'all hands' });
    const seen = async (b: Browser) => (await json(b, 'GET', `/meetings/${m}/chat`)).body.messages.map((x: { body: string }) => x.body);
    assert.deepEqual(await seen(guest), ['all hands', 'psst']);
    assert.deepEqual(await seen(third), ['all hands']);
  });

  test('the live chat socket: a DM reaches only its pair, a removed user\'s socket is closed, strangers are refused', async () => {
    const m = (await json(host, 'POST', '/meetings', { kind: 'instant', title: 'live', settings: { access: 'link' } })).body.id;
    for (const b of [host, guest, third]) assert.equal((await json(b, 'POST', `/meetings/${m}/join`, {})).status, 200);
    const sockets = { host: liveChat(host, m), guest: liveChat(guest, m), third: liveChat(third, m) };
    await Promise.all(Object.values(sockets).map((s) => s.ready));
    const bodies = (name: keyof typeof sockets) => sockets[name].frames.filter((f) => f.type === 'message').map((f) => f.message.body);
    await json(host, 'POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'dm for gus', recipientId: ids.guest });
    await json(third, 'POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'hi all' });
    // 'hi all' was sent after the DM: once the third subscriber has it, it would have had the DM too.
    for (const name of ['host', 'guest', 'third'] as const) await waitFor(`${name} to get 'hi all'`, () => bodies(name).includes('hi all'));
    assert.deepEqual(bodies('host'), ['dm for gus', 'hi all']);
    assert.deepEqual(bodies('guest'), ['dm for gus', 'hi all']);
    assert.deepEqual(bodies('third'), ['hi all'], 'the DM never reached the third subscriber');
    // The host removes the third: its live socket is closed (and a new one refused).
    const thirdClosed = closed(sockets.third.ws);
    assert.equal((await json(host, 'POST', `/meetings/${m}/controls`, { action: 'remove', participantId: ids.third })).status, 200);
    assert.equal((await thirdClosed).code, 4403);
    const again = new WebSocket(`${base.replace('http', 'ws')}/meetings/${m}/chat/live`, { headers: { cookie: `mm_session=${third.cookie('mm_session')}` } });
    assert.match(await upgradeRefused(again), /403/);
    // The others stay connected and keep receiving.
    await json(guest, 'POST', `/meetings/${m}/chat`, { clientId: randomUUID(), body: 'still here' });
    await waitFor('host to get \'still here\'', () => bodies('host').includes('still here'));
    assert.equal(sockets.guest.ws.readyState, WebSocket.OPEN);
    for (const s of Object.values(sockets)) s.ws.close();
  });

  test('host controls: mute reaches the edge; a removed participant can neither chat nor return', async () => {
    const join = await json(guest, 'POST', `/meetings/${meetingId}/join`, { passcode: 'letmein' });
    const client = await joinAs(edge.wsUrl, meetingId, join.body.token);
    const closed = new Promise<{ code: number }>((resolve) => client.onClose(resolve));
    // The guest sends a microphone on the edge node.
    const send = await client.request('createTransport', { direction: 'send' });
    const { producerId } = await client.request('produce', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(4242) });
    const told: Array<{ action: string; producerId: string }> = [];
    client.on('hostAction', (d) => told.push(d));
    assert.equal((await json(guest, 'POST', `/meetings/${meetingId}/controls`, { action: 'remove', participantId: ids.host })).status, 403);
    const mute = await json(host, 'POST', `/meetings/${meetingId}/controls`, { action: 'mute', participantId: ids.guest });
    assert.deepEqual(mute.body, { action: 'mute', affected: 1 }, 'the guest\'s microphone, paused on the node');
    await waitFor('the guest to be told', () => told.length === 1);
    assert.deepEqual(told, [{ action: 'mute', producerId }]);
    assert.equal((await json(host, 'POST', `/meetings/${meetingId}/controls`, { action: 'mute' })).status, 400, 'mute needs a participant');
    const removed = await json(host, 'POST', `/meetings/${meetingId}/controls`, { action: 'remove', participantId: ids.guest });
    assert.deepEqual(removed.body, { action: 'remove', affected: 1 });
    assert.equal((await closed).code, 4410);
    const chat = await json(guest, 'POST', `/meetings/${meetingId}/chat`, { clientId: randomUUID(), body: 'let me back' });
    assert.equal(chat.status, 403);
    assert.equal((await json(guest, 'POST', `/meetings/${meetingId}/join`, { passcode: 'letmein' })).body.error.code, 'removed');
  });

  test('end and deny through the HTTP API: edge clients are closed with 4411, a denied joiner stays out', async () => {
    const m = (await json(host, 'POST', '/meetings', { kind: 'instant', title: 'to end', settings: { access: 'link', waitingRoom: true } })).body.id;
    const hostJoin = await json(host, 'POST', `/meetings/${m}/join`, {});
    assert.equal((await json(guest, 'POST', `/meetings/${m}/join`, {})).status, 202);
    assert.equal((await json(third, 'POST', `/meetings/${m}/join`, {})).status, 202);
    assert.equal((await json(host, 'POST', `/meetings/${m}/controls`, { action: 'deny', participantId: ids.third })).status, 200);
    assert.equal((await json(third, 'GET', `/meetings/${m}/join`)).body.state, 'denied');
    const denied = await json(third, 'POST', `/meetings/${m}/join`, {});
    assert.deepEqual([denied.status, denied.body.error.code], [403, 'denied']);
    assert.equal((await json(host, 'POST', `/meetings/${m}/controls`, { action: 'admit', participantId: ids.guest })).status, 200);
    const guestJoin = await json(guest, 'POST', `/meetings/${m}/join`, {});
    const clients = [await joinAs(edge.wsUrl, m, hostJoin.body.token), await joinAs(edge.wsUrl, m, guestJoin.body.token)];
    const closes = clients.map((c) => new Promise<{ code: number }>((resolve) => c.onClose(resolve)));
    const ended = await json(host, 'POST', `/meetings/${m}/controls`, { action: 'end' });
    assert.deepEqual(ended.body, { action: 'end', affected: 2 });
    assert.deepEqual((await Promise.all(closes)).map((c) => c.code), [CloseCodes.meetingEnded, CloseCodes.meetingEnded]);
    assert.equal((await json(host, 'GET', `/meetings/${m}`)).body.status, 'ended');
    assert.equal((await json(guest, 'POST', `/meetings/${m}/join`, {})).body.error.code, 'meeting_ended');
  });

  test('invitee routes and meeting delete', async () => {
    const m = (await json(host, 'POST', '/meetings', { kind: 'instant', title: 'invite only' })).body.id;
    assert.equal((await json(third, 'GET', `/meetings/${m}`)).status, 404, 'not invited yet');
    assert.equal((await json(host, 'POST', `/meetings/${m}/invitees`, { email: 'tia@example.test', role: 'panelist' })).status, 204);
    assert.equal((await json(host, 'POST', `/meetings/${m}/invitees`, { email: 'nobody@example.test' })).status, 404);
    assert.equal((await json(host, 'POST', `/meetings/${m}/invitees`, { email: 'hana@example.test' })).status, 400, 'the owner is no invitee');
    const listed = await json(host, 'GET', `/meetings/${m}/invitees`);
    assert.deepEqual(listed.body.invitees, [{ userId: ids.third, email: 'tia@example.test', displayName: 'Tia Third', role: 'panelist' }]);
    assert.equal((await json(third, 'GET', `/meetings/${m}`)).body.yourRole, 'panelist');
    assert.ok((await json(third, 'GET', '/meetings')).body.meetings.some((x: { id: string }) => x.id === m));
    assert.equal((await json(host, 'DELETE', `/meetings/${m}/invitees/${ids.third}`)).status, 204);
    assert.equal((await json(host, 'DELETE', `/meetings/${m}/invitees/${ids.third}`)).status, 404);
    assert.equal((await json(third, 'GET', `/meetings/${m}`)).status, 404, 'uninvited: gone again');
    assert.equal((await json(host, 'DELETE', `/meetings/${m}`)).status, 204);
    assert.equal((await json(host, 'GET', `/meetings/${m}`)).status, 404);
    assert.ok(!(await json(host, 'GET', '/meetings')).body.meetings.some((x: { id: string }) => x.id === m));
    assert.equal((await json(host, 'DELETE', `/meetings/${m}`)).status, 404);
  });

  test('the webinar and screen-share policies are carried into the join token, and the node enforces them', async () => {
    const m = (await json(host, 'POST', '/meetings', {
      kind: 'instant', title: 'webinar', settings: { access: 'link', webinar: true, screenShare: 'hosts' },
      invitees: [{ email: 'gus@example.test', role: 'panelist' }],
    })).body.id;
    const tokens = {
      host: (await json(host, 'POST', `/meetings/${m}/join`, {})).body.token as string,
      panelist: (await json(guest, 'POST', `/meetings/${m}/join`, {})).body.token as string,
      attendee: (await json(third, 'POST', `/meetings/${m}/join`, {})).body.token as string,
    };
    assert.deepEqual(Object.values(tokens).map((t) => [claimsOf(t).role, claimsOf(t).screen]), [['host', true], ['panelist', false], ['attendee', false]]);
    // On the node: the attendee only watches; the panelist speaks but shares no screen.
    const attendee = await joinAs(edge.wsUrl, m, tokens.attendee);
    await assert.rejects(attendee.request('createTransport', { direction: 'send' }), (e: { code: string }) => e.code === 'forbidden');
    const panelist = await joinAs(edge.wsUrl, m, tokens.panelist);
    const t = await panelist.request('createTransport', { direction: 'send' });
    const video = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 77 }] };
    await assert.rejects(panelist.request('produce', { transportId: t.id, kind: 'video', source: 'screen', rtpParameters: video }), (e: { code: string }) => e.code === 'forbidden');
    await panelist.request('produce', { transportId: t.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(78) });
    // Screen sharing for all: the panelist's next token allows it.
    assert.equal((await json(host, 'PATCH', `/meetings/${m}`, { settings: { screenShare: 'all' } })).status, 200);
    assert.equal(claimsOf((await json(guest, 'POST', `/meetings/${m}/join`, {})).body.token).screen, true);
    attendee.close();
    panelist.close();
  });

  test('the join rate limit: 429 after the burst, per client address', async () => {
    const m = (await json(host, 'POST', '/meetings', { kind: 'instant', title: 'popular' })).body.id;
    // From 127.0.0.2: a bucket of its own, untouched by the other tests' joins from 127.0.0.1.
    const statuses: number[] = [];
    for (let i = 0; i <= JOIN_BURST; i++) statuses.push(await postFrom('127.0.0.2', host, `/meetings/${m}/join`, {}));
    assert.deepEqual(statuses, [...Array(JOIN_BURST).fill(200), 429]);
    assert.equal((await json(host, 'POST', `/meetings/${m}/join`, {})).status, 200, 'another address is not limited');
  });

  test('join-key rotation: the node, which cached the old key set, accepts the new key; the control plane switches within the minute', async () => {
    const m = (await json(host, 'POST', '/meetings', { kind: 'instant', title: 'rotation', settings: { access: 'link' } })).body.id;
    const old = (await json(host, 'POST', `/meetings/${m}/join`, {})).body.token as string;
    (await joinAs(edge.wsUrl, m, old)).close(); // the node fetches and caches the key set now
    const oldKid = kidOf(old);
    const newKid = await new KeyStore(control.pool!, 'join').rotate(); // another control-plane instance rotates
    const kids = ((await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    assert.deepEqual(kids.sort(), [oldKid, newKid].sort(), 'the old key stays published');
    // Within the minute this instance still signs with the key it loaded; a token it signed still opens the node.
    const stillOld = (await json(guest, 'POST', `/meetings/${m}/join`, {})).body.token as string;
    assert.equal(kidOf(stillOld), oldKid);
    (await joinAs(edge.wsUrl, m, stillOld)).close();
    // A minute later (on the control plane's clock), it signs with the new key; the node, whose cached set lacks it, takes it.
    clockOffset += SIGNER_REFRESH_MS + 1000;
    const fresh = (await json(third, 'POST', `/meetings/${m}/join`, {})).body.token as string;
    assert.equal(kidOf(fresh), newKid);
    const client = await joinAs(edge.wsUrl, m, fresh);
    client.close();
  });

  test('metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    assert.match(text, /^control_http_requests_total\{route="\/meetings\/:id\/join",method="POST",status="200"\} [1-9]/m);
    assert.match(text, /^control_http_request_duration_seconds_count\{route="\/meetings",method="POST"\} [1-9]/m);
    assert.match(text, /^control_http_errors_total\{route="\/meetings\/:id\/chat",code="403"\} [1-9]/m);
    assert.match(text, /^control_db_pool_connections\{state="total"\} [1-9]/m);
    assert.match(text, /^control_chat_store_query_seconds_count\{op="[a-z_]+"\} [1-9]/m);
  });
});
