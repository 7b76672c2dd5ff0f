/** A real coturn for tests, through scripts/coturn/start.sh, on free ports, loopback peers allowed (tests only). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { ROOT, freePortBase } from './edge.js';

const run = promisify(execFile);

export interface TestTurn {
  dir: string;
  secret: string;
  urls: string[];
  tlsPort: number;
  stop: () => Promise<void>;
}

/** Starts coturn; `only: 'tls'` leaves TLS as the one open listener (no plain UDP or TCP). */
export async function startCoturn(o: { only?: 'tls' } = {}): Promise<TestTurn> {
  const base = await freePortBase(2);
  const relay = await freePortBase(40);
  const env = {
    ...process.env,
    TURN_PORT: String(base),
    TURN_TLS_PORT: String(base + 1),
    TURN_RELAY_MIN_PORT: String(relay),
    TURN_RELAY_MAX_PORT: String(relay + 39),
    TURN_TEST: '1',
    ...(o.only === 'tls' ? { TURN_NO_UDP: '1', TURN_NO_TCP: '1' } : {}),
  };
  const { stdout } = await run('bash', [path.join(ROOT, 'scripts/coturn/start.sh')], { env, timeout: 30_000 });
  const vars = Object.fromEntries([...stdout.matchAll(/(TURN_[A-Z]+)=('[^']*'|\S+)/g)].map((m) => [m[1], m[2]!.replace(/^'|'$/g, '')]));
  const dir = vars.TURN_DIR!;
  return {
    dir,
    secret: vars.TURN_SECRET!,
    urls: vars.TURN_URLS!.split(','),
    tlsPort: base + 1,
    stop: async () => {
      await run('bash', [path.join(ROOT, 'scripts/coturn/stop.sh'), '--clean'], { env: { ...process.env, TURN_DIR: dir } });
    },
  };
}
