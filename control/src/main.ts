/**
 * The control plane CLI (environment variables in README.md):
 *   tsx control/src/main.ts               serve
 *   tsx control/src/main.ts rotate-keys   add new join-token and IdP signing keys; old ones stay published for a day
 */
import pg from 'pg';
import { loadControlConfig } from './config.js';
import { ControlPlane } from './control-plane.js';
import { migrate } from './db/migrate.js';
import { KeyStore } from './keys.js';

const config = loadControlConfig();
const command = process.argv[2] ?? 'serve';

if (command === 'rotate-keys') {
  if (!config.databaseUrl) throw new Error('rotate-keys needs DATABASE_URL (the embedded database belongs to a running control plane)');
  const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
  await migrate(pool);
  for (const purpose of ['join', 'oidc'] as const) console.log(`${purpose}: new key ${await new KeyStore(pool, purpose).rotate()}`);
  console.log('running control planes sign with the new keys within a minute');
  await pool.end();
} else if (command === 'serve') {
  const cp = new ControlPlane({ config, webRoot: process.env.CONTROL_WEB_ROOT });
  await cp.start();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      const force = setTimeout(() => process.exit(1), 10_000).unref();
      cp.stop().then(() => { clearTimeout(force); process.exit(0); }, () => process.exit(1));
    });
  }
} else {
  console.error(`unknown command '${command}': use serve or rotate-keys`);
  process.exit(2);
}
