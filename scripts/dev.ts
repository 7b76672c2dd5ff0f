/**
 * `npm start`: the local system on embedded defaults. Builds what is missing (mediasoup worker, web client), starts
 * a cluster of three edge nodes as three regions on loopback (:8080 eu-west, :8081 us-east, :8082 ap-south; gossip on
 * :9000-9002 with the cluster key in .dev/cluster.key) that trust both the control plane's join tokens and a dev key
 * (for the quick two-tab link, minted by a dev-only endpoint of the first node), then the control plane (embedded
 * PostgreSQL, chat in it) on :8090 as a listening member of the cluster, and prints the links.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ControlPlane, loadControlConfig } from '../control/index.js';
import { loadDevKeys, mintJoinToken, startNode, writeClusterKey, type RunningNode } from '../edge-node/index.js';
import { buildWeb } from '../web/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (!process.env.MEDIASOUP_WORKER_BIN) {
  const out = execFileSync('bash', [path.join(root, 'scripts/build-mediasoup-worker.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.env.MEDIASOUP_WORKER_BIN = out.toString().trim().split('\n').pop()!;
}
const webRoot = await buildWeb();
const keys = await loadDevKeys(path.join(root, '.dev'));
const edgePort = Number(process.env.EDGE_HTTP_PORT ?? 8080);
const controlConfig = (cluster: { clusterKey?: string; clusterJoin?: string } = {}) => loadControlConfig(process.env, {
  dataDir: process.env.CONTROL_DATA_DIR ?? path.join(root, '.dev', 'control'),
  edgeNodeUrl: process.env.EDGE_NODE_URL ?? `http://127.0.0.1:${edgePort}`,
  ...cluster,
});
const controlUrl = `http://127.0.0.1:${controlConfig().httpPort}`;
const clusterKey = path.join(root, '.dev', 'cluster.key');
if (!fs.existsSync(clusterKey)) await writeClusterKey(clusterKey);
const REGIONS = [
  { region: 'eu-west', latitude: 53.35, longitude: -6.26 }, // Dublin
  { region: 'us-east', latitude: 38.9, longitude: -77.04 }, // Washington
  { region: 'ap-south', latitude: 19.08, longitude: 72.88 }, // Mumbai
];

const TokenQuery = z.object({
  meeting: z.string().regex(/^[A-Za-z0-9_.~-]{1,128}$/),
  name: z.string().trim().min(1).max(100),
});
let counter = 0;

const devRoutes: Parameters<typeof startNode>[2] = {
  routes: (app) => {
    // Dev only: anyone who can reach localhost gets a token for any meeting. The control plane replaces this.
    app.get('/dev/token', async (c) => {
      const q = TokenQuery.safeParse({ meeting: c.req.query('meeting'), name: c.req.query('name') });
      if (!q.success) return c.json({ error: q.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }, 400);
      const participantId = `p${Date.now().toString(36)}${(counter++).toString(36)}`;
      const token = await mintJoinToken(keys, { meetingId: q.data.meeting, participantId, name: q.data.name, role: 'host' });
      return c.json({ token, participantId });
    });
  },
};
const nodes: RunningNode[] = [];
for (const [i, where] of REGIONS.entries()) {
  const nodeId = i === 0 ? (process.env.EDGE_NODE_ID ?? 'local') : `local-${where.region}`;
  nodes.push(await startNode({
    ...where, nodeId, clusterKeyFile: clusterKey, httpPort: edgePort + i, p2pPort: Number(process.env.EDGE_P2P_PORT ?? 9000) + i, capacity: 500,
    join: nodes.map((n) => n.mesh.multiaddrs()[0]!),
    config: {
      jwks: process.env.EDGE_JWKS ?? `${keys.jwksPath},${controlUrl}/.well-known/jwks.json`, httpPort: edgePort + i, webRoot,
      nodeId, workers: Number(process.env.EDGE_WORKERS ?? 1), rtcBasePort: Number(process.env.EDGE_RTC_BASE_PORT ?? 40000) + 10 * i,
    },
  }, process.env, i === 0 ? devRoutes : {}));
}
const node = nodes[0]!.node;
const control = new ControlPlane({
  config: controlConfig({ clusterKey, clusterJoin: nodes.map((n) => n.mesh.multiaddrs()[0]!).join(',') }),
  webRoot,
});
await control.start();

const meeting = process.env.MEETING ?? 'demo';
console.log(`\n  MeshMeet is running. Open this link in two browser tabs to meet:\n\n    ${node.url.replace('127.0.0.1', 'localhost')}/?meeting=${meeting}\n`);
console.log(`  Accounts, scheduled meetings, waiting room, chat: ${control.config.publicUrl}/app/`);
console.log(`  API: ${control.config.publicUrl}/openapi.json`);
console.log(`  Edge nodes (cluster key .dev/cluster.key; \`npx meshmeet nodes --node local\` prints the membership view):`);
for (const n of nodes) console.log(`    ${n.mesh.self()?.region.padEnd(9)} ${n.node.url}   gossip ${n.mesh.multiaddrs()[0]}`);
console.log(`  health: ${node.url}/healthz, ${control.url}/healthz   stop: Ctrl+C\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([...nodes.map((n) => n.stop(`received ${signal}`)), control.stop()]).then(() => process.exit(0));
  });
}
