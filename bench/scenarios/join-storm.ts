/**
 * `join-storm`: M joins per second for T seconds (rooms of --room-size; every --publish-every-th joiner publishes,
 * the rest only subscribe). A join is: signalling, join, transports created and connected (ICE+DTLS), and publishing
 * when the bot publishes. Reports success rate and join time p50/p95/max; every failure is listed.
 */
import type { JoinResult } from '../lib/fleet.js';
import type { ScenarioResult } from '../lib/report.js';
import { eachSfu, failuresOf, intFlag, measure, numFlag, onSfu, percentile, sleep, type Scenario } from '../lib/scenario.js';

export interface StepStat {
  step: string;
  /** Joins that went through this step. */
  count: number;
  p50: number;
  p95: number;
}

/** Per step of the successful joins' breakdowns (ms), in the order the steps first appear. */
export function stepStats(results: readonly JoinResult[]): StepStat[] {
  const by = new Map<string, number[]>();
  for (const r of results) {
    if (!r.ok) continue;
    for (const [step, ms] of r.steps ?? []) {
      const list = by.get(step) ?? [];
      list.push(ms);
      by.set(step, list);
    }
  }
  return [...by].map(([step, ms]) => ({ step, count: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95) }));
}

const fmt = (ms: number) => (ms >= 10 ? Math.round(ms).toString() : ms.toFixed(1));

export const joinStorm: Scenario = {
  name: 'join-storm',
  summary: 'M joins per second for T seconds: success rate, join time p50/p95/max',
  needs: 'single-node',
  flags: {
    rate: { default: '5', help: 'joins per second' },
    seconds: { default: '10', help: 'seconds of joining' },
    'room-size': { default: '10', help: 'joiners per room' },
    'publish-every': { default: '5', help: 'every n-th joiner publishes (0: nobody)' },
  },
  async run(ctx): Promise<ScenarioResult> {
    const rate = numFlag(ctx, 'rate', 0.1, 200);
    const seconds = intFlag(ctx, 'seconds', 1, 600);
    const roomSize = intFlag(ctx, 'room-size', 1, 1000);
    const publishEvery = intFlag(ctx, 'publish-every', 0, 1000);
    const total = Math.round(rate * seconds);
    const notes: string[] = [];
    const publishes = (i: number) => publishEvery > 0 && i % publishEvery === 0;
    const { rows, series, figures, failures } = await eachSfu(ctx, (kind) => onSfu(ctx, kind, async (sfu, fleet, sampler) => {
      const stamp = Date.now().toString(36);
      for (let r = 0; r < Math.ceil(total / roomSize); r++) await sfu.prepareRoom(`storm-${stamp}-${r}`, roomSize);
      const t0 = performance.now();
      const pending: Promise<JoinResult>[] = [];
      const watching = measure(ctx, sampler, `${kind} join-storm`, seconds + 5);
      for (let i = 0; i < total; i++) {
        const wait = t0 + (i * 1000) / rate - performance.now();
        if (wait > 0) await sleep(wait);
        pending.push(fleet.join(`j${i}`, `storm-${stamp}-${Math.floor(i / roomSize)}`, publishes(i)));
      }
      const results = await Promise.all(pending);
      const points = await watching;
      const ok = results.filter((r) => r.ok);
      const times = ok.map((r) => r.joinMs);
      const sig = ok.map((r) => r.signalledMs ?? NaN).filter(Number.isFinite);
      // publishers connect two transports and produce; the others one transport
      const role = (pub: boolean) => ok.filter((r) => publishes(Number(r.id.slice(1))) === pub).map((r) => r.joinMs);
      const steps = stepStats(results);
      const server = (await sfu.serverTimings?.()) ?? null;
      if (steps.length) notes.push(`${kind} join steps p50/p95 ms (client): ${steps.map((x) => `${x.step} ${fmt(x.p50)}/${fmt(x.p95)}`).join(', ')}`);
      if (server) notes.push(`${kind} server mean ms (count): ${Object.entries(server).map(([k, v]) => `${k} ${fmt(v.meanMs)} (${v.count})`).join(', ')}`);
      const f = {
        sfu: kind, attempted: total, succeeded: ok.length, successPct: (ok.length / total) * 100,
        joinMs: { p50: percentile(times, 50), p95: percentile(times, 95), max: Math.max(...times) },
        signalledMs: { p50: percentile(sig, 50), p95: percentile(sig, 95) },
        achievedRate: total / ((performance.now() - t0) / 1000),
        publisherJoinMs: { p50: percentile(role(true), 50), p95: percentile(role(true), 95) },
        subscriberJoinMs: { p50: percentile(role(false), 50), p95: percentile(role(false), 95) },
        steps, serverTimings: server,
        joins: results,
      };
      return {
        row: [kind, `${ok.length}/${total}`, f.successPct, f.joinMs.p50, f.joinMs.p95, f.joinMs.max, f.signalledMs.p50, f.publisherJoinMs.p50, f.subscriberJoinMs.p50],
        points, failures: failuresOf(results, kind), figures: { ...f, server: sfu.describe() },
      };
    }));
    return {
      figures, series, failures,
      table: { columns: ['sfu', 'joined', 'success %', 'join p50 ms', 'join p95 ms', 'join max ms', 'signalling p50 ms', 'publisher p50 ms', 'subscriber p50 ms'], rows },
      bars: [{ title: 'Join time p95', unit: 'ms', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[4]) })) }],
      notes: [`${rate} joins/s for ${seconds} s; join time: from opening the signalling socket to media transports connected (and producing, for publishers)`, ...notes],
    };
  },
};
