/**
 * `control`: the control plane's figures, folded in from bench/join-rate.ts (join tokens per second on a real
 * PostgreSQL) and bench/chat-write.ts (chat messages per second into a real Cassandra), each run as its own process.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ScenarioResult } from '../lib/report.js';
import { intFlag, type Scenario, type ScenarioContext } from '../lib/scenario.js';

const BENCH = path.resolve(import.meta.dirname, '..');

async function runChild(ctx: ScenarioContext, script: string, args: string[]): Promise<Record<string, any>> {
  const out = path.join(ctx.workDir, `${script}.json`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH, `${script}.ts`), ...args, '--out', out], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', resolve);
  });
  try {
    return JSON.parse(await fs.readFile(out, 'utf8'));
  } catch {
    throw new Error(`${script} exited with ${code} and wrote no report`);
  }
}

export const control: Scenario = {
  name: 'control',
  summary: 'join tokens per second (PostgreSQL) and chat messages per second (Cassandra)',
  needs: 'single-node',
  flags: {
    'join-seconds': { default: '10', help: 'seconds of join-token load (0: skip)' },
    'chat-messages': { default: '5000', help: 'chat messages to write into Cassandra (0: skip; starts Cassandra, heavy)' },
  },
  async run(ctx): Promise<ScenarioResult> {
    const joinSeconds = intFlag(ctx, 'join-seconds', 0, 120);
    const chatMessages = intFlag(ctx, 'chat-messages', 0, 1_000_000);
    const rows: (string | number | null)[][] = [];
    const figures: Record<string, unknown> = {};
    const failures: string[] = [];
    if (joinSeconds > 0) {
      ctx.log(`control: join tokens for ${joinSeconds} s...`);
      try {
        const r = await runChild(ctx, 'join-rate', ['--seconds', String(joinSeconds)]);
        figures.joinRate = r;
        rows.push(['join tokens (POST /meetings/:id/join)', r.requestsPerSecond.mean, r.latencyMs.p50, r.latencyMs.p99, r.non2xx + r.errors]);
      } catch (err) {
        failures.push(`join-rate: ${(err as Error).message}`);
      }
    }
    if (chatMessages > 0) {
      ctx.log(`control: ${chatMessages} chat messages into Cassandra...`);
      try {
        const r = await runChild(ctx, 'chat-write', ['--messages', String(chatMessages)]);
        figures.chatWrite = r;
        rows.push(['chat messages (Cassandra LOCAL_QUORUM)', r.messagesPerSecond, r.appendLatencyMs?.p50 ?? null, r.appendLatencyMs?.p99 ?? null, r.errors]);
      } catch (err) {
        failures.push(`chat-write: ${(err as Error).message}`);
      }
    }
    return {
      figures, failures, series: [],
      table: { columns: ['what', 'per second', 'p50 ms', 'p99 ms', 'errors'], rows },
      bars: [{ title: 'Control plane operations per second', unit: '/s', items: rows.map((r) => ({ label: String(r[0]).split(' (')[0]!, value: Number(r[1]) })) }],
      notes: ['the SFU is not involved; --sfu is ignored'],
    };
  },
};
