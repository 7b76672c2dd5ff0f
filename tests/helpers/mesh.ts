/** Test harness for the mesh: node descriptions, GossipMesh nodes on loopback (port 0), and child-process nodes. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { NodeInfo } from '../../edge-node/protocol/mesh.js';
import type { SelfDescription } from '../../edge-node/src/mesh/link.js';
import { ROOT } from './edge.js';

export function describeNode(nodeId: string, over: Partial<SelfDescription> = {}): SelfDescription {
  return {
    nodeId, region: `region-${nodeId}`, latitude: 53.3, longitude: -6.3, signallingUrl: 'http://127.0.0.1:8080',
    mediaAddress: '127.0.0.1', capacity: { participants: 100 }, load: { participants: 0, consumers: 0, cpu: 0 },
    state: 'active', version: '0.1.0', codecHash: 'h1', ...over,
  };
}

export function heartbeat(over: Partial<NodeInfo> = {}): NodeInfo {
  return { ...describeNode('a'), peerId: 'peerA', incarnation: 1000, seq: 1, sentAt: 0, ...over };
}

export const MESH_CHILD = path.join(ROOT, 'tests/helpers/mesh-child.ts');

/** A GossipMesh in a child process (so that a test can SIGKILL it), holding one participant of meeting `shard`. */
export async function spawnMeshChild(opts: { nodeId: string; keyFile: string; join: string[]; shard?: string }): Promise<{ child: ChildProcess; multiaddrs: string[]; peerId: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MESH_CHILD], {
    cwd: ROOT,
    env: { ...process.env, MESH_NODE_ID: opts.nodeId, MESH_KEY_FILE: opts.keyFile, MESH_JOIN: opts.join.join(','), MESH_SHARD: opts.shard ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mesh child did not start: ${out}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`mesh child exited with ${code}: ${out}`)));
    let buf = '';
    child.stdout!.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      const { multiaddrs, peerId } = JSON.parse(line) as { multiaddrs: string[]; peerId: string };
      resolve({ child, multiaddrs, peerId });
    });
  });
}
