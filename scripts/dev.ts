/**
 * `npm start`: the local system on embedded defaults. Builds what is missing (mediasoup worker, web client), starts
 * the control plane (embedded PostgreSQL, chat in it) on :8090 and one edge node on :8080 that trusts only the
 * control plane's join tokens, and prints links: a meeting that lets guests in by name (open it in two tabs, type a
 * name in each, and meet), and the full product. Tokens come only from the control plane, which applies the
 * meeting's rules (passcode, waiting room, lock, capacity, removal, end) to guests as to anyone.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlPlane, loadControlConfig } from '../control/index.js';
import { EdgeNode, loadConfig } from '../edge-node/index.js';
import { buildWeb } from '../web/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (!process.env.MEDIASOUP_WORKER_BIN) {
  const out = execFileSync('bash', [path.join(root, 'scripts/build-mediasoup-worker.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  process.env.MEDIASOUP_WORKER_BIN = out.toString().trim().split('\n').pop()!;
}
const webRoot = await buildWeb();
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
  jwks: process.env.EDGE_JWKS ?? `${control.url}/.well-known/jwks.json`,
  httpPort: edgePort,
  webRoot,
  nodeId: process.env.EDGE_NODE_ID ?? 'local',
});

const node = new EdgeNode({ config });
await node.start();

const demo = await control.guestMeeting({ ownerEmail: 'owner@meshmeet.localhost', title: 'MeshMeet demo' });
console.log(`\n  MeshMeet is running. Open this link in two browser tabs, type a name in each, and meet:\n\n    ${demo.link}\n`);
console.log(`  Accounts, scheduled meetings, waiting room, chat: ${control.config.publicUrl}/app/`);
console.log(`  API: ${control.config.publicUrl}/openapi.json`);
console.log(`  health: ${node.url}/healthz, ${control.url}/healthz   stop: Ctrl+C\n`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([node.stop(`received ${signal}`), control.stop()]).then(() => process.exit(0));
  });
}
