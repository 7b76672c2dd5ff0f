/**
 * An edge node and its mesh in their own process (so that a test can SIGKILL it): MESH_NODE_ID, MESH_KEY_FILE,
 * MESH_JOIN (comma-separated multiaddrs), MESH_JWKS (the join-token issuer's JWKS file). Prints one JSON line with
 * its URL and multiaddrs; SIGTERM stops it cleanly.
 */
import pino from 'pino';
import { EdgeNode, loadConfig } from '../../edge-node/index.js';
import { readClusterKey } from '../../edge-node/src/mesh/cluster-key.js';
import { GossipMesh } from '../../edge-node/src/mesh/gossip-mesh.js';
import { WEB_ROOT, freePortBase } from './edge.js';

const nodeId = process.env.MESH_NODE_ID ?? 'child';
const gossip = await GossipMesh.start({
  clusterKey: await readClusterKey(process.env.MESH_KEY_FILE!),
  nodeId,
  join: (process.env.MESH_JOIN ?? '').split(',').filter(Boolean),
  requestTimeoutMs: 5_000,
});
const config = loadConfig({}, { jwks: process.env.MESH_JWKS!, httpPort: 0, workers: 1, rtcBasePort: await freePortBase(1), webRoot: WEB_ROOT, nodeId });
const node = new EdgeNode({ config, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), mesh: gossip });
await node.start();
gossip.describeWith(() => node.describe());
process.stdout.write(`${JSON.stringify({ url: node.url, multiaddrs: gossip.multiaddrs() })}\n`);
process.once('SIGTERM', () => void node.stop().then(() => gossip.stop()).then(() => process.exit(0)));
