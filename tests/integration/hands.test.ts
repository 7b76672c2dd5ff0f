/**
 * Raised hands and reactions through the edge node's signalling (real node, real workers): hands are kept in the
 * order they were raised and everyone is told, only hosts lower others' hands, a leaver's hand goes down, and
 * reactions reach everyone but are rate-limited; bad input gets an error answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { EventData } from '../../edge-node/protocol/signalling.js';
import { reactionAllowed, REACTION_BURST, REACTION_WINDOW_MS } from '../../edge-node/src/decisions/permissions.js';
import type { SignallingClient } from '../../web/src/signalling-client.js';
import { startEdge, waitFor, type TestEdge } from '../helpers/edge.js';
import { RawSocket, joinAs } from '../helpers/ws-client.js';

let edge: TestEdge;
const M = 'hands-room';
const clients: SignallingClient[] = [];

async function member(id: string, role: 'host' | 'participant' = 'participant') {
  const c = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: id, role }));
  clients.push(c);
  const hands: Array<EventData<'handsChanged'>> = [];
  const reactions: Array<EventData<'reaction'>> = [];
  c.on('handsChanged', (d) => hands.push(d));
  c.on('reaction', (d) => reactions.push(d));
  return { c, hands, reactions, last: () => hands.at(-1)?.raised };
}

describe('raised hands and reactions', { timeout: 60_000 }, () => {
  before(async () => {
    edge = await startEdge({ workers: 1 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await edge?.stop();
  });

  test('hands in order, lowered by a host, dropped on leave; reactions reach everyone', async () => {
    const host = await member('h', 'host');
    const ann = await member('ann');
    const ben = await member('ben');
    await ben.c.request('raiseHand', { raised: true });
    await ann.c.request('raiseHand', { raised: true });
    await ann.c.request('raiseHand', { raised: true }); // again: no change
    await waitFor('the host sees both hands in order', () => JSON.stringify(host.last()) === '["ben","ann"]');
    assert.equal(host.hands.length, 2, 'raising twice tells nobody twice');

    // A late joiner learns the hands from its join answer.
    const late = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: 'late' }));
    clients.push(late);

    // A participant cannot lower someone else's hand; a host can.
    await assert.rejects(ann.c.request('lowerHand', { participantId: 'ben' }), (e: { code: string }) => e.code === 'forbidden');
    await host.c.request('lowerHand', { participantId: 'ben' });
    await waitFor('ben to see his hand lowered by the host', () => ben.hands.at(-1)?.loweredBy === 'h' && JSON.stringify(ben.last()) === '["ann"]');
    // Ann lowers her own; then raises again and leaves: her hand goes down for everyone.
    await ann.c.request('raiseHand', { raised: false });
    await waitFor('no hands', () => host.last()?.length === 0);
    await ann.c.request('raiseHand', { raised: true });
    await waitFor('ann up', () => JSON.stringify(host.last()) === '["ann"]');
    await ann.c.request('leave', {});
    await waitFor('ann\'s hand down after she left', () => host.last()?.length === 0);

    await ben.c.request('react', { emoji: '👏' });
    await waitFor('everyone, the sender too, sees the reaction', () =>
      [host, ben].every((m) => m.reactions.some((r) => r.participantId === 'ben' && r.emoji === '👏')));
  });

  test('a raised hand is in the join answer', async () => {
    const host = clients[0]!;
    await host.request('raiseHand', { raised: true });
    const c = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: 'joiner' }));
    clients.push(c);
    // joinAs does not return the join data: ask through a raw socket instead.
    const raw = new RawSocket(`${edge.wsUrl}/ws/${M}?token=${await edge.token({ meetingId: M, participantId: 'raw' })}`);
    const caps = await raw.send(JSON.stringify({ id: 1, method: 'getRouterRtpCapabilities', data: {} }), 1);
    const joined = await raw.send(JSON.stringify({ id: 2, method: 'join', data: { protocolVersion: 1, rtpCapabilities: caps.data.rtpCapabilities } }), 2);
    assert.deepEqual(joined.data.raisedHands, ['h']);
    // Bad input: an emoji that is not a reaction, a missing field, a hand for nobody.
    const bad = await raw.send(JSON.stringify({ id: 3, method: 'react', data: { emoji: '💩' } }), 3);
    assert.equal(bad.error.code, 'bad_request');
    assert.match(bad.error.message, /emoji/);
    const missing = await raw.send(JSON.stringify({ id: 4, method: 'raiseHand', data: {} }), 4);
    assert.equal(missing.error.code, 'bad_request');
    const lowerNobody = await raw.send(JSON.stringify({ id: 5, method: 'lowerHand', data: { participantId: 'raw' } }), 5);
    assert.equal(lowerNobody.ok, true, 'lowering a hand that is not up is a no-op');
    raw.ws.close();
  });

  test('reactions are rate-limited', async () => {
    const m = await member('fast');
    let refused = 0;
    for (let i = 0; i < REACTION_BURST + 2; i++) {
      await m.c.request('react', { emoji: '🎉' }).catch((e: { code: string }) => {
        assert.equal(e.code, 'forbidden');
        refused++;
      });
    }
    assert.equal(refused, 2);
    assert.equal(reactionAllowed([0, 1, 2, 3, 4], REACTION_WINDOW_MS + 5), true, 'the window slides');
  });
});
