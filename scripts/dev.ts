/**
 * `npm start`: the local system on embedded defaults. Builds what is missing (mediasoup worker, web client), starts
 * the control plane (embedded PostgreSQL, chat in it) on :8090 and one edge node on :8080 that trusts both the
 * control plane's join tokens and a dev key (for the quick two-tab link, minted by a dev-only endpoint), and prints
 * both links.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ControlPlane, loadControlConfig } from '../control/index.js';
import { EdgeNode, loadConfig, loadDevKeys, mintJoinToken } from '../edge-node/index.js';
import { buildWeb } from '../web/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (!process.env.MEDIASOUP_WORKER_BIN) {
  const out = execFileSync('bash', [path.join(root, 'scripts/build-mediasoup-worker.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.env.MEDIASOUP_WORKER_BIN = out.toString().trim().split('\n').pop()!;
}
const webRoot = await buildWeb();
const keys = await loadDevKeys(path.join(root, '.dev'));
const edgePort = Number(process.env.EDGE_HTTP_PORT ?? 8080);
const control = new ControlPlane({
  config: loadControlConfig(process.env, {
    dataDir: process.env.CONTROL_DATA_DIR ?? path.join(root, '.dev', 'control'),
    edgeNodeUrl: process.env.EDGE_NODE_URL ?? `http://127.0.0.1:${edgePort}`,
  }),
  webRoot,
});
await control.start();
const config = loadConfig(process.env, {
  jwks: process.env.EDGE_JWKS ?? `${keys.jwksPath},${control.url}/.well-known/jwks.json`,
  httpPort: edgePort,
  webRoot,
  nodeId: process.env.EDGE_NODE_ID ?? 'local',
});

const TokenQuery = z.object({
  meeting: z.string().regex(/^[A-Za-z0-9_.~-]{1,128}$/),
  name: z.string().trim().min(1).max(100),
});
let counter = 0;

const node = new EdgeNode({
  config,
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
});
await node.start();

const meeting = process.env.MEETING ?? 'demo';
console.log(`\n  MeshMeet is running. Open this link in two browser tabs to meet:\n\n    ${node.url.replace('127.0.0.1', 'localhost')}/?meeting=${meeting}\n`);
console.log(`  Accounts, scheduled meetings, waiting room, chat: ${control.config.publicUrl}/app/`);
console.log(`  API: ${control.config.publicUrl}/openapi.json`);
console.log(`  health: ${node.url}/healthz, ${control.url}/healthz   stop: Ctrl+C\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([node.stop(`received ${signal}`), control.stop()]).then(() => process.exit(0));
  });
}
