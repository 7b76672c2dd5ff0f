/**
 * The control plane's internal phone API on a real system (PostgreSQL, edge node): only the gateway's secret gets in;
 * the dial-in PIN finds the meeting; passcode, waiting room, lock and removal apply to phone callers as to anyone;
 * the caller is listed as a phone participant with a masked number; the join token works on the edge node as role
 * `phone`, which alone may open plain RTP transports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, signedIn } from '../helpers/http-browser.js';
import { startSystem, type TestSystem } from '../helpers/system.js';
import { connect, joinAs } from '../helpers/ws-client.js';

const SECRET = 'phone-gateway-secret-for-tests';
let system: TestSystem;
let base: string;
let host: Browser;

async function api(b: Browser, method: string, path: string, body?: unknown) {
  const res = await b.fetch(`${base}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}
async function phone(path: string, body: unknown, secret: string | null = SECRET) {
  const res = await fetch(`${base}/internal/phone${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}
async function meeting(settings: Record<string, unknown>): Promise<{ id: string; pin: string }> {
  const m = await api(host, 'POST', '/meetings', { kind: 'instant', title: 'Phone', settings: { access: 'link', ...settings } });
  assert.equal(m.status, 201);
  const d = await api(host, 'GET', `/meetings/${m.body.id}/dial-in`);
  assert.equal(d.status, 200);
  assert.equal(d.body.number, '+1 555 0100');
  assert.match(d.body.pin, /^\d{10}$/);
  return { id: m.body.id, pin: d.body.pin };
}

describe('internal phone API', { timeout: 180_000 }, () => {
  before(async () => {
    system = await startSystem({ control: { phoneGatewaySecret: SECRET, dialInNumber: '+1 555 0100' } });
    base = system.controlUrl;
    host = await signedIn(base, 'phil@example.test', 'phil-password-1', 'Phil Host');
  });
  after(async () => system?.stop());

  test('only the gateway secret gets in; bad input is a 400', async () => {
    const { pin } = await meeting({});
    assert.equal((await phone('/lookup', { pin }, null)).status, 401);
    assert.equal((await phone('/lookup', { pin }, 'wrong-secret-wrong-secret')).status, 401);
    const bad = await phone('/lookup', { pin: '12ab' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'pin');
    assert.equal((await phone('/join', { pin, passcode: '', caller: 'x y' })).status, 400);
    assert.equal((await phone('/lookup', { pin: '0000000000' })).status, 404);
  });

  test('passcode, masked caller, and a token the edge node accepts as a phone participant', async () => {
    const { id, pin } = await meeting({ passcode: '4321' });
    assert.deepEqual((await phone('/lookup', { pin })).body, { meetingId: id, needsPasscode: true });
    const wrong = await phone('/join', { pin, passcode: '1111', caller: '+15550123' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'wrong_passcode');
    const ok = await phone('/join', { pin, passcode: '4321', caller: '+15550123' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.displayName, 'Phone ••• 0123');
    const people = await api(host, 'GET', `/meetings/${id}/participants`);
    const caller = people.body.participants.find((p: { participantId: string }) => p.participantId === ok.body.participantId);
    assert.deepEqual([caller.role, caller.displayName, caller.state], ['phone', 'Phone ••• 0123', 'admitted']);
    assert.ok(!JSON.stringify(people.body).includes('5550123'), 'the full number is never shown');

    const client = connect(system.edge.wsUrl, id, ok.body.token);
    const { rtpCapabilities } = await client.request('getRouterRtpCapabilities', {});
    const joined = await client.request('join', { protocolVersion: 1, rtpCapabilities });
    assert.equal(joined.self.role, 'phone');
    const plain = await client.request('createPlainTransport', { direction: 'send' });
    assert.ok(plain.port > 0);
    client.close();
    // The call ends: the caller leaves the list (and stops counting against capacity).
    const left = await fetch(`${base}/internal/phone/leave`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
      body: JSON.stringify({ pin, participantId: ok.body.participantId }),
    });
    assert.equal(left.status, 204);
    const after = await api(host, 'GET', `/meetings/${id}/participants`);
    assert.ok(!after.body.participants.some((p: { participantId: string }) => p.participantId === ok.body.participantId));
  });

  test('a browser participant may not open a plain RTP transport', async () => {
    const { id } = await meeting({});
    const j = await api(host, 'POST', `/meetings/${id}/join`, {});
    assert.equal(j.status, 200);
    const client = await joinAs(system.edge.wsUrl, id, j.body.token);
    await assert.rejects(client.request('createPlainTransport', { direction: 'send' }), (e: { code?: string }) => e.code === 'forbidden');
    client.close();
  });

  test('waiting room, lock and removal apply to phone callers', async () => {
    const { id, pin } = await meeting({ waitingRoom: true });
    const waiting = await phone('/join', { pin, passcode: '', caller: '+15550999' });
    assert.equal(waiting.status, 202);
    const again = await phone('/join', { pin, passcode: '', caller: '+15550999', participantId: waiting.body.participantId });
    assert.equal(again.status, 202);
    assert.equal((await api(host, 'POST', `/meetings/${id}/controls`, { action: 'admit', participantId: waiting.body.participantId })).status, 200);
    const admitted = await phone('/join', { pin, passcode: '', caller: '+15550999', participantId: waiting.body.participantId });
    assert.equal(admitted.status, 200);
    assert.equal((await api(host, 'POST', `/meetings/${id}/controls`, { action: 'makeCohost', participantId: waiting.body.participantId })).status, 403);
    assert.equal((await api(host, 'POST', `/meetings/${id}/controls`, { action: 'remove', participantId: waiting.body.participantId })).status, 200);
    const removed = await phone('/join', { pin, passcode: '', caller: '+15550999', participantId: waiting.body.participantId });
    assert.equal(removed.status, 403);
    assert.equal((await api(host, 'POST', `/meetings/${id}/controls`, { action: 'lock' })).status, 200);
    const locked = await phone('/join', { pin, passcode: '', caller: '+15550998' });
    assert.equal(locked.status, 423);
  });

  test('invitation-only meetings take callers only with a passcode; the invite says how to dial in', async () => {
    const m = await api(host, 'POST', '/meetings', { kind: 'instant', title: 'Private', settings: { access: 'invited' } });
    const d = await api(host, 'GET', `/meetings/${m.body.id}/dial-in`);
    assert.equal((await phone('/lookup', { pin: d.body.pin })).status, 404);
    const s = await api(host, 'POST', '/meetings', {
      kind: 'scheduled', title: 'Weekly', startsAt: '2026-12-01T10:00:00Z', durationMinutes: 30, timeZone: 'UTC', settings: { passcode: '2468' },
    });
    const ics = await (await host.fetch(`${base}/meetings/${s.body.id}/invite.ics`)).text();
    const pin = (await api(host, 'GET', `/meetings/${s.body.id}/dial-in`)).body.pin;
    assert.match(ics.replace(/\r\n /g, '').replaceAll('\\,', ','), new RegExp(`call \\+1 555 0100, enter meeting ID ${pin} then #, then the passcode and #`));
  });
});
