/**
 * `webinar`: a few panelists publishing, many view-only attendees, one room. Single node for now; once the mesh
 * exists, attendees spread over the nodes of a local mesh through the same scenario (a `nodes` flag).
 */
import type { ScenarioResult } from '../lib/report.js';
import { browserFlags, eachSfu, failuresOf, intFlag, joinAll, measure, onSfu, sleep, summarize, type Scenario } from '../lib/scenario.js';

export const webinar: Scenario = {
  name: 'webinar',
  summary: 'a few panelists publishing, many view-only attendees (single node until the mesh exists)',
  needs: 'single-node',
  flags: {
    panelists: { default: '3', help: 'publishing panelists' },
    attendees: { default: '30', help: 'view-only attendees' },
    seconds: { default: '15', help: 'measured seconds' },
    ...browserFlags(0, 'as attendees; off by default: the attendees are the load'),
  },
  async run(ctx): Promise<ScenarioResult> {
    const panelists = intFlag(ctx, 'panelists', 1, 20);
    const attendees = intFlag(ctx, 'attendees', 0, 2000);
    const seconds = intFlag(ctx, 'seconds', 2, 3600);
    const { rows, series, figures, failures } = await eachSfu(ctx, (kind) => onSfu(ctx, kind, async (sfu, fleet, sampler) => {
      const room = `webinar-${Date.now().toString(36)}`;
      await sfu.prepareRoom(room, panelists);
      const joins = [
        ...(await joinAll(fleet, Array.from({ length: panelists }, (_, i) => ({ id: `panelist${i}`, room, publish: true })))),
        ...(await joinAll(fleet, Array.from({ length: attendees }, (_, i) => ({ id: `attendee${i}`, room, publish: false })), 6)),
      ];
      await sampler.joinBrowsers(room);
      await sleep(3000);
      const points = await measure(ctx, sampler, `${kind} webinar`, seconds);
      const s = summarize(points);
      const ok = joins.filter((j) => j.ok).length;
      return {
        row: [kind, `${ok}/${joins.length}`, s.rxPps!, s.lossPct!, s.jitterMs!, s.sfuCpuCores!, s.ppsPerSfuCore!],
        points, failures: failuresOf(joins, kind),
        figures: { sfu: kind, panelists, attendees, joined: ok, summary: s, server: sfu.describe() },
      };
    }, { phase: 'webinar' }));
    return {
      figures, series, failures,
      table: { columns: ['sfu', 'joined', 'rx pkt/s', 'loss %', 'jitter ms', 'SFU cores', 'pkt/s per SFU core'], rows },
      bars: [{ title: 'Packets delivered per second per SFU core', unit: 'pkt/s/core', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[6]) })) }],
      notes: ['single node: spreading attendees over a local mesh comes with the mesh'],
    };
  },
};
