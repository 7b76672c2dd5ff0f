/**
 * `capacity`: a fixed set of publishers (audio + 3-layer simulcast video) in one room; subscribers are added in
 * steps until receive loss passes --max-loss (1%), the SFU's CPU saturates, --max-subscribers or --max-minutes.
 * On a small shared machine the bots share the cores with the SFU, so the ramp often ends in loss caused by the
 * bots' own limits: the figure to compare is then packets delivered per core of CPU used by the SFU. Reports the last step under the loss limit: consumers
 * (subscribed tracks), packets delivered per second, and per core of CPU used by the SFU's own processes.
 */
import os from 'node:os';
import type { Point } from '../lib/fleet.js';
import type { ScenarioResult, Series } from '../lib/report.js';
import { browserFlags, failuresOf, intFlag, joinAll, measure, numFlag, onSfu, sleep, summarize, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import type { SfuKind } from '../lib/sfu/types.js';

/** A bot process whose event loop stalls longer than this cannot read its sockets in time: its loss says nothing of the SFU. */
const STARVED_MS = 250;

export interface CapacityStep {
  subscribers: number;
  consumers: number;
  joined: number;
  summary: Record<string, number>;
}
export interface CapacityFigures {
  sfu: string;
  label: string;
  publishers: number;
  steps: CapacityStep[];
  best: CapacityStep | null;
  stoppedBecause: string;
}

export interface CapacityOptions {
  publishers: number;
  step: number;
  stepSeconds: number;
  maxSubscribers: number;
  maxLossPct: number;
  maxMinutes: number;
  /** Freeze the SFU's processes (SIGSTOP/SIGCONT) this long every 2 s: the same starvation for every SFU. 0: never. */
  stallSfuMs: number;
  workerBin?: string;
  /** Extra environment of our node (e.g. its workers' socket buffer sizes). */
  env?: Record<string, string>;
  label?: string;
  /** Overrides --browsers (compare runs its ramps without them). */
  browsers?: number;
}

export async function runCapacity(ctx: ScenarioContext, kind: SfuKind, o: CapacityOptions) {
  const label = o.label ?? kind;
  const cores = os.availableParallelism();
  // mediasoup: one room lives on one worker, one core; the others may use every core
  const sfuCoreLimit = kind === 'meshmeet' ? 0.95 : 0.9 * cores;
  return onSfu(ctx, kind, async (sfu, fleet, sampler) => {
    const room = `capacity-${Date.now().toString(36)}`;
    await sfu.prepareRoom(room, o.publishers + 1);
    const failures: string[] = [];
    const pubs = await joinAll(fleet, Array.from({ length: o.publishers }, (_, i) => ({ id: `pub${i}`, room, publish: true, subscribe: false })));
    failures.push(...failuresOf(pubs, label));
    if (pubs.every((p) => !p.ok)) throw new Error(`${label}: no publisher could connect (${pubs[0]?.error})`);
    await sampler.joinBrowsers(room);
    const live = pubs.filter((p) => p.ok).length;
    const steps: CapacityStep[] = [];
    const points: Point[] = [];
    let subscribers = 0;
    let joined = 0;
    let stoppedBecause = `reached --max-subscribers ${o.maxSubscribers}`;
    const deadline = performance.now() + o.maxMinutes * 60_000;
    await sleep(2000);
    const stalls = o.stallSfuMs > 0 ? stallEvery(2000, o.stallSfuMs, () => sfu.pids()) : null;
    try {
      while (subscribers < o.maxSubscribers) {
        const add = Math.min(o.step, o.maxSubscribers - subscribers);
        const res = await joinAll(fleet, Array.from({ length: add }, (_, i) => ({ id: `sub${subscribers + i}`, room, publish: false })));
        subscribers += add;
        joined += res.filter((r) => r.ok).length;
        failures.push(...failuresOf(res, label));
        await sleep(2500);
        const pts = await measure(ctx, sampler, `${label} capacity ${subscribers} subscribers`, o.stepSeconds);
        points.push(...pts);
        const summary = summarize(pts);
        const step = { subscribers, consumers: joined * live * 2, joined, summary };
        steps.push(step);
        ctx.log(`${label}: ${subscribers} subscribers (${step.consumers} consumers): ${Math.round(summary.rxPps!)} pkt/s, loss ${summary.lossPct!.toFixed(2)}%, ` +
          `SFU ${summary.sfuCpuCores!.toFixed(2)} cores, ${Math.round(summary.ppsPerSfuCore!)} pkt/s per SFU core, machine ${summary.machineCpuCores!.toFixed(2)}/${cores}`);
        if (res.some((r) => !r.ok)) { stoppedBecause = 'bots could not connect'; break; }
        if (summary.lossPct! > o.maxLossPct) {
          // loss while the bots' event loops stall is the machine's doing (other load, or the bots themselves), not the SFU's
          const stall = Math.max(...pts.map((p) => p.eventLoopP99Ms));
          stoppedBecause = `loss ${summary.lossPct!.toFixed(2)}% > ${o.maxLossPct}%` +
            (stall > STARVED_MS ? ` while the bots were starved of CPU (event loop p99 ${Math.round(stall)} ms): a limit of this machine, not of the SFU` : '');
          break;
        }
        const sfuCpu = kind === 'meshmeet' && Number.isFinite(summary.sfuMediaCpuCores) ? summary.sfuMediaCpuCores! : summary.sfuCpuCores!;
        if (sfuCpu >= sfuCoreLimit) { stoppedBecause = `SFU CPU saturated (${sfuCpu.toFixed(2)} cores)`; break; }
        if (performance.now() > deadline) { stoppedBecause = `--max-minutes ${o.maxMinutes} reached`; break; }
      }
    } finally {
      stalls?.stop();
    }
    const under = steps.filter((s) => s.summary.lossPct! <= o.maxLossPct && s.joined === s.subscribers);
    const best = under.at(-1) ?? null;
    const figures: CapacityFigures = { sfu: kind, label, publishers: o.publishers, steps, best, stoppedBecause };
    return { figures, points, failures, server: sfu.describe() };
  }, { workerBin: o.workerBin, env: o.env, label, phase: 'capacity', browsers: o.browsers });
}

/**
 * Starves processes on purpose: SIGSTOP for `ms` every `everyMs`, then SIGCONT, like a busy machine that leaves
 * them without a core for a while. `stop()` ends it and always continues them.
 */
function stallEvery(everyMs: number, ms: number, pids: () => number[]): { stop: () => void } {
  let stopped: number[] = [];
  const signal = (list: number[], sig: NodeJS.Signals): void => {
    for (const pid of list) {
      try {
        process.kill(pid, sig);
      } catch { /* gone */ }
    }
  };
  let resume: NodeJS.Timeout | undefined;
  const timer = setInterval(() => {
    stopped = pids();
    signal(stopped, 'SIGSTOP');
    resume = setTimeout(() => signal(stopped, 'SIGCONT'), ms);
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      clearTimeout(resume);
      signal(stopped, 'SIGCONT');
    },
  };
}

export const CAPACITY_COLUMNS = ['sfu', 'max subscribers', 'consumers', 'rx pkt/s', 'loss %', 'SFU cores', 'pkt/s per SFU core',
  'pkt/s per worker core', 'steps < 1%: pkt/s per SFU core', 'stopped because'];
/** Packets over CPU across every step under the loss limit (less noisy than one step). */
function pooled(f: CapacityFigures, cpu: 'sfuCpuCores' | 'sfuMediaCpuCores'): number | null {
  const ok = f.steps.filter((s) => s.summary.lossPct! <= 1);
  const c = ok.reduce((a, s) => a + s.summary[cpu]!, 0);
  return ok.length && c > 0 ? ok.reduce((a, s) => a + s.summary.rxPps!, 0) / c : null;
}
export const capacityRow = (f: CapacityFigures): (string | number | null)[] => [
  f.label, f.best?.subscribers ?? 0, f.best?.consumers ?? 0, f.best?.summary.rxPps ?? null, f.best?.summary.lossPct ?? null,
  f.best?.summary.sfuCpuCores ?? null, f.best?.summary.ppsPerSfuCore ?? null, f.best?.summary.ppsPerMediaCore ?? null, pooled(f, 'sfuCpuCores'),
  f.stoppedBecause,
];

/**
 * --worker-udp-buffers: each entry a size in bytes for the workers' UDP receive and send buffers (0: the kernel's
 * default, as an unpatched mediasoup 3.12 worker has), or 'patched' for the worker's own default.
 */
export function workerUdpBuffers(flag: string): { label: string; env?: Record<string, string> }[] {
  return flag.split(',').map((x) => x.trim()).filter(Boolean).map((x) => {
    if (x === 'patched') return { label: 'udpbuf=patched' };
    if (!/^\d+$/.test(x) || Number(x) > 2 ** 30) throw new Error(`--worker-udp-buffers: '${x}' is not a size in bytes (0..2^30) or 'patched'`);
    return { label: `udpbuf=${x === '0' ? 'kernel' : x}`, env: { MESHMEET_WORKER_UDP_RECV_BUFFER: x, MESHMEET_WORKER_UDP_SEND_BUFFER: x } };
  });
}

export function capacityOptions(ctx: ScenarioContext): CapacityOptions {
  return {
    publishers: intFlag(ctx, 'publishers', 1, 20),
    step: intFlag(ctx, 'step', 1, 100),
    stepSeconds: intFlag(ctx, 'step-seconds', 2, 120),
    maxSubscribers: intFlag(ctx, 'max-subscribers', 1, 2000),
    maxLossPct: numFlag(ctx, 'max-loss', 0, 100),
    maxMinutes: numFlag(ctx, 'max-minutes', 0.5, 120),
    stallSfuMs: ctx.flags['stall-sfu-ms'] === undefined ? 0 : intFlag(ctx, 'stall-sfu-ms', 0, 1500),
  };
}
export const CAPACITY_FLAGS = {
  publishers: { default: '2', help: 'fixed publishers (audio + simulcast video)' },
  step: { default: '6', help: 'subscribers added per step' },
  'step-seconds': { default: '6', help: 'measured seconds per step' },
  'max-subscribers': { default: '240', help: 'stop here at the latest' },
  'max-loss': { default: '1', help: 'receive loss (%) that ends the ramp' },
  'max-minutes': { default: '8', help: 'time limit of one ramp' },
  'stall-sfu-ms': { default: '0', help: "freeze the SFU's processes this long (SIGSTOP) every 2 s: the same CPU starvation for every SFU" },
};

export const capacity: Scenario = {
  name: 'capacity',
  summary: 'ramp subscribers on fixed publishers until loss > 1% or CPU saturates; max consumers and pkt/s per SFU core',
  needs: 'single-node',
  flags: {
    ...CAPACITY_FLAGS,
    ...browserFlags(0, 'off by default: the ramp ends at the machine\'s limit, and a browser takes CPU from it'),
    'worker-bins': { default: '', help: 'meshmeet only: comma-separated mediasoup-worker binaries to compare in the same run (e.g. before/after libsrtp)' },
    'worker-udp-buffers': { default: '', help: "meshmeet only: comma-separated socket buffer sizes (bytes) of the workers' UDP sockets to compare in the same run; 0 = the kernel's default, 'patched' = the worker's own (8 MiB receive)" },
  },
  async run(ctx): Promise<ScenarioResult> {
    const o = capacityOptions(ctx);
    const runs: { kind: SfuKind; workerBin?: string; env?: Record<string, string>; label: string }[] = [];
    const buffers = workerUdpBuffers(ctx.flags['worker-udp-buffers']!);
    for (const kind of ctx.sfus) {
      const bins = kind === 'meshmeet' ? ctx.flags['worker-bins']!.split(',').filter(Boolean) : [];
      const base = bins.length === 0 ? [{ kind, label: kind }] : bins.map((b, i) => ({ kind, workerBin: b, label: `${kind}#${i + 1}` }));
      for (const r of base) {
        if (kind !== 'meshmeet' || buffers.length === 0) runs.push(r);
        else for (const b of buffers) runs.push({ ...r, env: b.env, label: `${r.label} ${b.label}` });
      }
    }
    const rows: (string | number | null)[][] = [];
    const series: Series[] = [];
    const figures: Record<string, unknown> = {};
    const failures: string[] = [];
    const notes: string[] = [];
    for (const r of runs) {
      try {
        const res = await runCapacity(ctx, r.kind, { ...o, workerBin: r.workerBin, env: r.env, label: r.label });
        rows.push(capacityRow(res.figures));
        series.push({ label: r.label, points: res.points });
        figures[r.label] = { ...res.figures, server: res.server, points: res.points };
        failures.push(...res.failures);
        if (r.workerBin) notes.push(`${r.label}: worker ${r.workerBin}`);
      } catch (err) {
        failures.push(`${r.label}: ${(err as Error).message}`);
      }
    }
    for (const [col, what] of [[6, 'pkt/s per SFU core'], [7, 'pkt/s per worker core'], [8, 'pkt/s per SFU core over all steps under 1% loss']] as const) {
      const base = rows[0]?.[col] as number | null;
      if (rows.length > 1 && base) notes.push(`${what} relative to ${rows[0]![0]}: ${rows.map((r) => `${r[0]} ${((r[col] as number) / base).toFixed(2)}x`).join(', ')}`);
    }
    notes.push('consumers: subscribed tracks (audio + video per publisher per subscriber); pkt/s per SFU core: packets delivered to the bots per second per core of CPU used by the SFU\'s processes');
    return {
      figures, series, failures, notes,
      table: { columns: CAPACITY_COLUMNS, rows },
      bars: [
        { title: 'Packets delivered per second per SFU core at < 1% loss', unit: 'pkt/s/core', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[6] ?? 0) })) },
        { title: 'Consumers at < 1% loss', unit: '', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[2] ?? 0) })) },
      ],
    };
  },
};
