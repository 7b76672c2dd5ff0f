/**
 * `meeting`: N participants in one room on one node, all publishing audio and 3-layer simulcast video, all
 * subscribing to everyone; measured for --seconds after a warm-up. One row per SFU in --sfu.
 */
import type { ScenarioResult } from '../lib/report.js';
import { browserFlags, eachSfu, failuresOf, intFlag, joinAll, measure, onSfu, sleep, summarize, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import type { SfuKind } from '../lib/sfu/types.js';

export interface MeetingFigures {
  sfu: string;
  participants: number;
  joined: number;
  joinMsP50: number;
  summary: Record<string, number>;
  freezes: number;
  keyframesReceived: number;
}

/** Runs one meeting on one SFU kind; used by `meeting` and `compare`. */
export function runMeeting(ctx: ScenarioContext, kind: SfuKind, participants: number, seconds: number, warmup: number) {
  return onSfu(ctx, kind, async (sfu, fleet, sampler) => {
    const room = `meeting-${Date.now().toString(36)}`;
    await sfu.prepareRoom(room, participants);
    ctx.progress(`${kind}: joining ${participants} participants...`);
    const joins = await joinAll(fleet, Array.from({ length: participants }, (_, i) => ({ id: `p${i}`, room, publish: true })));
    await sampler.joinBrowsers(room);
    await sleep(warmup * 1000);
    const points = await measure(ctx, sampler, `${kind} meeting`, seconds);
    const bots = sampler.lastBots;
    const ok = joins.filter((j) => j.ok).map((j) => j.joinMs).sort((a, b) => a - b);
    const figures: MeetingFigures = {
      sfu: kind, participants, joined: ok.length, joinMsP50: ok[Math.floor(ok.length / 2)] ?? NaN,
      summary: summarize(points),
      freezes: bots.reduce((a, b) => a + (b.rx?.freezes ?? 0), 0),
      keyframesReceived: bots.reduce((a, b) => a + (b.rx?.keyframes ?? 0), 0),
    };
    return { figures, points, failures: failuresOf(joins, kind), server: sfu.describe() };
  }, { phase: 'meeting' });
}

export const meetingRow = (f: MeetingFigures): (string | number | null)[] => [
  f.sfu, `${f.joined}/${f.participants}`, f.summary.rxPps!, f.summary.lossPct!, f.summary.jitterMs!, f.freezes,
  f.summary.sfuCpuCores!, f.summary.ppsPerSfuCore!, f.summary.botCpuCores!,
];
export const MEETING_COLUMNS = ['sfu', 'joined', 'rx pkt/s', 'loss %', 'jitter ms', 'freezes', 'SFU cores', 'pkt/s per SFU core', 'bot cores'];

export const meeting: Scenario = {
  name: 'meeting',
  summary: 'N participants, all publishing audio + simulcast video and all subscribing, one node',
  needs: 'single-node',
  flags: {
    participants: { default: '6', help: 'participants in the room' },
    seconds: { default: '20', help: 'measured seconds' },
    warmup: { default: '4', help: 'seconds after the last join before measuring' },
    ...browserFlags(1, 'one, with 4 thumbnails, costs 0.15-0.27 of a core here'),
  },
  async run(ctx): Promise<ScenarioResult> {
    const participants = intFlag(ctx, 'participants', 1, 200);
    const seconds = intFlag(ctx, 'seconds', 2, 3600);
    const warmup = intFlag(ctx, 'warmup', 0, 600);
    const { rows, series, figures, failures } = await eachSfu(ctx, async (kind) => {
      const r = await runMeeting(ctx, kind, participants, seconds, warmup);
      return { row: meetingRow(r.figures), points: r.points, failures: r.failures, figures: { ...r.figures, server: r.server } };
    });
    return {
      figures, series, failures,
      table: { columns: MEETING_COLUMNS, rows },
      bars: [{ title: 'Packets delivered per second per SFU core', unit: 'pkt/s/core', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[7]) })) }],
      notes: ['rx pkt/s: RTP packets the bots received (unique, after retransmission); loss: packets never received; SFU cores: CPU of the SFU\'s own processes (/proc)'],
    };
  },
};
