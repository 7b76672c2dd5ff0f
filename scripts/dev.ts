/**
 * `npm start`: the local system on embedded defaults. Builds what is missing (mediasoup worker, web client), makes
 * a dev signing key, starts one edge node on localhost with a dev-only token endpoint, and prints a meeting link.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EdgeNode, loadConfig, loadDevKeys, mintJoinToken } from '../edge-node/index.js';
import { buildWeb } from '../web/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (!process.env.MEDIASOUP_WORKER_BIN) {
  const out = execFileSync('bash', [path.join(root, 'scripts/build-mediasoup-worker.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.env.MEDIASOUP_WORKER_BIN = out.toString().trim().split('\n').pop()!;
}
const webRoot = await buildWeb();
const keys = await loadDevKeys(path.join(root, '.dev'));
const config = loadConfig(process.env, {
  jwks: process.env.EDGE_JWKS ?? keys.jwksPath,
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
console.log(`  health: ${node.url}/healthz   metrics: ${node.url}/metrics   stop: Ctrl+C\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void node.stop(`received ${signal}`).then(() => process.exit(0));
  });
}
