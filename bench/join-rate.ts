/**
 * Join-token requests per second: autocannon against POST /meetings/:id/join on a real control plane (real
 * PostgreSQL from scripts/postgres, or MESHMEET_TEST_PG_URL), with signed-in users taking turns. Every answer is
 * a real decision and a freshly signed ES256 join token.
 *
 *   npx tsx bench/join-rate.ts [--seconds 20] [--connections 20] [--users 10]
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pino from 'pino';
import { ControlPlane, loadControlConfig } from '../control/index.js';
import { ROOT, freePortBase } from '../tests/helpers/edge.js';
import { signedIn } from '../tests/helpers/http-browser.js';
import { dropDatabase, freshDatabase, postgres } from '../tests/helpers/services.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '20' },
    users: { type: 'string', default: '10' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/join-rate.json') },
  },
});
const seconds = Math.min(120, Number(values.seconds));
const connections = Math.min(200, Number(values.connections));
const userCount = Math.min(100, Number(values.users));

const pgService = await postgres();
const dbUrl = await freshDatabase(pgService.url);
const port = await freePortBase(1);
const base = `http://127.0.0.1:${port}`;
const control = new ControlPlane({
  config: loadControlConfig({}, {
    httpPort: port, publicUrl: base, databaseUrl: dbUrl, edgeNodeUrl: 'http://127.0.0.1:9', joinRateBurst: 1_000_000, joinRatePerSecond: 1_000_000,
  }),
  logger: pino({ level: 'warn' }),
});
try {
  await control.start();
  const users = [];
  for (let i = 0; i < userCount; i++) users.push(await signedIn(base, `bench${i}@example.test`, `bench-password-${i}`, `Bench ${i}`));
  const created = await users[0]!.fetch(`${base}/meetings`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'instant', title: 'bench', settings: { access: 'link', maxParticipants: 10000 } }),
  });
  const meetingId = ((await created.json()) as { id: string }).id;
  const cookies = users.map((u) => `mm_session=${u.cookie('mm_session')}`);
  let turn = 0;
  const result = await autocannon({
    url: `${base}/meetings/${meetingId}/join`,
    method: 'POST',
    connections,
    duration: seconds,
    headers: { 'content-type': 'application/json' },
    body: '{}',
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: cookies[turn++ % cookies.length]! } }) }],
  });
  const ok = result['2xx'];
  const report = {
    bench: 'join-rate',
    date: new Date().toISOString(),
    machine: { cores: os.availableParallelism(), node: process.version },
    seconds, connections, users: userCount,
    requestsPerSecond: { mean: result.requests.average, p50: result.requests.p50 },
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    ok, non2xx: result.non2xx, errors: result.errors, timeouts: result.timeouts,
  };
  await fs.mkdir(path.dirname(values.out!), { recursive: true });
  await fs.writeFile(values.out!, JSON.stringify(report, null, 2));
  console.log(`join tokens: ${report.requestsPerSecond.mean.toFixed(0)} req/s mean over ${seconds}s with ${connections} connections; ` +
    `latency p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms; ${ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors`);
  console.log(`report: ${path.relative(process.cwd(), values.out!)}`);
} finally {
  await control.stop();
  await dropDatabase(dbUrl);
  await pgService.stop();
}
