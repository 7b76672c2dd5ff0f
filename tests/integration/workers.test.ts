/**
 * A meeting that outgrows one worker spreads over the node's workers (one router per worker) and pipes producers
 * between them with pipeToRouter: one pipe producer per (producer, worker), pause and close follow, and an extra
 * router nobody is on gives its worker back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SignallingClient } from '../../web/src/signalling-client.js';
import { startEdge, waitFor, type TestEdge } from '../helpers/edge.js';
import { joinAs, opusRtpParameters } from '../helpers/ws-client.js';

const MEETING = 'spread';

describe('a meeting across workers', { timeout: 120_000 }, () => {
  let edge: TestEdge;
  const clients = new Map<string, SignallingClient>();
  const join = async (id: string) => {
    const c = await joinAs(edge.wsUrl, MEETING, await edge.token({ meetingId: MEETING, participantId: id }));
    clients.set(id, c);
    return c;
  };
  const meeting = () => edge.node.meetingOf(MEETING)!;

  before(async () => {
    edge = await startEdge({ workers: 3, routerParticipants: 1 });
  });
  after(async () => {
    for (const c of clients.values()) c.close();
    await edge?.stop();
  });

  test('participants beyond a router\'s share go to other workers, and receive each other through pipes', async () => {
    const alice = await join('alice');
    const send = (await alice.request('createTransport', { direction: 'send' })).id;
    const mic = (await alice.request('produce', { transportId: send, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(4444) })).producerId;
    const bob = await join('bob');
    const carol = await join('carol');
    const dave = await join('dave'); // the three workers are taken: dave shares the least loaded router (alice's)
    const erin = await join('erin'); // and erin the next least loaded: a worker that alice's mic is piped to
    assert.equal(new Set(meeting().workers).size, 3, 'three routers on three distinct workers');
    assert.deepEqual(['alice', 'bob', 'carol'].map((id) => meeting().workerOf(id)).sort(), [...meeting().workers].sort());
    assert.notEqual(meeting().workerOf('erin'), meeting().workerOf('alice'));
    for (const c of [bob, carol, dave, erin]) {
      const t = (await c.request('createTransport', { direction: 'recv' })).id;
      const consumed = await c.request('consume', { transportId: t, producerId: mic });
      assert.equal(consumed.participantId, 'alice');
    }
    // One pipe producer per other worker, whatever the number of consumers there.
    assert.equal(meeting().producers.copyCount(mic), 2);
    assert.equal(meeting().workerPipes, 2, 'pipeToRouter once per (producer, worker)');
    const closed = new Promise((resolve) => bob.on('consumerClosed', resolve));
    const paused = new Promise((resolve) => carol.on('producerPaused', resolve));
    await alice.request('pauseProducer', { producerId: mic });
    await paused;
    await alice.request('closeProducer', { producerId: mic });
    await closed; // the pipe producer on bob's worker closed with the original
    assert.equal(meeting().producers.copyCount(mic), 0);
  });

  test('an extra router nobody is on any more is closed', async () => {
    const before = meeting().workers.length;
    const worker = meeting().workerOf('bob');
    clients.get('bob')!.close();
    clients.get('erin')!.close(); // the two on that worker
    await waitFor('bob\'s and erin\'s router closed', () => meeting().workers.length === before - 1 && !meeting().workers.includes(worker!));
  });
});
