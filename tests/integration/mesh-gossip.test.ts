/**
 * The mesh over real libp2p on loopback: three nodes in three regions converge; shards and pipe requests go between
 * them; a node killed with SIGKILL (a child process) leaves every view and takes its shards with it; a node without
 * the cluster key cannot connect or inject anything; forged and unsigned records are dropped.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { MAX_PIPE_FRAME_BYTES, PIPE_PROTOCOL, TOPICS, type NodeInfo, type PipeResponse } from '../../edge-node/protocol/mesh.js';
import { generateClusterKey } from '../../edge-node/src/mesh/cluster-key.js';
import { readFrame } from '../../edge-node/src/mesh/frames.js';
import { GossipMesh } from '../../edge-node/src/mesh/gossip-mesh.js';
import { createMeshNode, type MeshLibp2p } from '../../edge-node/src/mesh/libp2p-node.js';
import { waitFor } from '../helpers/edge.js';
import { describeNode, spawnMeshChild } from '../helpers/mesh.js';

const key = generateClusterKey();
let dir: string;
let keyFile: string;
const meshes: GossipMesh[] = [];
const rogues: MeshLibp2p[] = [];

async function node(nodeId: string, region: string, join: string[] = [], over: Parameters<typeof describeNode>[1] = {}) {
  const m = await GossipMesh.start({ clusterKey: key, nodeId, describe: () => describeNode(nodeId, { region, ...over }), join, requestTimeoutMs: 3_000 });
  meshes.push(m);
  return m;
}

function viewOf(m: GossipMesh): string {
  return m.peers().map((p) => `${p.nodeId}@${p.region}`).sort().join(' ');
}

let a: GossipMesh, b: GossipMesh, c: GossipMesh;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-mesh-'));
  keyFile = path.join(dir, 'cluster.key');
  await fs.writeFile(keyFile, key);
  a = await node('a', 'eu-west', [], { latitude: 53.3, longitude: -6.3 });
  b = await node('b', 'us-east', a.multiaddrs(), { latitude: 39, longitude: -77.5 });
  c = await node('c', 'ap-south', b.multiaddrs(), { latitude: 19.1, longitude: 72.9 });
});

after(async () => {
  await Promise.all(meshes.map((m) => m.stop()));
  await Promise.all(rogues.map((r) => r.stop()));
  await fs.rm(dir, { recursive: true, force: true });
});

test('three nodes in three regions: every view converges to the other two', { timeout: 60_000 }, async () => {
  await waitFor('views to converge', () =>
    viewOf(a) === 'b@us-east c@ap-south' && viewOf(b) === 'a@eu-west c@ap-south' && viewOf(c) === 'a@eu-west b@us-east', 30_000, 100);
  const seenByC = c.peer('a')!;
  assert.equal(seenByC.peerId, a.peerId);
  assert.equal(seenByC.latitude, 53.3);
  assert.ok(seenByC.multiaddrs!.every((addr) => addr.endsWith(`/p2p/${a.peerId}`)));
  assert.equal(a.peer('a'), undefined, 'a node is not its own peer');
});

test('shards reach every node; a newer version replaces; a tombstone removes; digests repair a lost shard', { timeout: 60_000 }, async () => {
  await waitFor('views to converge', () => a.peers().length === 2 && b.peers().length === 2 && c.peers().length === 2, 30_000, 100);
  const changes: string[] = [];
  c.on('shardChanged', (meetingId, nodeId) => changes.push(`${meetingId}/${nodeId}`));
  a.publishShard('m1', { participants: [{ id: 'p1', name: 'Ann', role: 'host', joinedAt: 1 }], producers: [], speaker: null });
  b.publishShard('m1', { participants: [{ id: 'p2', name: 'Bob', role: 'participant', joinedAt: 2 }], producers: [], speaker: null });
  await waitFor('both shards at c', () => c.shards('m1').length === 2, 15_000, 50);
  assert.deepEqual(c.view.nodesOfMeeting('m1').map((n) => n.nodeId).sort(), ['a', 'b']);
  assert.deepEqual(a.shards('m1').map((s) => s.nodeId), ['b'], 'shards() leaves out the own node');
  assert.ok(changes.includes('m1/a') && changes.includes('m1/b'));

  a.publishShard('m1', {
    participants: [{ id: 'p1', name: 'Ann', role: 'host', joinedAt: 1 }],
    producers: [{ id: 'v1', participantId: 'p1', kind: 'video', source: 'camera', paused: true }],
    speaker: { participantId: 'p1', level: -20 },
  });
  await waitFor('the new version at b and c', () => [b, c].every((m) => m.shards('m1').find((s) => s.nodeId === 'a')?.producers[0]?.paused === true), 15_000, 50);
  assert.equal(c.shards('m1').find((s) => s.nodeId === 'a')!.version, 2);

  b.publishShard('m1', null);
  await waitFor('b to leave m1 everywhere', () => a.shards('m1').length === 0 && c.shards('m1').length === 1, 15_000, 50);
  assert.deepEqual(c.view.nodesOfMeeting('m1').map((n) => n.nodeId), ['a']);

  // A node that joins later has missed all of it: its digest brings the live shards (repair).
  const d = await node('d', 'eu-north', [c.multiaddrs()[0]!]);
  await waitFor('d to get a\'s shard by repair', () => d.shards('m1').length === 1 && d.shards('m1')[0]!.version === 2, 30_000, 100);
  await d.stop();
  await waitFor('d to leave every view', () => [a, b, c].every((m) => !m.peer('d')), 15_000, 100);
});

test('pipe requests: answered by the handler with the caller authenticated; errors are answers', { timeout: 60_000 }, async () => {
  await waitFor('views to converge', () => a.peers().length === 2 && b.peers().length === 2 && c.peers().length === 2, 30_000, 100);
  const calls: string[] = [];
  a.serve(async (from, req) => {
    calls.push(`${from}:${req.type}:${req.meetingId}`);
    if (req.type === 'openTransport') {
      return { ok: true, type: 'openTransport', remote: { ip: '127.0.0.1', port: 40000, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a2V5' } } };
    }
    if (req.type === 'pipeProducer' && req.producerId === 'hang') return new Promise<PipeResponse>(() => undefined);
    if (req.type === 'pipeProducer' && req.producerId === 'throw') throw new Error('router closed');
    if (req.type === 'pipeProducer') return { ok: false, error: { code: 'not_found', message: `no producer ${req.producerId}` } };
    return { ok: true, type: req.type };
  });
  const opened = await b.request('a', {
    type: 'openTransport', v: 1, meetingId: 'm1',
    local: { ip: '127.0.0.1', port: 40001, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a2V5' } },
  });
  assert.deepEqual(opened, { ok: true, type: 'openTransport', remote: { ip: '127.0.0.1', port: 40000, srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: 'a2V5' } } });
  assert.deepEqual(await c.request('a', { type: 'requestKeyFrame', v: 1, meetingId: 'm1', producerId: 'v1' }), { ok: true, type: 'requestKeyFrame' });
  assert.deepEqual(calls, ['b:openTransport:m1', 'c:requestKeyFrame:m1']);
  // concurrent requests each get their own answer
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => c.request('a', { type: 'pipeProducer', v: 1, meetingId: 'm1', producerId: `p${i}` })));
  assert.deepEqual(many.map((r) => (r.ok ? 'ok' : r.error.message)), Array.from({ length: 20 }, (_, i) => `no producer p${i}`));

  const thrown = await b.request('a', { type: 'pipeProducer', v: 1, meetingId: 'm1', producerId: 'throw' });
  assert.deepEqual(thrown, { ok: false, error: { code: 'internal', message: 'router closed' } });
  assert.deepEqual(await a.request('b', { type: 'unpipeProducer', v: 1, meetingId: 'm1', producerId: 'x' }), { ok: false, error: { code: 'internal', message: 'this node serves no pipes' } });
  await assert.rejects(b.request('a', { type: 'pipeProducer', v: 1, meetingId: 'm1', producerId: 'hang' }), /timed out/);
  await assert.rejects(b.request('nobody', { type: 'requestKeyFrame', v: 1, meetingId: 'm1', producerId: 'v1' }), /unknown node nobody/);
  await assert.rejects(b.request('a', { type: 'requestKeyFrame', v: 2, meetingId: 'm1', producerId: 'v1' } as never), /invalid pipe request: v/);
});

test('pipe protocol: malformed, invalid and oversized frames get a bad_request answer, and the node goes on', { timeout: 60_000 }, async () => {
  await waitFor('views to converge', () => b.peers().length === 2, 30_000, 100);
  const ask = async (bytes: Uint8Array) => {
    const stream = await b.libp2p.dialProtocol(peerIdFromString(a.peerId), PIPE_PROTOCOL);
    await stream.sink([bytes]);
    return readFrame(stream.source);
  };
  const frame = (body: string) => {
    const buf = Buffer.alloc(4 + Buffer.byteLength(body));
    buf.writeUInt32BE(Buffer.byteLength(body), 0);
    buf.write(body, 4);
    return buf;
  };
  assert.deepEqual(await ask(frame('{not json')), { ok: false, error: { code: 'bad_request', message: 'frame is not JSON' } });
  const invalid = (await ask(frame(JSON.stringify({ type: 'pipeProducer', v: 1, meetingId: 'm1' })))) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(invalid.error.code, 'bad_request');
  assert.match(invalid.error.message, /producerId/);
  const header = Buffer.alloc(4);
  header.writeUInt32BE(MAX_PIPE_FRAME_BYTES + 1, 0);
  const big = (await ask(header)) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(big.error.code, 'bad_request');
  assert.match(big.error.message, /over the limit/);
  assert.deepEqual(await ask(Buffer.from([0, 0])), { ok: false, error: { code: 'bad_request', message: 'stream ended before a whole frame arrived' } });
  assert.deepEqual(await b.request('a', { type: 'requestKeyFrame', v: 1, meetingId: 'm1', producerId: 'v1' }), { ok: true, type: 'requestKeyFrame' });
});

test('a node killed with SIGKILL leaves every view within a few heartbeats, and its shards with it', { timeout: 90_000 }, async () => {
  const child = await spawnMeshChild({ nodeId: 'k', keyFile, join: [a.multiaddrs()[0]!], shard: 'mk' });
  try {
    await waitFor('k in every view with its shard', () => [a, b, c].every((m) => m.peer('k') && m.shards('mk').length === 1), 30_000, 100);
    assert.equal(a.peer('k')!.peerId, child.peerId);
    const down: string[] = [];
    for (const [name, m] of [['a', a], ['b', b], ['c', c]] as const) m.on('nodeDown', (id) => id === 'k' && down.push(name));
    child.child.kill('SIGKILL');
    await waitFor('k to leave every view', () => [a, b, c].every((m) => !m.peer('k')), 20_000, 100);
    assert.deepEqual(down.sort(), ['a', 'b', 'c']);
    assert.deepEqual([a, b, c].map((m) => m.shards('mk').length), [0, 0, 0]);
    assert.deepEqual([a, b, c].map((m) => m.view.nodesOfMeeting('mk').length), [0, 0, 0]);
  } finally {
    child.child.kill('SIGKILL');
  }
});

test('a node that cannot describe itself yet sends no heartbeat; describeWith brings it into every view', { timeout: 60_000 }, async () => {
  const late = await GossipMesh.start({ clusterKey: key, nodeId: 'late', join: [a.multiaddrs()[0]!] });
  meshes.push(late);
  await waitFor('late to see the others', () => late.peers().length === 3, 30_000, 100);
  assert.ok([a, b, c].every((m) => !m.peer('late')), 'nobody knows it before its first heartbeat');
  late.describeWith(() => describeNode('late', { region: 'af-south' }));
  await waitFor('late in every view', () => [a, b, c].every((m) => m.peer('late')?.region === 'af-south'), 30_000, 100);
  await late.stop();
  await waitFor('late to leave every view', () => [a, b, c].every((m) => !m.peer('late')), 15_000, 100);
});

test('a node without the cluster key can neither connect nor inject records', { timeout: 60_000 }, async () => {
  const outsider = await GossipMesh.start({ clusterKey: generateClusterKey(), nodeId: 'outsider', describe: () => describeNode('outsider') });
  meshes.push(outsider);
  await assert.rejects(outsider.libp2p.dial(multiaddr(a.multiaddrs()[0]!), { signal: AbortSignal.timeout(10_000) }));
  await assert.rejects(a.libp2p.dial(multiaddr(outsider.multiaddrs()[0]!), { signal: AbortSignal.timeout(10_000) }), 'nor can members connect to it');
  outsider.publishShard('m1', { participants: [{ id: 'evil', name: 'Eve', role: 'host', joinedAt: 9 }], producers: [], speaker: null });
  // A member that joins afterwards, through a seed list that names the outsider first, still reaches the cluster.
  const e = await node('e', 'sa-east', [outsider.multiaddrs()[0]!, c.multiaddrs()[0]!]);
  await waitFor('e in the cluster', () => e.peers().length === 3 && a.peer('e'), 30_000, 100);
  assert.deepEqual(outsider.peers(), []);
  for (const m of [a, b, c, e]) {
    assert.equal(m.peer('outsider'), undefined);
    assert.ok(m.shards('m1').every((s) => s.nodeId !== 'outsider'));
  }
  assert.ok(outsider.libp2p.getConnections().length === 0);
  await e.stop();
  await outsider.stop();
});

/** A libp2p peer with the cluster key that publishes raw records of its own making. */
async function rogue(sign: boolean): Promise<MeshLibp2p> {
  const r = await createMeshNode({ clusterKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], sign });
  rogues.push(r);
  await r.start();
  for (const t of Object.values(TOPICS)) r.services.pubsub.subscribe(t);
  await r.dial(multiaddr(b.multiaddrs()[0]!));
  await waitFor('the rogue to see subscribers', () => Object.values(TOPICS).every((t) => r.services.pubsub.getSubscribers(t).length > 0), 15_000, 50);
  return r;
}

async function publish(r: MeshLibp2p, topic: string, record: unknown) {
  await r.services.pubsub.publish(topic, new TextEncoder().encode(JSON.stringify(record)));
}

function fakeHeartbeat(r: MeshLibp2p, nodeId: string, seq: number, over: Partial<NodeInfo> = {}): NodeInfo {
  return { ...describeNode(nodeId), peerId: r.peerId.toString(), incarnation: 1, seq, sentAt: Date.now(), ...over };
}

test('forged records (signed by another peer than the node they name) and unsigned records are dropped', { timeout: 90_000 }, async () => {
  await waitFor('views to converge', () => a.peers().length === 2 && b.peers().length === 2 && c.peers().length === 2, 30_000, 100);
  const before = b.view.stats().dropped;
  const signed = await rogue(true);
  const unsigned = await rogue(false);
  // Control: the same kind of peer, signing its own heartbeat, does join the view (so the drops below are real).
  for (let seq = 1; seq <= 30 && !b.peer('honest-rogue'); seq++) {
    await publish(signed, TOPICS.heartbeat, fakeHeartbeat(signed, 'honest-rogue', seq));
    await publish(unsigned, TOPICS.heartbeat, fakeHeartbeat(unsigned, 'unsigned', seq));
    await new Promise((r) => setTimeout(r, 200));
  }
  await waitFor('the control heartbeat to reach every node', () => [a, b, c].every((m) => m.peer('honest-rogue')), 15_000, 50);
  // A shard that claims to be node a's, a heartbeat that names another peer id, and unsigned records.
  const forgedShard = { meetingId: 'm1', nodeId: 'a', incarnation: a.incarnation, version: 1000, deleted: false, participants: [{ id: 'evil', name: 'Eve', role: 'host', joinedAt: 9 }], producers: [], speaker: null };
  await publish(signed, TOPICS.directory, forgedShard);
  await publish(signed, TOPICS.heartbeat, fakeHeartbeat(signed, 'impostor', 1, { peerId: a.peerId }));
  await publish(signed, TOPICS.heartbeat, { ...fakeHeartbeat(signed, 'honest-rogue', 99), latitude: 500 });
  await publish(unsigned, TOPICS.directory, { ...forgedShard, nodeId: 'unsigned' });
  // A later, valid record from the control peer passes the same path: once it arrives, the forged ones had their turn.
  await publish(signed, TOPICS.directory, { ...forgedShard, nodeId: 'honest-rogue', incarnation: 1, version: 1, participants: [] });
  await waitFor('the control shard at b', () => b.shards('m1').some((s) => s.nodeId === 'honest-rogue'), 15_000, 50);
  const dropped = b.view.stats().dropped;
  const more = (k: string) => (dropped[k] ?? 0) - (before[k] ?? 0);
  assert.ok(more('forged-shard') >= 1, JSON.stringify(dropped));
  assert.ok(more('forged-heartbeat') >= 1, JSON.stringify(dropped));
  assert.ok(more('malformed') >= 1, JSON.stringify(dropped));
  for (const m of [a, b, c]) {
    assert.equal(m.peer('unsigned'), undefined);
    assert.equal(m.peer('impostor'), undefined);
    assert.ok(m.shards('m1').every((s) => !s.participants.some((p) => p.id === 'evil')), 'no forged participant');
  }
  assert.notEqual(b.shards('m1').find((s) => s.nodeId === 'a')?.version, 1000);
});
