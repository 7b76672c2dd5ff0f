/**
 * The control plane as a listening member of the cluster: its EdgeClient sends a host command to every node that
 * holds the meeting (found in the gossiped directory) and gossips remove/end as revocations. Real PostgreSQL (the
 * signing key), two real edge nodes with a participant each, real libp2p gossip (the nodes' shards are published by
 * a GossipMesh beside each node, as the node's media code does once wired).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import WebSocket from 'ws';
import { clusterCommandRoute, clusterSources } from '../../control/src/cluster.js';
import { migrate } from '../../control/src/db/migrate.js';
import { KeyStore } from '../../control/src/keys.js';
import { EdgeClient } from '../../control/src/meetings/edge-client.js';
import { ClusterView, GossipMesh, generateClusterKey } from '../../edge-node/index.js';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';
import { startEdge, waitFor, type TestEdge } from '../helpers/edge.js';
import { describeNode } from '../helpers/mesh.js';
import { startMeshEdge, type MeshEdge } from '../helpers/mesh-edge.js';
import { dropDatabase, freshDatabase, postgres, type PostgresService } from '../helpers/services.js';
import { closed, joinAs } from '../helpers/ws-client.js';

const key = generateClusterKey();
let service: PostgresService;
let dbUrl: string;
let pool: pg.Pool;
let dir: string;
let jwks: string;
const edges: TestEdge[] = [];
const lateNodes: MeshEdge[] = [];
const meshes: GossipMesh[] = [];
let view: ClusterView;
let client: EdgeClient;

before(async () => {
  service = await postgres();
  dbUrl = await freshDatabase(service.url);
  pool = new pg.Pool({ connectionString: dbUrl, max: 2 });
  await migrate(pool);
  const keys = new KeyStore(pool, 'join');
  await keys.current();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-cc-'));
  jwks = path.join(dir, 'jwks.json');
  await fs.writeFile(jwks, JSON.stringify(await keys.jwks()));
  for (const [i, region] of ['eu-west', 'us-east', 'ap-south'].entries()) {
    const edge = await startEdge({ jwks, nodeId: `n${i}` });
    edges.push(edge);
    meshes.push(await GossipMesh.start({
      clusterKey: key, nodeId: `n${i}`, describe: () => describeNode(`n${i}`, { region, signallingUrl: edge.url }),
      join: meshes.map((m) => m.multiaddrs()[0]!),
    }));
  }
  view = await ClusterView.join({ clusterKey: key, join: [meshes[2]!.multiaddrs()[0]!], nodeId: 'control-test', logger: pino({ level: 'silent' }) });
  client = new EdgeClient(keys, 'http://control.test', 'http://127.0.0.1:9', 300, clusterCommandRoute(view));
});

after(async () => {
  await view?.close();
  await Promise.all(lateNodes.map((n) => n.stop()));
  await Promise.all(meshes.map((m) => m.stop()));
  await Promise.all(edges.map((e) => e.stop()));
  await pool?.end();
  if (dbUrl) await dropDatabase(dbUrl);
  await service?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function participant(edgeIndex: number, meetingId: string, participantId: string) {
  const { token } = await client.joinToken({ meetingId, participantId, name: participantId, role: 'participant', screen: false });
  const socket = await joinAs(edges[edgeIndex]!.wsUrl, meetingId, token);
  let closedWith: number | null = null;
  socket.onClose(({ code }) => (closedWith = code));
  meshes[edgeIndex]!.publishShard(meetingId, { participants: [{ id: participantId, name: participantId, role: 'participant', joinedAt: Date.now() }], producers: [], speaker: null });
  return { socket, token, closed: () => closedWith };
}

test('the listening member sees the nodes and who holds a meeting (geo\'s node sources)', { timeout: 60_000 }, async () => {
  await waitFor('three nodes in the control plane\'s view', () => view.nodes().length === 3, 30_000, 100);
  const sources = clusterSources(view);
  assert.deepEqual(sources.nodes().map((n) => n.region).sort(), ['ap-south', 'eu-west', 'us-east']);
  assert.deepEqual(sources.meetingHosts('nothing-here'), []);
});

test('host commands go to every node holding the meeting; remove and end are gossiped as revocations', { timeout: 90_000 }, async () => {
  await waitFor('three nodes in the control plane\'s view', () => view.nodes().length === 3, 30_000, 100);
  const revoked: string[] = [];
  meshes[2]!.on('revocation', (command) => revoked.push(command));
  const ann = await participant(0, 'mtg', 'ann');
  const bob = await participant(1, 'mtg', 'bob');
  await waitFor('n0 and n1 hold mtg in the control plane\'s directory', () => clusterSources(view).meetingHosts('mtg').sort().join() === 'n0,n1', 30_000, 100);

  // n2 holds nothing of mtg: the command reaches n0 and n1 only; the removal hits bob, on n1.
  const removed = await client.command('mtg', { act: 'remove', target: 'bob' });
  assert.deepEqual(removed, { applied: true, affected: 1 });
  await waitFor('bob\'s socket closed as removed', () => bob.closed() === CloseCodes.removed, 15_000, 50);
  assert.equal(ann.closed(), null);
  await waitFor('the removal gossiped to n2', () => revoked.length === 1, 15_000, 50);

  meshes[1]!.publishShard('mtg', null);
  await waitFor('n1 no longer holds mtg', () => clusterSources(view).meetingHosts('mtg').join() === 'n0', 15_000, 50);
  const muted = await client.command('mtg', { act: 'muteAll', except: [] });
  assert.equal(muted.applied, true);
  assert.equal(revoked.length, 1, 'mute is no revocation');

  const ended = await client.command('mtg', { act: 'end' });
  assert.deepEqual(ended, { applied: true, affected: 1 });
  await waitFor('ann\'s socket closed: meeting ended', () => ann.closed() === CloseCodes.meetingEnded, 15_000, 50);
  await waitFor('the end gossiped to n2', () => revoked.length === 2, 15_000, 50);

  assert.deepEqual(await client.command('no-such-meeting', { act: 'end' }), { applied: false, affected: 0 }, 'no node holds it');
});

test('a node that joins the cluster after a removal learns it: the removed participant\'s old token is refused there', { timeout: 120_000 }, async () => {
  await waitFor('three nodes in the control plane\'s view', () => view.nodes().length >= 3, 30_000, 100);
  const cat = await participant(0, 'late', 'cat');
  await waitFor('n0 holds late in the control plane\'s directory', () => clusterSources(view).meetingHosts('late').join() === 'n0', 30_000, 100);
  assert.deepEqual(await client.command('late', { act: 'remove', target: 'cat' }), { applied: true, affected: 1 });
  await waitFor('cat\'s socket closed as removed', () => cat.closed() === CloseCodes.removed, 15_000, 50);

  // Only now does n3 come up: it was not there when the removal was gossiped.
  const n3 = await startMeshEdge({ nodeId: 'n3', clusterKey: key, join: [meshes[0]!.multiaddrs()[0]!], config: { jwks } });
  lateNodes.push(n3);
  await waitFor('n3 in the control plane\'s view', () => view.node('n3') !== undefined, 30_000, 100);
  const now = () => Math.floor(Date.now() / 1000);
  await waitFor('the control plane republished the removal to n3', () => n3.node.revocations.check({ mtg: 'late', sub: 'cat', iat: now() - 1 }, now()) !== null, 30_000, 100);

  const ws = new WebSocket(`${n3.wsUrl}/ws/late?token=${cat.token}`);
  assert.deepEqual(await closed(ws), { code: CloseCodes.removed, reason: 'you were removed from this meeting' });
});
