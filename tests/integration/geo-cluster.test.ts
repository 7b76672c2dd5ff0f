/**
 * Geo routing over the real cluster: three gossip nodes (real libp2p on loopback) in three regions, and a control
 * plane that joins the cluster as a listening member (CLUSTER_KEY / CLUSTER_JOIN) and places joins with geo/ over
 * its membership view and meeting directory. Checks that the join route sees the cluster's nodes (nearest by GeoIP
 * behind a trusted proxy), that a node that starts draining stops getting joiners, and that a meeting's hosting node
 * wins when nearly as close.
 * It fails unless the control plane passes its cluster view to the join placement (`clusterSources(cluster)` into
 * `JoinPlacement.fromConfig`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { ControlPlane, loadControlConfig } from '../../control/index.js';
import { GossipMesh, generateClusterKey } from '../../edge-node/index.js';
import type { NodeInfo, ShardParticipant } from '../../edge-node/protocol/mesh.js';
import { freePortBase, waitFor } from '../helpers/edge.js';
import { signedIn, type Browser } from '../helpers/http-browser.js';
import { dropDatabase, freshDatabase, postgres, type PostgresService } from '../helpers/services.js';

type SelfDescription = Omit<NodeInfo, 'peerId' | 'incarnation' | 'seq' | 'sentAt'>;
type Mesh = GossipMesh;
const clusterOf = (c: ControlPlane) => c.cluster!;

const PLACES: Record<string, { region: string; latitude: number; longitude: number }> = {
  lon: { region: 'eu-west', latitude: 51.51, longitude: -0.13 },
  fra: { region: 'eu-central', latitude: 50.11, longitude: 8.68 },
  ash: { region: 'us-east', latitude: 39.04, longitude: -77.49 },
  sin: { region: 'ap-southeast', latitude: 1.35, longitude: 103.82 },
};
const state = new Map<string, 'active' | 'draining'>();
const describeAs = (nodeId: string): SelfDescription => ({
  nodeId, ...PLACES[nodeId]!, signallingUrl: `http://${nodeId}.invalid:8080`, mediaAddress: '127.0.0.1',
  capacity: { participants: 100 }, load: { participants: 0, consumers: 0, cpu: 0 }, state: state.get(nodeId) ?? 'active',
  version: 'test', codecHash: 'h1',
});

let service: PostgresService;
let dbUrl: string;
let dir: string;
let control: ControlPlane;
let base: string;
let host: Browser;
let meetingId: string;
const meshes: Mesh[] = [];

function join(o: { xff: string }): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/meetings/${meetingId}/join`, {
      method: 'POST', localAddress: '127.0.0.2',
      headers: { 'content-type': 'application/json', 'content-length': 2, cookie: `mm_session=${host.cookie('mm_session')}`, 'x-forwarded-for': o.xff },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('join route over the gossip cluster', { timeout: 180_000 }, () => {
  before(async () => {
    service = await postgres();
    dbUrl = await freshDatabase(service.url);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-geo-cluster-'));
    const key = generateClusterKey();
    const keyFile = path.join(dir, 'cluster.key');
    await fs.writeFile(keyFile, key);
    let seeds: string[] = [];
    for (const nodeId of Object.keys(PLACES)) {
      const m = await GossipMesh.start({ clusterKey: key, nodeId, describe: () => describeAs(nodeId), join: seeds });
      meshes.push(m);
      seeds = meshes[0]!.multiaddrs();
    }
    const port = await freePortBase(1);
    base = `http://127.0.0.1:${port}`;
    control = new ControlPlane({
      config: loadControlConfig({ CLUSTER_KEY: keyFile, CLUSTER_JOIN: seeds.join(','), TRUSTED_PROXIES: '127.0.0.2' }, {
        httpPort: port, publicUrl: base, databaseUrl: dbUrl, logLevel: 'silent', joinRateBurst: 1000,
      }),
      logger: pino({ level: 'silent' }),
    });
    await control.start();
    await waitFor('the control plane to see the four nodes', () => clusterOf(control).nodes().length === 4, 30_000, 100);
    host = await signedIn(base, 'geo-cluster@example.test', 'geo-cluster-password-1', 'Geo Cluster');
    const res = await host.fetch(`${base}/meetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'instant', title: 'mesh' }) });
    meetingId = ((await res.json()) as { id: string }).id;
  });
  after(async () => {
    await control?.stop();
    await Promise.all(meshes.map((m) => m.stop()));
    if (dbUrl) await dropDatabase(dbUrl);
    await service?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('each client goes to its nearest cluster node', async () => {
    for (const [xff, nodeId] of [['81.2.69.142', 'lon'], ['8.8.8.8', 'ash'], ['133.242.0.1', 'sin'], ['2a00:1450:4001:80b::200e', 'fra']] as const) {
      const r = await join({ xff });
      assert.deepEqual([r.status, r.body.nodeId, r.body.nodeUrl], [200, nodeId, `http://${nodeId}.invalid:8080`], xff);
    }
  });

  test('a node the directory says hosts the meeting wins when nearly as close', async () => {
    meshes.find((m) => m.nodeId === 'fra')!.publishShard(meetingId, { participants: [{ id: 'p1', name: 'Ann', role: 'host', joinedAt: 1 }], producers: [], speaker: null });
    await waitFor('the directory to reach the control plane', () => clusterOf(control).nodesOfMeeting(meetingId).length === 1, 15_000, 50);
    assert.equal((await join({ xff: '81.2.69.142' })).body.nodeId, 'fra', 'London joins the meeting on Frankfurt');
    assert.equal((await join({ xff: '133.242.0.1' })).body.nodeId, 'sin', 'Tokyo still gets its own node');
  });

  test('a draining node gets no more joiners once its heartbeat says so', async () => {
    state.set('ash', 'draining');
    await waitFor('the control plane to see ash draining', () => clusterOf(control).nodes().find((n) => n.nodeId === 'ash')?.state === 'draining', 15_000, 50);
    const r = await join({ xff: '8.8.8.8' });
    assert.equal(r.status, 200);
    assert.notEqual(r.body.nodeId, 'ash');
  });
});
