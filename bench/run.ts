/**
 * The bench suite: `npm run bench -- <scenario> [--sfu meshmeet|livekit|janus] [--flags]`.
 * `npm run bench -- list` lists the scenarios and their flags. Results go to bench/results/<date>-<scenario>/.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable, renderTable, writeReport, type Report } from './lib/report.js';
import type { Scenario, ScenarioContext } from './lib/scenario.js';
import { SFU_KINDS, type SfuKind } from './lib/sfu/types.js';
import { startSfu } from './lib/sfu/servers.js';
import { machine } from './lib/system.js';
import { needsNamespace, reexecInNamespace } from './lib/netns.js';
import { SCENARIOS } from './scenarios/index.js';

const COMMON = {
  sfu: { default: 'meshmeet', help: 'comma-separated: meshmeet, livekit, janus' },
  processes: { default: '2', help: 'bot processes (many bots each)' },
  out: { default: path.join(import.meta.dirname, 'results'), help: 'results folder' },
  quiet: { default: 'false', help: 'no progress line' },
  srtp: { default: 'gcm', help: 'SRTP profile the bots offer: gcm (AEAD_AES_128_GCM, browser-like) or cm (AES_CM_128_HMAC_SHA1_80)' },
};

function usage(): string {
  const lines = ['usage: npm run bench -- <scenario> [--flag value ...]', '', 'scenarios:'];
  for (const s of Object.values(SCENARIOS)) {
    lines.push(`  ${s.name.padEnd(13)} ${s.summary}${s.needs === 'mesh' ? ' [a local mesh of our nodes]' : ''}`);
    for (const [k, f] of Object.entries(s.flags)) lines.push(`      --${k} (${f.default}) ${f.help}`);
  }
  lines.push('', 'common flags:');
  for (const [k, f] of Object.entries(COMMON)) lines.push(`      --${k} (${f.default}) ${f.help}`);
  return lines.join('\n');
}

export async function runScenario(argv: string[]): Promise<{ report: Report; dir: string }> {
  const name = argv[0];
  const scenario: Scenario | undefined = name ? SCENARIOS[name] : undefined;
  if (!scenario) throw new Error(`${name ? `unknown scenario '${name}'` : 'no scenario given'}\n\n${usage()}`);
  const specs = { ...COMMON, ...scenario.flags };
  const { values } = parseArgs({
    args: argv.slice(1),
    options: Object.fromEntries(Object.entries(specs).map(([k, f]) => [k, { type: 'string', default: f.default }])),
    strict: true,
  });
  const flags = values as Record<string, string>;
  const sfus = flags.sfu!.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of sfus) if (!(SFU_KINDS as readonly string[]).includes(s)) throw new Error(`--sfu: unknown SFU '${s}' (one of ${SFU_KINDS.join(', ')})`);
  const processes = Number(flags.processes);
  if (!Number.isInteger(processes) || processes < 1 || processes > 16) throw new Error('--processes must be 1..16');
  if (flags.srtp !== 'gcm' && flags.srtp !== 'cm') throw new Error("--srtp must be 'gcm' or 'cm'");
  process.env.BENCH_SRTP = flags.srtp; // read by the bot processes
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), `meshmeet-bench-${name}-`));
  const quiet = flags.quiet === 'true' || !process.stdout.isTTY;
  let lastProgress = 0;
  const ctx: ScenarioContext = {
    flags, sfus: sfus as SfuKind[], processes, workDir,
    progress: (line) => {
      if (process.stdout.isTTY && flags.quiet !== 'true') process.stdout.write(`\r\x1b[2K${line.slice(0, (process.stdout.columns || 160) - 1)}`);
      else if (!quiet || Date.now() - lastProgress > 5000) {
        lastProgress = Date.now();
        process.stdout.write(`${line}\n`);
      }
    },
    log: (line) => {
      if (process.stdout.isTTY) process.stdout.write('\r\x1b[2K');
      process.stdout.write(`${line}\n`);
    },
    startSfu: (kind, opts) => startSfu(kind, { workDir, ...opts }),
  };
  const startedAt = new Date().toISOString();
  try {
    const result = await scenario.run(ctx);
    if (process.stdout.isTTY) process.stdout.write('\r\x1b[2K');
    const report: Report = {
      scenario: scenario.name,
      command: `npm run bench -- ${argv.join(' ')}`,
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: machine(),
      flags,
      ...result,
    };
    const dir = await writeReport(report, flags.out!);
    return { report, dir };
  } finally {
    await fs.rm(workDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  if (argv[0] === 'list' || argv[0] === '--help' || argv.length === 0) {
    console.log(usage());
    process.exit(0);
  }
  if (needsNamespace(argv) && !process.env.BENCH_NETNS) reexecInNamespace(fileURLToPath(import.meta.url), argv);
  try {
    const { report, dir } = await runScenario(argv);
    console.log(`\n${renderTable(report.table)}\n`);
    for (const n of report.notes) console.log(`note: ${n}`);
    for (const f of report.failures) console.log(`FAILURE: ${f}`);
    console.log(`\nreport: ${path.relative(process.cwd(), dir)}/report.html (and result.json)`);
    if (process.env.BENCH_MARKDOWN) console.log(`\n${markdownTable(report.table)}`);
    process.exit(0);
  } catch (err) {
    console.error(`\nbench failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
