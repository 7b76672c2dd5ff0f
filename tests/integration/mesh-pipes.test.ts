/**
 * Two real edge nodes (real mediasoup workers) in one process, joined by the in-process LoopbackMesh harness: remote
 * participants and producers appear through shards; a producer is piped once per remote node however many subscribe
 * there; pause, resume and close cross; a pipe nobody uses closes; a dead peer's pipes and participants go; a newer
 * session on another node replaces the old one (4409); a draining or full node redirects.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mintCommand } from '../../edge-node/index.js';
import { CloseCodes, type EventData, type EventName } from '../../edge-node/protocol/signalling.js';
import type { SignallingClient } from '../../web/src/signalling-client.js';
import { startEdge, waitFor, type TestEdge } from '../helpers/edge.js';
import { LoopbackMesh } from '../helpers/loopback-mesh.js';
import { connect, joinAs, opusRtpParameters } from '../helpers/ws-client.js';

const MEETING = 'mesh-pipes';

function vp8RtpParameters(ssrc: number) {
  return {
    codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [{ type: 'nack' }, { type: 'ccm', parameter: 'fir' }, { type: 'nack', parameter: 'pli' }] }],
    encodings: [{ ssrc }],
    headerExtensions: [],
    rtcp: { cname: `cname-${ssrc}` },
  };
}

/** Records every event a client gets. */
function record(c: SignallingClient) {
  const events: Array<{ event: EventName; data: unknown }> = [];
  const names: EventName[] = ['participantJoined', 'participantLeft', 'newProducer', 'producerPaused', 'producerResumed', 'producerClosed', 'consumerClosed', 'redirect'];
  for (const e of names) c.on(e, (data) => events.push({ event: e, data }));
  return {
    events,
    has: <E extends EventName>(e: E, pred: (d: EventData<E>) => boolean = () => true) =>
      events.some((x) => x.event === e && pred(x.data as EventData<E>)),
  };
}

describe('a meeting across two nodes (loopback mesh)', { timeout: 180_000 }, () => {
  const mesh = new LoopbackMesh();
  let a: TestEdge;
  let b: TestEdge;
  const clients: SignallingClient[] = [];
  const join = async (edge: TestEdge, id: string) => {
    const c = await joinAs(edge.wsUrl, MEETING, await edge.token({ meetingId: MEETING, participantId: id }));
    clients.push(c);
    return c;
  };
  const recvTransport = async (c: SignallingClient) => (await c.request('createTransport', { direction: 'recv' })).id;
  const outbound = (edge: TestEdge, peer: string) => edge.node.meshMeeting(MEETING)?.pipeCounts().outbound[peer] ?? 0;

  before(async () => {
    a = await startEdge({ nodeId: 'node-a', pipeIdleMs: 300 }, { mesh: (d) => mesh.link('node-a', d) });
    b = await startEdge({ nodeId: 'node-b', pipeIdleMs: 300 }, { keys: a.keys, mesh: (d) => mesh.link('node-b', d) });
  });
  after(async () => {
    for (const c of clients) c.close();
    await b?.stop();
    await a?.stop();
  });

  let alice: SignallingClient;
  let mic = '';
  let cam = '';

  test('a participant on another node is in the roster, with its producers', async () => {
    alice = await join(a, 'alice');
    const send = (await alice.request('createTransport', { direction: 'send' })).id;
    mic = (await alice.request('produce', { transportId: send, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(1111) })).producerId;
    cam = (await alice.request('produce', { transportId: send, kind: 'video', source: 'camera', rtpParameters: vp8RtpParameters(2222) })).producerId;
    await waitFor('alice\'s shard at node-b', () => mesh.get('node-b')!.shards(MEETING).some((s) => s.producers.length === 2));
    const bob = connect(b.wsUrl, MEETING, await b.token({ meetingId: MEETING, participantId: 'bob' }));
    clients.push(bob);
    const { rtpCapabilities } = await bob.request('getRouterRtpCapabilities', {});
    const joined = await bob.request('join', { protocolVersion: 1, rtpCapabilities });
    assert.deepEqual(joined.participants.map((p) => p.id), ['alice']);
    assert.deepEqual(joined.producers.map((p) => p.id).sort(), [mic, cam].sort());
    const seen = record(alice);
    await waitFor('alice to see bob join on the other node', () => seen.has('participantJoined', (d) => d.id === 'bob'));
  });

  test('consumers on the remote node share one pipe consumer per producer', async () => {
    const subscribers = [clients[1]!, ...(await Promise.all(['carol', 'dave', 'erin'].map((id) => join(b, id))))];
    const transports = await Promise.all(subscribers.map(recvTransport));
    // Everyone subscribes at once: the first requests for each producer overlap, and build one pipe.
    await Promise.all(subscribers.flatMap((c, i) => [mic, cam].map((producerId) => c.request('consume', { transportId: transports[i]!, producerId }))));
    assert.equal(outbound(a, 'node-b'), 2, 'one pipe consumer per (producer, remote node)');
    assert.equal(b.node.meshMeeting(MEETING)?.pipeCounts().inbound['node-a'], 2);
    assert.equal(mesh.requests.filter((r) => r.type === 'pipeProducer').length, 2);
    assert.equal(mesh.requests.filter((r) => r.type === 'openTransport').length, 1);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    assert.match(metrics, /^edge_pipe_consumers 2$/m);
  });

  test('pause, resume and close cross the pipe', async () => {
    const bob = clients[1]!;
    const seen = record(bob);
    await alice.request('pauseProducer', { producerId: cam });
    await waitFor('bob told of the pause', () => seen.has('producerPaused', (d) => d.producerId === cam));
    await alice.request('resumeProducer', { producerId: cam });
    await waitFor('bob told of the resume', () => seen.has('producerResumed', (d) => d.producerId === cam));
    await alice.request('closeProducer', { producerId: cam });
    await waitFor('bob told of the close', () => seen.has('producerClosed', (d) => d.producerId === cam) && seen.has('consumerClosed', (d) => d.producerId === cam));
    await waitFor('the camera pipe consumer gone', () => outbound(a, 'node-b') === 1);
  });

  test('a pipe nobody uses closes', async () => {
    const hank = await join(b, 'hank'); // stays on node-b without consuming: the meeting stays there
    for (const c of clients.slice(1)) if (c !== hank) c.close(); // every subscriber leaves
    await waitFor('no pipe consumer left on node-a', () => outbound(a, 'node-b') === 0);
    assert.ok(b.node.meshMeeting(MEETING), 'node-b still holds the meeting');
    assert.equal(mesh.requests.filter((r) => r.type === 'unpipeProducer').length, 1);
    hank.close();
  });

  test('a newer session on another node replaces the old one (4409)', async () => {
    const closed = new Promise<number>((resolve) => alice.onClose((i) => resolve(i.code)));
    const again = await join(b, 'alice');
    assert.equal(await closed, CloseCodes.replaced);
    // node-a has no participant left: its meeting closed; alice lives on node-b.
    await waitFor('node-a to close its part', () => !a.node.meshMeeting(MEETING));
    again.close();
  });

  test('a dead peer: its participants leave, its pipes close', async () => {
    const frank = await join(a, 'frank');
    const seen = record(frank);
    const gina = await join(b, 'gina');
    const send = (await gina.request('createTransport', { direction: 'send' })).id;
    const ginaMic = (await gina.request('produce', { transportId: send, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(3333) })).producerId;
    await waitFor('gina\'s mic offered at node-a', () => seen.has('newProducer', (d) => d.id === ginaMic));
    await frank.request('consume', { transportId: await recvTransport(frank), producerId: ginaMic });
    assert.equal(outbound(b, 'node-a'), 1);
    mesh.kill('node-b');
    await waitFor('frank told gina left', () => seen.has('participantLeft', (d) => d.participantId === 'gina') && seen.has('consumerClosed', (d) => d.producerId === ginaMic));
    assert.equal(a.node.meshMeeting(MEETING)?.pipeCounts().inbound['node-b'] ?? 0, 0);
  });
});

describe('redirects', { timeout: 120_000 }, () => {
  const mesh = new LoopbackMesh();
  let a: TestEdge;
  let b: TestEdge;
  before(async () => {
    a = await startEdge({ nodeId: 'node-a', capacity: 1, drainTimeoutMs: 20_000 }, { mesh: (d) => mesh.link('node-a', d) });
    b = await startEdge({ nodeId: 'node-b' }, { keys: a.keys, mesh: (d) => mesh.link('node-b', d) });
  });
  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  test('a host command gossiped as a revocation is carried out on the node that holds the target', async () => {
    const target = await joinAs(b.wsUrl, 'rv', await b.token({ meetingId: 'rv', participantId: 'mallory' }));
    const code = new Promise<number>((resolve) => target.onClose((i) => resolve(i.code)));
    mesh.get('node-b')!.emit('revocation', 'not-a-token'); // a bad record is dropped, nothing happens
    mesh.get('node-b')!.emit('revocation', await mintCommand(a.keys, 'rv', { act: 'remove', target: 'mallory' }));
    assert.equal(await code, CloseCodes.removed);
  });

  test('a full node sends the joiner to a peer; a draining node moves everyone, then stops', async () => {
    const first = await joinAs(a.wsUrl, 'r', await a.token({ meetingId: 'r', participantId: 'p1' }));
    const second = connect(a.wsUrl, 'r', await a.token({ meetingId: 'r', participantId: 'p2' }));
    const redirect = new Promise<EventData<'redirect'>>((resolve) => second.on('redirect', resolve));
    const code = new Promise<number>((resolve) => second.onClose((i) => resolve(i.code)));
    assert.deepEqual(await redirect, { nodeUrl: b.wsUrl, reason: 'full' });
    assert.equal(await code, CloseCodes.redirected);

    const moved = new Promise<EventData<'redirect'>>((resolve) => first.on('redirect', resolve));
    const drained = a.node.drain();
    assert.deepEqual(await moved, { nodeUrl: b.wsUrl, reason: 'draining' });
    assert.equal(a.node.describe().state, 'draining');
    first.close(); // the client moves
    await drained;
    assert.equal((await fetch(`${a.url}/healthz`).catch(() => null))?.status ?? 0, 0, 'the node stopped');
  });
});
