/** Host commands on the edge node: signed by the control plane's key, carried out on the node's participants. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mintCommand, mintJoinToken } from '../../edge-node/index.js';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';
import type { HostCommand } from '../../edge-node/protocol/commands.js';
import { loadDevKeys } from '../../edge-node/index.js';
import { startEdge, waitFor, type TestEdge } from '../helpers/edge.js';
import { joinAs, opusRtpParameters } from '../helpers/ws-client.js';
import type { SignallingClient } from '../../web/src/signalling-client.js';

let edge: TestEdge;
const M = 'cmd-room';

async function post(token: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${edge.url}/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  return { status: res.status, body: await res.json() };
}
const send = async (cmd: HostCommand, meetingId = M) => post(await mintCommand(edge.keys, meetingId, cmd));

async function producing(id: string, kinds: Array<'mic' | 'camera' | 'screen'>): Promise<{ c: SignallingClient; events: any[]; closed: Promise<{ code: number; reason: string }> }> {
  const c = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: id }));
  const events: any[] = [];
  c.on('hostAction', (d) => events.push(d));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => c.onClose(resolve));
  const t = await c.request('createTransport', { direction: 'send' });
  let ssrc = id.length * 1000;
  for (const source of kinds) {
    const video = source !== 'mic';
    const rtpParameters = video
      ? { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [] }], encodings: [{ ssrc: ++ssrc }], headerExtensions: [], rtcp: { cname: id } }
      : opusRtpParameters(++ssrc);
    await c.request('produce', { transportId: t.id, kind: video ? 'video' : 'audio', source, rtpParameters });
  }
  return { c, events, closed };
}

describe('host commands on the edge node', { timeout: 120_000 }, () => {
  before(async () => {
    edge = await startEdge({ workers: 1 });
  });
  after(async () => edge?.stop());

  test('refused: unsigned, foreign-signed, malformed, replayed, or a join token', async () => {
    // Its own meeting: an `end` that is carried out holds on the node (a removal and an end outlive the command).
    const M = 'cmd-refused';
    assert.equal((await post('garbage')).status, 401);
    const other = await loadDevKeys(`${edge.keys.jwksPath}.other`);
    assert.equal((await post(await mintCommand(other, M, { act: 'end' }))).status, 401);
    const join = await mintJoinToken(edge.keys, { meetingId: M, participantId: 'x', name: 'x' });
    assert.equal((await post(join)).status, 401, 'a join token is not a command');
    const res = await fetch(`${edge.url}/commands`, { method: 'POST', body: 'not json' });
    assert.equal(res.status, 400);
    const token = await mintCommand(edge.keys, M, { act: 'end' });
    assert.equal((await post(token)).status, 200);
    const again = await post(token);
    assert.equal(again.status, 401);
    assert.match(again.body.error, /already carried out/);
    assert.equal((await post(await mintCommand(edge.keys, M, { act: 'end' }, { ttlSeconds: 600 }))).status, 401, 'too long-lived');
  });

  test('a meeting not on this node: nothing to do', async () => {
    assert.deepEqual((await send({ act: 'mute', target: 'x' }, 'elsewhere')).body, { applied: false, affected: 0 });
  });

  test('mute, stop video and stop screen reach the target and the others', async () => {
    const a = await producing('alice', ['mic', 'camera', 'screen']);
    const b = await producing('bob', ['mic']);
    const seenByBob: string[] = [];
    b.c.on('producerPaused', () => seenByBob.push('paused'));
    b.c.on('producerClosed', () => seenByBob.push('closed'));
    assert.deepEqual((await send({ act: 'mute', target: 'alice' })).body, { applied: true, affected: 1 });
    assert.deepEqual((await send({ act: 'stopVideo', target: 'alice' })).body, { applied: true, affected: 1 });
    assert.deepEqual((await send({ act: 'stopScreen', target: 'alice' })).body, { applied: true, affected: 1 });
    await waitFor('alice to hear of all three', () => a.events.length === 3);
    assert.deepEqual(a.events.map((e) => e.action), ['mute', 'stopVideo', 'stopScreen']);
    await waitFor('bob to see alice paused and closed', () => seenByBob.filter((s) => s === 'closed').length === 2 && seenByBob.includes('paused'));
    // muteAll spares those listed
    assert.deepEqual((await send({ act: 'muteAll', except: ['alice'] })).body, { applied: true, affected: 1 });
    await waitFor('bob muted', () => b.events.some((e) => e.action === 'mute'));
    a.c.close();
    b.c.close();
  });

  test('remove disconnects the target only; end disconnects everyone', async () => {
    const a = await producing('ann', []);
    const b = await producing('ben', []);
    assert.deepEqual((await send({ act: 'remove', target: 'ben' })).body, { applied: true, affected: 1 });
    assert.equal((await b.closed).code, CloseCodes.removed);
    assert.deepEqual((await send({ act: 'end' })).body, { applied: true, affected: 1 });
    assert.equal((await a.closed).code, CloseCodes.meetingEnded);
  });

  test('a participant whose token forbids screen sharing cannot share', async () => {
    const c = await joinAs(edge.wsUrl, 'no-screens', await mintJoinToken(edge.keys, { meetingId: 'no-screens', participantId: 'p', name: 'p', screen: false }));
    const t = await c.request('createTransport', { direction: 'send' });
    const rtpParameters = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 9 }] };
    await assert.rejects(c.request('produce', { transportId: t.id, kind: 'video', source: 'screen', rtpParameters }), (e: { code: string }) => e.code === 'forbidden');
    await c.request('produce', { transportId: t.id, kind: 'video', source: 'camera', rtpParameters });
    c.close();
  });
});
