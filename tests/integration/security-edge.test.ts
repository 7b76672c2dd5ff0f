/**
 * Security defect 1 on a real edge node: a removal or an end holds for the lifetime of the join tokens issued before
 * it. A removed participant reconnecting with the token they still hold is refused (4410), so is anyone after an
 * end (4411), also when the node had nobody of that meeting when the command came, and when the signed command
 * reaches the node as a relayed record (the way a gossip layer feeds it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { mintCommand } from '../../edge-node/index.js';
import type { HostCommand } from '../../edge-node/protocol/commands.js';
import { CloseCodes, PROTOCOL_VERSION } from '../../edge-node/protocol/signalling.js';
import { SignallingClient, SignallingError } from '../../web/src/signalling-client.js';
import { startEdge, type TestEdge } from '../helpers/edge.js';
import { RawSocket, closed, joinAs } from '../helpers/ws-client.js';

let edge: TestEdge;

async function command(meetingId: string, cmd: HostCommand): Promise<{ status: number; body: any }> {
  const token = await mintCommand(edge.keys, meetingId, cmd);
  const res = await fetch(`${edge.url}/commands`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
  return { status: res.status, body: await res.json() };
}

/** Connects a raw socket with `token` and resolves with how it was closed (or 'open' if it joined). */
async function reconnect(meetingId: string, token: string): Promise<{ code: number; reason: string } | 'joined'> {
  try {
    const c = await joinAs(edge.wsUrl, meetingId, token);
    c.close();
    return 'joined';
  } catch {
    const ws = new WebSocket(`${edge.wsUrl}/ws/${meetingId}?token=${token}`);
    return closed(ws);
  }
}

describe('security: removals and ends hold on the edge node for the token lifetime', { timeout: 120_000 }, () => {
  before(async () => {
    edge = await startEdge({ workers: 1 });
  });
  after(async () => edge?.stop());

  test('removed, then reconnect with the old token: refused with 4410', async () => {
    const M = 'sec-remove';
    const token = await edge.token({ meetingId: M, participantId: 'mallory' });
    const stay = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: 'host' }));
    const first = await joinAs(edge.wsUrl, M, token);
    const gone = new Promise<{ code: number }>((resolve) => first.onClose(resolve));
    assert.deepEqual((await command(M, { act: 'remove', target: 'mallory' })).body, { applied: true, affected: 1 });
    assert.equal((await gone).code, CloseCodes.removed);
    const again = await reconnect(M, token);
    assert.notEqual(again, 'joined', 'the removed participant came back with the old token');
    assert.deepEqual(again, { code: CloseCodes.removed, reason: 'you were removed from this meeting' });
    // Others are not affected: a fresh connection of another participant still joins.
    assert.equal(await reconnect(M, await edge.token({ meetingId: M, participantId: 'bob' })), 'joined');
    stay.close();
  });

  test('a removal received while the participant is on no node still holds', async () => {
    const M = 'sec-remove-absent';
    const token = await edge.token({ meetingId: M, participantId: 'eve' });
    assert.deepEqual((await command(M, { act: 'remove', target: 'eve' })).body, { applied: false, affected: 0 });
    assert.deepEqual(await reconnect(M, token), { code: CloseCodes.removed, reason: 'you were removed from this meeting' });
  });

  test('after end, a valid token of that meeting does not open a fresh room: 4411', async () => {
    const M = 'sec-end';
    const a = await edge.token({ meetingId: M, participantId: 'a' });
    const c = await joinAs(edge.wsUrl, M, a);
    const gone = new Promise<{ code: number }>((resolve) => c.onClose(resolve));
    await command(M, { act: 'end' });
    assert.equal((await gone).code, CloseCodes.meetingEnded);
    assert.deepEqual(await reconnect(M, a), { code: CloseCodes.meetingEnded, reason: 'the meeting has ended' });
    assert.deepEqual(await reconnect(M, await edge.token({ meetingId: M, participantId: 'newcomer', issuedAt: Math.floor(Date.now() / 1000) - 5 })),
      { code: CloseCodes.meetingEnded, reason: 'the meeting has ended' });
    // An end with nobody on the node (the meeting lived elsewhere) holds too.
    const N = 'sec-end-absent';
    const t = await edge.token({ meetingId: N, participantId: 'z' });
    assert.deepEqual((await command(N, { act: 'end' })).body, { applied: false, affected: 0 });
    assert.deepEqual(await reconnect(N, t), { code: CloseCodes.meetingEnded, reason: 'the meeting has ended' });
  });

  test('a relayed signed record (gossip) feeds the same store; forged or non-revoking records are refused', async () => {
    const M = 'sec-relayed';
    const token = await edge.token({ meetingId: M, participantId: 'trudy' });
    const record = await mintCommand(edge.keys, M, { act: 'remove', target: 'trudy' });
    assert.deepEqual(await edge.node.acceptRevocation(record), { ok: true });
    assert.deepEqual(await edge.node.acceptRevocation(record), { ok: true }, 'a replayed record is harmless');
    assert.deepEqual(await reconnect(M, token), { code: CloseCodes.removed, reason: 'you were removed from this meeting' });
    assert.equal((await edge.node.acceptRevocation('not.a.jwt')).ok, false);
    assert.equal((await edge.node.acceptRevocation(await mintCommand(edge.keys, M, { act: 'mute', target: 'x' }))).ok, false);
  });

  test('defect 10: join refuses rtpCapabilities without codecs, naming the field', async () => {
    const raw = new RawSocket(`${edge.wsUrl}/ws/sec-caps?token=${await edge.token({ meetingId: 'sec-caps', participantId: 'p' })}`);
    for (const [caps, field] of [
      [{}, 'rtpCapabilities.codecs'],
      [{ codecs: [] }, 'rtpCapabilities.codecs'],
      [{ codecs: [{}] }, 'rtpCapabilities.codecs.0.kind'],
      [{ codecs: [{ kind: 'audio', mimeType: 'opus', clockRate: 48000 }] }, 'rtpCapabilities.codecs.0.mimeType'],
      [{ codecs: 'x' }, 'rtpCapabilities.codecs'],
    ] as const) {
      const r = await raw.send(JSON.stringify({ id: 1, method: 'join', data: { protocolVersion: PROTOCOL_VERSION, rtpCapabilities: caps } }), 1);
      assert.equal(r.ok, false, `${JSON.stringify(caps)}: ${JSON.stringify(r)}`);
      assert.equal(r.error.code, 'bad_request');
      assert.match(r.error.message, new RegExp(`^join: ${field.replace(/\./g, '\\.')}:`), JSON.stringify(caps));
    }
    raw.ws.close();
  });

  test('defect 10: a request on a dead socket fails at once with "closed", not after the timeout', async () => {
    const M = 'sec-dead';
    const c = new SignallingClient(new WebSocket(`${edge.wsUrl}/ws/${M}?token=${await edge.token({ meetingId: M, participantId: 'd' })}`) as unknown as globalThis.WebSocket, 3000);
    await c.request('getRouterRtpCapabilities', {});
    const gone = new Promise<void>((resolve) => c.onClose(() => resolve()));
    await command(M, { act: 'remove', target: 'd' });
    await gone;
    await assert.rejects(c.request('getRouterRtpCapabilities', {}), (e: SignallingError) => e.code === 'closed');
  });
});
