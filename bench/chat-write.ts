/**
 * Chat write throughput and latency on a real Apache Cassandra: N messages through CassandraChatStore.append
 * (claim with a lightweight transaction, then the message write, all at LOCAL_QUORUM) across a few meetings, with
 * bounded concurrency. Uses the Cassandra in MESHMEET_TEST_CASSANDRA (host:port) or starts one (and stops it).
 * Runs in a fresh keyspace, dropped afterwards. Gives up after 5 minutes and reports what it measured.
 *
 *   npx tsx bench/chat-write.ts [--messages 20000] [--concurrency 64] [--meetings 8] [--out bench/results/chat-write.json]
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CassandraChatStore } from '../control/src/chat/cassandra-store.js';
import { cassandra, dropKeyspace, freshKeyspaceName } from '../tests/helpers/services.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TIME_LIMIT_MS = 5 * 60_000;

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '64' },
    meetings: { type: 'string', default: '8' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/chat-write.json') },
  },
});
/** A whole number in [min, max], or a clear error naming the flag. */
function intFlag(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max} (got '${raw}')`);
  return n;
}
const messages = intFlag('messages', values.messages, 1, 1_000_000);
const concurrency = intFlag('concurrency', values.concurrency, 1, 1024);
const meetings = intFlag('meetings', values.meetings, 1, 1000);

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const round2 = (x: number): number => Math.round(x * 100) / 100;

const svc = await cassandra();
const keyspace = freshKeyspaceName();
const store = new CassandraChatStore({ contactPoints: [svc.contactPoint], keyspace, replicationFactor: 1 });
try {
  await store.init();
  const meetingIds = Array.from({ length: meetings }, (_, i) => `bench-${i}`);
  // ~100-character bodies, like a typical chat line
  const body = (i: number): string => `message ${i}: ${'lorem ipsum dolor sit amet '.repeat(4)}`.slice(0, 100);

  // warm up: prepares the statements and opens connections, outside the measurement
  for (let i = 0; i < Math.min(50, messages); i++) {
    await store.append({ meetingId: 'warmup', senderId: 'w', senderName: 'Warm Up', clientId: crypto.randomUUID(), recipientId: null, body: body(i) });
  }

  const latenciesMs: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let next = 0;
  let aborted = false;
  const deadline = Date.now() + TIME_LIMIT_MS;
  const t0 = performance.now();
  /** One of `concurrency` loops: takes the next message number until all are sent or time is up. */
  const worker = async (): Promise<void> => {
    while (next < messages) {
      if (Date.now() > deadline) {
        aborted = true;
        return;
      }
      const i = next++;
      const start = performance.now();
      try {
        await store.append({
          meetingId: meetingIds[i % meetings]!,
          senderId: `user-${i % 50}`,
          senderName: `User ${i % 50}`,
          clientId: crypto.randomUUID(),
          recipientId: i % 10 === 0 ? `user-${(i + 1) % 50}` : null,
          body: body(i),
        });
        latenciesMs.push(performance.now() - start);
      } catch (err) {
        errors++;
        if (errorSamples.length < 5) errorSamples.push((err as Error).message);
      }
    }
  };
  const progress = setInterval(() => console.log(`  ${latenciesMs.length}/${messages} written`), 10_000);
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    clearInterval(progress);
  }
  const elapsedS = (performance.now() - t0) / 1000;

  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const report = {
    bench: 'chat-write',
    date: new Date().toISOString(),
    machine: { cores: os.availableParallelism(), node: process.version },
    store: 'CassandraChatStore (LWT claim + LOCAL_QUORUM write), single local node, RF 1',
    messages,
    concurrency,
    meetings,
    written: latenciesMs.length,
    errors,
    errorSamples,
    aborted,
    elapsedSeconds: round2(elapsedS),
    messagesPerSecond: round2(latenciesMs.length / elapsedS),
    appendLatencyMs: sorted.length
      ? { p50: round2(percentile(sorted, 50)), p99: round2(percentile(sorted, 99)), max: round2(sorted.at(-1)!), min: round2(sorted[0]!) }
      : null,
  };
  console.log(JSON.stringify(report, null, 2));
  await fs.mkdir(path.dirname(values.out), { recursive: true });
  await fs.writeFile(values.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${values.out}`);
  if (report.errors > 0 || aborted) process.exitCode = 1;
} finally {
  await store.close();
  await dropKeyspace(svc.contactPoint, keyspace).catch((err: Error) => console.error(`could not drop keyspace ${keyspace}: ${err.message}`));
  await svc.stop();
}
