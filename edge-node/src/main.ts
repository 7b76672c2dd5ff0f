/** The edge node CLI: `tsx edge-node/src/main.ts` with EDGE_* environment variables (see config.ts, README). */
import { loadConfig } from './config.js';
import { EdgeNode } from './edge-node.js';

const node = new EdgeNode({ config: loadConfig() });
await node.start();

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    node.stop(`received ${signal}`).then(
      () => { clearTimeout(force); process.exit(0); },
      (err) => { node.log.error({ err }, 'stop failed'); process.exit(1); },
    );
  });
}
