/**
 * `compare`: `meeting` then `capacity` on ours, LiveKit and Janus one after another in the same run, with the same
 * bots and flags, and the ratios side by side (ours = 1). Absolute numbers on a shared machine are noisy: read the
 * ratios. An SFU that cannot be started is a failure in the results; the others still run.
 */
import type { ScenarioResult, Series } from '../lib/report.js';
import { browserFlags, intFlag, type Scenario } from '../lib/scenario.js';
import { CAPACITY_FLAGS, capacityOptions, runCapacity, type CapacityFigures } from './capacity.js';
import { runMeeting, type MeetingFigures } from './meeting.js';

export const compare: Scenario = {
  name: 'compare',
  summary: 'meeting + capacity on meshmeet, livekit and janus in the same run; ratios side by side',
  needs: 'single-node',
  flags: {
    participants: { default: '5', help: 'meeting: participants' },
    seconds: { default: '12', help: 'meeting: measured seconds' },
    ...CAPACITY_FLAGS,
    ...browserFlags(1, 'in the meeting phase of every SFU; not in the capacity ramps, whose limit is the machine'),
  },
  async run(ctx): Promise<ScenarioResult> {
    if (ctx.flags.sfu === 'meshmeet') ctx.sfus = ['meshmeet', 'livekit', 'janus'];
    const participants = intFlag(ctx, 'participants', 1, 100);
    const seconds = intFlag(ctx, 'seconds', 2, 600);
    const o = capacityOptions(ctx);
    const meetings: Record<string, MeetingFigures> = {};
    const caps: Record<string, CapacityFigures> = {};
    const series: Series[] = [];
    const failures: string[] = [];
    const figures: Record<string, unknown> = {};
    for (const kind of ctx.sfus) {
      try {
        const m = await runMeeting(ctx, kind, participants, seconds, 4);
        meetings[kind] = m.figures;
        failures.push(...m.failures);
        series.push({ label: `${kind} meeting`, points: m.points });
        figures[`${kind}:meeting`] = { ...m.figures, server: m.server, points: m.points };
      } catch (err) {
        failures.push(`${kind} meeting: ${(err as Error).message}`);
      }
      try {
        const c = await runCapacity(ctx, kind, { ...o, browsers: 0 });
        caps[kind] = c.figures;
        failures.push(...c.failures);
        series.push({ label: `${kind} capacity`, points: c.points });
        figures[`${kind}:capacity`] = { ...c.figures, server: c.server, points: c.points };
      } catch (err) {
        failures.push(`${kind} capacity: ${(err as Error).message}`);
      }
    }
    const ours = { m: meetings.meshmeet, c: caps.meshmeet };
    // packets per core rise with load, so the fair comparison is at the same step: the largest subscriber count that
    // every SFU's ramp reached under the loss limit
    const ramps = ctx.sfus.map((k) => caps[k]).filter((c): c is CapacityFigures => !!c);
    const under = (c: CapacityFigures, n: number) => c.steps.find((st) => st.subscribers === n && st.summary.lossPct! <= o.maxLossPct);
    const equalN = Math.max(0, ...(ramps[0]?.steps ?? []).map((st) => st.subscribers).filter((n) => ramps.every((c) => under(c, n))));
    const atEqual = (k: string): number | null => (equalN && caps[k] ? under(caps[k]!, equalN)?.summary.ppsPerSfuCore ?? null : null);
    const ratio = (a: number | undefined, b: number | undefined): number | null => (a && b && Number.isFinite(a) && Number.isFinite(b) ? a / b : null);
    const rows = ctx.sfus.map((k) => {
      const m = meetings[k];
      const c = caps[k];
      return [
        k,
        m?.summary.ppsPerSfuCore ?? null, m?.summary.lossPct ?? null,
        c?.best?.consumers ?? null, c?.best?.summary.ppsPerSfuCore ?? null, c?.best?.summary.lossPct ?? null,
        ratio(ours.c?.best?.summary.ppsPerSfuCore, c?.best?.summary.ppsPerSfuCore),
        ratio(ours.c?.best?.consumers, c?.best?.consumers),
        atEqual(k), ratio(atEqual('meshmeet') ?? undefined, atEqual(k) ?? undefined),
        c?.stoppedBecause ?? 'not run',
      ];
    });
    figures.ratios = Object.fromEntries(rows.map((r) => [r[0], { oursOverThisPktPerCore: r[6], oursOverThisConsumers: r[7], oursOverThisAtEqualLoad: r[9] }]));
    figures.equalLoadSubscribers = equalN;
    return {
      figures, series, failures,
      table: {
        columns: ['sfu', 'meeting pkt/s/core', 'meeting loss %', 'max consumers', 'capacity pkt/s/core', 'capacity loss %', 'ours/this pkt/s/core',
          'ours/this consumers', `pkt/s/core at ${equalN} subscribers`, 'ours/this there', 'capacity stopped because'],
        rows,
      },
      bars: [
        { title: 'Capacity: packets delivered per second per SFU core at < 1% loss', unit: 'pkt/s/core', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[4] ?? 0) })) },
        { title: 'Capacity: consumers at < 1% loss', unit: '', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[3] ?? 0) })) },
        { title: 'Meeting: packets delivered per second per SFU core', unit: 'pkt/s/core', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[1] ?? 0) })) },
      ],
      notes: [
        'same bots, same media, same flags for every SFU, one after another in this run; the machine is shared, so compare the ratios',
        'ours/this > 1: ours does more per core (or carries more consumers) than that SFU',
        `equal load: the largest step (${equalN} subscribers) that every ramp reached under ${o.maxLossPct}% loss; packets per core rise with load, so this is the fair per-core comparison`,
      ],
    };
  },
};
