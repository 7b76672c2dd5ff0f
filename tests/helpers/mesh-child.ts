/**
 * A mesh node in its own process (for SIGKILL tests): MESH_NODE_ID, MESH_KEY_FILE, MESH_JOIN (comma-separated), and
 * MESH_SHARD: a meeting it holds one participant of. Prints its addresses as one JSON line.
 */
import { readClusterKey } from '../../edge-node/src/mesh/cluster-key.js';
import { GossipMesh } from '../../edge-node/src/mesh/gossip-mesh.js';
import { describeNode } from './mesh.js';

const nodeId = process.env.MESH_NODE_ID ?? 'child';
const mesh = await GossipMesh.start({
  clusterKey: await readClusterKey(process.env.MESH_KEY_FILE!),
  nodeId,
  describe: () => describeNode(nodeId),
  join: (process.env.MESH_JOIN ?? '').split(',').filter(Boolean),
});
if (process.env.MESH_SHARD) {
  mesh.publishShard(process.env.MESH_SHARD, { participants: [{ id: `p-${nodeId}`, name: nodeId, role: 'participant', joinedAt: 1 }], producers: [], speaker: null });
}
process.stdout.write(`${JSON.stringify({ multiaddrs: mesh.multiaddrs(), peerId: mesh.peerId })}\n`);
process.once('SIGTERM', () => void mesh.stop().then(() => process.exit(0)));
