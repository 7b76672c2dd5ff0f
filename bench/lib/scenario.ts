/**
 * What a scenario is, and the pieces they share: starting an SFU of each kind (installing or building a peer when
 * it can, saying what is missing when it cannot), a fleet of bot processes on it, and a measured phase with a
 * progress line.
 *
 * A scenario declares `needs`: 'single-node' ones start SFUs through `startSfu`; 'mesh' ones (cross-region) start a
 * local mesh of our nodes through `startMesh`.
 */
import { BrowserParticipants, type BrowserFigures } from './browser-participants.js';
import type { ScenarioResult, Series } from './report.js';
import { Fleet, Sampler, type Point } from './fleet.js';
import type { LocalMesh, MeshOptions } from './sfu/mesh.js';
import type { SfuKind, SfuServer } from './sfu/types.js';

export interface FlagSpec {
  default: string;
  help: string;
}

export interface ScenarioContext {
  flags: Record<string, string>;
  /** The SFUs named by --sfu, in order. */
  sfus: SfuKind[];
  /** Bot processes per fleet (--processes). */
  processes: number;
  /** A temp dir for this run (configs, logs, keys); removed at the end. */
  workDir: string;
  progress(line: string): void;
  log(line: string): void;
  startSfu(kind: SfuKind, opts?: { workerBin?: string; label?: string; workers?: number; env?: Record<string, string> }): Promise<SfuServer>;
  /** A local mesh of our edge nodes, each its own process (for `needs: 'mesh'` scenarios). */
  startMesh(opts: Omit<MeshOptions, 'workDir' | 'log'>): Promise<LocalMesh>;
  /** The browser participants' figures of every SFU run (filled by onSfu with --browsers > 0), for the report. */
  browserQuality: { label: string; figures: BrowserFigures }[];
}

export interface Scenario {
  name: string;
  summary: string;
  needs: 'single-node' | 'mesh';
  flags: Record<string, FlagSpec>;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** A whole number flag in [min, max], or a clear error naming it. */
export function intFlag(ctx: ScenarioContext, name: string, min: number, max: number): number {
  const raw = ctx.flags[name]!;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number in ${min}..${max} (got '${raw}')`);
  return n;
}

export function numFlag(ctx: ScenarioContext, name: string, min: number, max: number): number {
  const raw = ctx.flags[name]!;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number in ${min}..${max} (got '${raw}')`);
  return n;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Averages of the points' rates (loss weighted by packets). */
export function summarize(points: Point[]): Record<string, number> {
  const rx = mean(points.map((p) => p.rxPps));
  const sfu = mean(points.map((p) => p.sfuCpuCores));
  const media = points.every((p) => p.sfuMediaCpuCores !== null) ? mean(points.map((p) => p.sfuMediaCpuCores!)) : NaN;
  const lossWeighted = points.reduce((a, p) => a + p.lossPct * p.rxPps, 0) / Math.max(1, points.reduce((a, p) => a + p.rxPps, 0));
  return {
    rxPps: rx,
    rxMbps: mean(points.map((p) => p.rxMbps)),
    txPps: mean(points.map((p) => p.txPps)),
    lossPct: lossWeighted,
    maxLossPct: Math.max(0, ...points.map((p) => p.lossPct)),
    jitterMs: mean(points.map((p) => p.jitterMs)),
    nacksPerS: mean(points.map((p) => p.nacksPerS)),
    plisPerS: mean(points.map((p) => p.plisPerS)),
    udpDropsPerS: mean(points.map((p) => p.udpDropsPerS ?? 0)),
    sfuUdpDropsPerS: mean(points.map((p) => p.sfuUdpDropsPerS ?? 0)),
    sfuCpuCores: sfu,
    sfuMediaCpuCores: media,
    botCpuCores: mean(points.map((p) => p.botCpuCores)),
    machineCpuCores: mean(points.map((p) => p.machineCpuCores)),
    /** Packets the SFU delivered to the bots per second, per core of CPU the SFU's processes used. */
    ppsPerSfuCore: sfu > 0 ? rx / sfu : NaN,
    /** The same per core of the SFU's media processes only (mediasoup workers, by getResourceUsage), where known. */
    ppsPerMediaCore: media > 0 ? rx / media : NaN,
  };
}

/** Samples once a second for `seconds`, printing a progress line; returns the points of this phase. */
export async function measure(ctx: ScenarioContext, sampler: Sampler, label: string, seconds: number): Promise<Point[]> {
  const out: Point[] = [];
  const until = performance.now() + seconds * 1000;
  await sampler.point();
  while (performance.now() < until) {
    await sleep(1000);
    const p = await sampler.point();
    if (!p) continue;
    out.push(p);
    ctx.progress(`${label}: ${p.connected}/${p.bots} bots, rx ${Math.round(p.rxPps)} pkt/s, loss ${p.lossPct.toFixed(2)}%, ` +
      `jitter ${p.jitterMs.toFixed(1)} ms, lost a/v ${Math.round(p.lostAudioPerS)}/${Math.round(p.lostVideoPerS)}/s, late ${Math.round(p.latePerS)}/s, socket drops ${Math.round(p.udpDropsPerS)}/s (queue ${Math.round(p.udpMaxRxQueueKiB)} KiB), SFU socket drops ${Math.round(p.sfuUdpDropsPerS)}/s, loop p99 ${Math.round(p.eventLoopP99Ms)} ms, SFU ${p.sfuCpuCores.toFixed(2)} cores, bots ${p.botCpuCores.toFixed(2)} cores, machine ${p.machineCpuCores.toFixed(2)}`);
  }
  return out;
}

/** A fleet on `sfu`, always stopped (with the SFU left to the caller). */
export async function withFleet<T>(ctx: ScenarioContext, sfu: SfuServer, fn: (fleet: Fleet, sampler: Sampler) => Promise<T>): Promise<T> {
  const fleet = await Fleet.start(sfu.connect, ctx.processes);
  try {
    return await fn(fleet, new Sampler(fleet, sfu));
  } finally {
    await fleet.stop();
  }
}

/** Joins bots in parallel batches of `concurrency`; returns the results (failures included). */
export async function joinAll(fleet: Fleet, specs: { id: string; room: string; publish: boolean; subscribe?: boolean; node?: string; process?: number }[], concurrency = 4) {
  const results = [];
  for (let i = 0; i < specs.length; i += concurrency) {
    results.push(...(await Promise.all(specs.slice(i, i + concurrency).map((s) => fleet.join(s.id, s.room, s.publish, s.subscribe ?? true, s)))));
  }
  return results;
}

export function failuresOf(results: { id: string; ok: boolean; error?: string }[], sfu: string): string[] {
  return results.filter((r) => !r.ok).map((r) => `${sfu}: bot ${r.id} could not connect: ${r.error}`);
}

/** One SFU's part of a scenario's result. */
export interface SfuRun {
  row: (string | number | null)[];
  points: Point[];
  figures: Record<string, unknown>;
  failures: string[];
}

/**
 * `--browsers N` and `--browser-video K` for a scenario: N real Chromium participants, each receiving K of the bots'
 * video streams (the scenario calls `sampler.joinBrowsers(room)` once its bots are in).
 */
export function browserFlags(defaultCount: number, why: string): Record<string, FlagSpec> {
  return {
    browsers: { default: String(defaultCount), help: `headless Chromium participants (view only) reading getStats: frames decoded, freezes, loss (${why})` },
    'browser-video': { default: '4', help: 'video streams each browser receives at most' },
  };
}

/**
 * Starts `kind`, a fleet of bots on it (and the --browsers participants), runs `fn`, and stops all of it whatever
 * happens. `phase` names the run in the browser-quality table; `browsers` overrides --browsers.
 */
export async function onSfu<T>(ctx: ScenarioContext, kind: SfuKind, fn: (sfu: SfuServer, fleet: Fleet, sampler: Sampler) => Promise<T>,
  opts?: { workerBin?: string; label?: string; phase?: string; browsers?: number; env?: Record<string, string> }): Promise<T> {
  const browsers = opts?.browsers ?? (ctx.flags.browsers === undefined ? 0 : intFlag(ctx, 'browsers', 0, 8));
  const browserVideo = ctx.flags['browser-video'] === undefined ? 4 : intFlag(ctx, 'browser-video', 1, 16);
  const sfu = await ctx.startSfu(kind, opts);
  try {
    return await withFleet(ctx, sfu, async (fleet, sampler) => {
      const bp = await BrowserParticipants.launch(sfu, browsers, browserVideo);
      sampler.browsers = bp;
      try {
        return await fn(sfu, fleet, sampler);
      } finally {
        if (bp) {
          const label = [opts?.label ?? kind, opts?.phase].filter(Boolean).join(' ');
          ctx.browserQuality.push({ label, figures: bp.summary(sampler.points.flatMap((p) => (p.browser ? [p.browser] : []))) });
          await bp.close();
        }
      }
    });
  } finally {
    await sfu.stop();
  }
}

/** Runs `fn` for every SFU of --sfu, one after another; one that fails is a failure in the results, the rest still run. */
export async function eachSfu(ctx: ScenarioContext, fn: (kind: SfuKind) => Promise<SfuRun>) {
  const rows: (string | number | null)[][] = [];
  const series: Series[] = [];
  const figures: Record<string, unknown> = {};
  const failures: string[] = [];
  for (const kind of ctx.sfus) {
    try {
      const r = await fn(kind);
      rows.push(r.row);
      series.push({ label: kind, points: r.points });
      figures[kind] = { ...r.figures, points: r.points };
      failures.push(...r.failures);
    } catch (err) {
      failures.push(`${kind}: ${(err as Error).message}`);
    }
  }
  return { rows, series, figures, failures };
}
