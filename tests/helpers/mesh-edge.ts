/**
 * Test harness: edge nodes joined by the real mesh (GossipMesh: libp2p over TCP on loopback, cluster key), in this
 * process (`startMeshEdge`) or in a child process that a test can SIGKILL (`spawnMeshEdge`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { DevKeys, EdgeConfigInput } from '../../edge-node/index.js';
import { GossipMesh } from '../../edge-node/src/mesh/gossip-mesh.js';
import { ROOT, startEdge, type TestEdge } from './edge.js';

export interface MeshEdge extends TestEdge {
  gossip: GossipMesh;
}

export async function startMeshEdge(o: {
  nodeId: string;
  clusterKey: Uint8Array;
  join?: string[];
  keys?: DevKeys;
  config?: Partial<EdgeConfigInput>;
}): Promise<MeshEdge> {
  const gossip = await GossipMesh.start({ clusterKey: o.clusterKey, nodeId: o.nodeId, join: o.join ?? [], requestTimeoutMs: 5_000 });
  let edge: TestEdge;
  try {
    edge = await startEdge({ nodeId: o.nodeId, ...o.config }, { keys: o.keys, mesh: () => gossip });
  } catch (err) {
    await gossip.stop();
    throw err;
  }
  gossip.describeWith(() => edge.node.describe()); // heartbeats once the node knows its URL
  return {
    ...edge,
    gossip,
    stop: async () => {
      await edge.stop();
      await gossip.stop();
    },
  };
}

export const MESH_EDGE_CHILD = path.join(ROOT, 'tests/helpers/mesh-edge-child.ts');

export interface ChildEdge {
  child: ChildProcess;
  url: string;
  wsUrl: string;
  multiaddrs: string[];
  /** SIGKILL: the node vanishes without telling anyone. */
  kill: () => Promise<void>;
}

/** An edge node with its mesh in a child process (trusting `jwksPath`), for tests and benches that kill it. */
export async function spawnMeshEdge(o: { nodeId: string; keyFile: string; join: string[]; jwksPath: string }): Promise<ChildEdge> {
  const child = spawn(process.execPath, ['--import', 'tsx', MESH_EDGE_CHILD], {
    cwd: ROOT,
    env: { ...process.env, MESH_NODE_ID: o.nodeId, MESH_KEY_FILE: o.keyFile, MESH_JOIN: o.join.join(','), MESH_JWKS: o.jwksPath },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`edge child did not start: ${err.slice(-2000)}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`edge child exited with ${code}: ${err.slice(-2000)}`)));
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{"url"'));
      if (!line) return;
      clearTimeout(timer);
      const { url, multiaddrs } = JSON.parse(line) as { url: string; multiaddrs: string[] };
      resolve({
        child, url, wsUrl: url.replace(/^http/, 'ws'), multiaddrs,
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}
