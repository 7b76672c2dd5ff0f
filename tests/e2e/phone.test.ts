/**
 * Phone dial-in end to end, all real: SIPp (Debian's sip-tester) calls the SIP gateway (its own process), types the
 * meeting's dial-in PIN and passcode as RFC 4733 DTMF, and joins a meeting on a real edge node, admitted by a real
 * control plane (PostgreSQL), with a host in headless Chromium.
 * - the Chromium host receives the caller's voice (inbound-rtp packets grow, audio level > 0), and the caller's own
 *   RTP socket (the test's) receives the meeting's audio (non-silent G.711 after the menu is over);
 * - a wrong meeting ID is refused after three tries and the gateway hangs up;
 * - a host removes the caller and the call ends (the gateway sends BYE);
 * - 20 calls at once into one meeting hold, counted in the control plane and the gateway.
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { decodeG711 } from '../../edge-node/sip/g711.js';
import { levelOfPcm, parseRtp } from '../../edge-node/sip/rtp.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { freePortBase, waitFor } from '../helpers/edge.js';
import { Browser, signedIn } from '../helpers/http-browser.js';
import { inboundStats } from '../helpers/media-stats.js';
import { runSipp, startGateway, type TestGateway } from '../helpers/sip.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

const SECRET = 'phone-gateway-secret-e2e-tests';
let system: TestSystem;
let gateway: TestGateway;
let browser: TestBrowser;
let host: Browser;
let meetingId: string;
let pin: string;
let page: Page;

async function api(method: string, path: string, body?: unknown) {
  const res = await host.fetch(`${system.controlUrl}${path}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}
async function phoneParticipants(): Promise<Array<{ participantId: string; displayName: string; state: string }>> {
  return (await api('GET', `/meetings/${meetingId}/participants`)).body.participants.filter((p: { role: string }) => p.role === 'phone');
}

/** The caller's side of the media: a socket the INVITE's SDP points at, keeping each packet's arrival and level. */
async function callerEar(): Promise<{ port: number; frames: Array<{ at: number; level: number }>; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  const port = await freePortBase(1);
  await new Promise<void>((r) => sock.bind(port, '127.0.0.1', () => r()));
  const frames: Array<{ at: number; level: number }> = [];
  sock.on('message', (buf) => {
    const p = parseRtp(buf);
    if (p && p.payloadType === 8) frames.push({ at: Date.now(), level: levelOfPcm(decodeG711('PCMA', p.payload)) });
  });
  return { port, frames, close: () => sock.close() };
}

describe('phone dial-in through SIP (SIPp) in a Chromium meeting', { timeout: 600_000 }, () => {
  before(async () => {
    system = await startSystem({ control: { phoneGatewaySecret: SECRET, dialInNumber: '+1 555 0100' } });
    host = await signedIn(system.controlUrl, 'hope@example.test', 'hope-password-1', 'Hope Host');
    const m = await api('POST', '/meetings', { kind: 'instant', title: 'Dial-in', settings: { access: 'link', passcode: '4321', maxParticipants: 50 } });
    meetingId = m.body.id;
    pin = (await api('GET', `/meetings/${meetingId}/dial-in`)).body.pin;
    gateway = await startGateway(system.controlUrl, SECRET);
    browser = await launchBrowser();
    const j = await api('POST', `/meetings/${meetingId}/join`, { passcode: '4321' });
    assert.equal(j.status, 200);
    page = await browser.context.newPage();
    await page.goto(`${system.edgeUrl}/?meeting=${meetingId}#token=${j.body.token}`);
    await page.evaluate(() => window.meshmeet.joined);
    // The host speaks all the time (a 440 Hz tone instead of the fake microphone's once-a-second beep), so that "the
    // caller hears the meeting" is measured from the join, not from the next beep.
    await page.evaluate(async () => {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      gain.gain.value = 0.3;
      const out = ctx.createMediaStreamDestination();
      osc.connect(gain).connect(out);
      osc.start();
      await window.meshmeet.publish('mic', out.stream.getAudioTracks()[0]!);
    });
  });
  after(async () => {
    await browser?.close();
    await gateway?.stop();
    await system?.stop();
  });

  test('a caller joins by DTMF; the meeting hears the caller and the caller hears the meeting', async () => {
    const ear = await callerEar();
    try {
      const call = runSipp(gateway.sipPort, { keys: `${pin}#4321#`, afterKeysMs: 1500, playVoice: true, holdMs: 9000, mediaPort: ear.port });
      const caller = await waitFor('the caller in the participant list', async () => (await phoneParticipants()).find((p) => p.state === 'admitted'), 60_000);
      assert.match(caller.displayName, /^Phone ••• \d{4}$/);
      const joinedAt = Date.now();
      const heard = await waitFor('the host hearing the caller', async () => {
        const s = (await inboundStats(page)).find((x) => x.participantId === caller.participantId && x.kind === 'audio');
        return s && s.packetsReceived > 50 && s.audioLevel > 0 ? s : null;
      }, 60_000);
      await waitFor('the caller\'s packets to keep growing', async () => {
        const s = (await inboundStats(page)).find((x) => x.participantId === caller.participantId && x.kind === 'audio');
        return s && s.packetsReceived > heard.packetsReceived;
      });
      const r = await call;
      assert.equal(r.code, 0, `SIPp failed: ${r.stdout.slice(-2000)}`);
      // After the "you are now in the meeting" prompt (1.6 s), what the caller hears is the meeting.
      const meetingAudio = ear.frames.filter((f) => f.at > joinedAt + 2500 && f.level < 60);
      assert.ok(ear.frames.length > 200, `caller got ${ear.frames.length} packets`);
      assert.ok(meetingAudio.length > 10, `caller heard ${meetingAudio.length} non-silent frames of the meeting`);
      const calls = await gateway.calls();
      assert.equal(calls.length, 0, 'the call ended with the caller\'s BYE');
      const metrics = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
      const sum = Number(/sip_join_to_audio_seconds_sum (\S+)/.exec(metrics)?.[1]);
      console.log(`last DTMF digit -> first meeting audio to the caller: ${Math.round(sum * 1000)} ms (gateway); caller heard ${meetingAudio.length} non-silent frames`);
    } finally {
      ear.close();
    }
    await waitFor('the caller to leave the meeting', async () => !(await inboundStats(page)).some((x) => x.kind === 'audio'), 30_000);
    await waitFor('the caller to leave the participant list', async () => (await phoneParticipants()).length === 0);
  });

  test('a wrong meeting ID is refused after three tries, and the gateway hangs up', async () => {
    const before = (await phoneParticipants()).length;
    const wrong = pin === '9999999999' ? '8888888888' : '9999999999';
    const r = await runSipp(gateway.sipPort, { keys: `${wrong}#${wrong}#${wrong}#`, awaitBye: true }, { timeoutS: 60 });
    assert.equal(r.code, 0, `expected the gateway's BYE: ${r.stdout.slice(-1500)}`);
    assert.equal(r.successful, 1);
    assert.equal((await phoneParticipants()).length, before, 'nobody joined');
  });

  test('a host removes the caller and the call ends', async () => {
    const known = new Set((await phoneParticipants()).map((p) => p.participantId));
    const call = runSipp(gateway.sipPort, { keys: `${pin}#4321#`, awaitBye: true }, { timeoutS: 90 });
    const caller = await waitFor('the new caller admitted', async () =>
      (await phoneParticipants()).find((p) => p.state === 'admitted' && !known.has(p.participantId)), 60_000);
    await waitFor('the gateway bridging the caller', async () => (await gateway.calls()).some((c) => c.participantId === caller.participantId && c.state === 'meeting'));
    const removed = await api('POST', `/meetings/${meetingId}/controls`, { action: 'remove', participantId: caller.participantId });
    assert.equal(removed.status, 200);
    assert.equal(removed.body.affected, 1);
    const r = await call;
    assert.equal(r.code, 0, `expected the gateway's BYE after the removal: ${r.stdout.slice(-1500)}`);
    assert.equal((await gateway.calls()).length, 0);
    assert.equal((await phoneParticipants()).find((p) => p.participantId === caller.participantId)?.state, 'removed');
  });

  test('20 calls at once into one meeting hold', async () => {
    const CALLS = 20;
    const known = new Set((await phoneParticipants()).map((p) => p.participantId));
    const run = runSipp(gateway.sipPort, { keys: `${pin}#4321#`, afterKeysMs: 1000, playVoice: true, holdMs: 20_000 }, { calls: CALLS, rate: 10, timeoutS: 150 });
    let seen = '';
    const held = await waitFor(`${CALLS} callers in the meeting at once`, async () => {
      const calls = await gateway.calls();
      seen = JSON.stringify(calls.reduce<Record<string, number>>((n, c) => ({ ...n, [c.state]: (n[c.state] ?? 0) + 1 }), {}));
      const inMeeting = calls.filter((c) => c.state === 'meeting').length;
      return inMeeting === CALLS ? inMeeting : null;
    }, 120_000, 500).catch(async (err: Error) => {
      const outcomes = (await (await fetch(`${gateway.httpUrl}/metrics`)).text()).split('\n').filter((l) => l.startsWith('sip_calls_total'));
      const r = await run;
      throw new Error(`${err.message}; last seen ${seen}; gateway ${outcomes.join(', ')}; SIPp ${r.successful} ok ${r.failed} failed: ${r.stdout.slice(-800)}`);
    });
    const admitted = (await phoneParticipants()).filter((p) => p.state === 'admitted' && !known.has(p.participantId)).length;
    console.log(`calls held at once: ${held} in the gateway, ${admitted} admitted phone participants in the control plane`);
    assert.equal(admitted, CALLS);
    const r = await run;
    assert.equal(r.code, 0, `SIPp: ${r.stdout.slice(-1500)}`);
    assert.equal(r.successful, CALLS);
    assert.equal(r.failed, 0);
  });
});
