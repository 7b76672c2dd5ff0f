/** The control plane CLI: `tsx control/src/main.ts` with the environment variables in README.md. */
import { loadControlConfig } from './config.js';
import { ControlPlane } from './control-plane.js';

const cp = new ControlPlane({ config: loadControlConfig(), webRoot: process.env.CONTROL_WEB_ROOT });
await cp.start();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    const force = setTimeout(() => process.exit(1), 10_000).unref();
    cp.stop().then(() => { clearTimeout(force); process.exit(0); }, () => process.exit(1));
  });
}
