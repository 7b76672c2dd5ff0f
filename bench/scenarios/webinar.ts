/**
 * `webinar`: a few panelists publishing, many view-only attendees, one room. With `--nodes 1` (the default) on one
 * node of every SFU in --sfu; with `--nodes N` on a local mesh of N of our nodes (each its own `meshmeet node start`):
 * the panelists on node a, the attendees spread over all nodes in turn, so every other node gets each panelist's
 * media once through a pipe and fans it out to its own attendees.
 */
import { Fleet, Sampler } from '../lib/fleet.js';
import type { ScenarioResult } from '../lib/report.js';
import { browserFlags, eachSfu, failuresOf, intFlag, joinAll, measure, onSfu, sleep, summarize, type Scenario, type ScenarioContext, type SfuRun } from '../lib/scenario.js';
import type { BotStats } from '../lib/protocol.js';
import { meshNodes } from '../lib/sfu/mesh.js';

const COLUMNS = ['sfu', 'joined', 'rx pkt/s', 'loss %', 'jitter ms', 'SFU cores', 'pkt/s per SFU core'];

/** Joins the panelists (on `panelNode`) and the attendees (over `nodes` in turn), measures, and makes the row. */
async function runWebinar(ctx: ScenarioContext, label: string, fleet: Fleet, sampler: Sampler, o: {
  room: string; panelists: number; attendees: number; seconds: number; nodes?: string[]; beforeMeasure?: () => Promise<void>;
}): Promise<SfuRun & { joins: Awaited<ReturnType<typeof joinAll>> }> {
  const room = o.room;
  const at = (i: number) => (o.nodes ? { node: o.nodes[i % o.nodes.length]! } : {});
  const joins = [
    ...(await joinAll(fleet, Array.from({ length: o.panelists }, (_, i) => ({ id: `panelist${i}`, room, publish: true, ...(o.nodes ? { node: o.nodes[0]! } : {}) })))),
    ...(await joinAll(fleet, Array.from({ length: o.attendees }, (_, i) => ({ id: `attendee${i}`, room, publish: false, ...at(i) })), 6)),
  ];
  await sampler.joinBrowsers(room);
  await sleep(3000);
  await o.beforeMeasure?.();
  const points = await measure(ctx, sampler, `${label} webinar`, o.seconds);
  const s = summarize(points);
  const ok = joins.filter((j) => j.ok).length;
  return {
    joins,
    row: [label, `${ok}/${joins.length}`, s.rxPps!, s.lossPct!, s.jitterMs!, s.sfuCpuCores!, s.ppsPerSfuCore!],
    points, failures: failuresOf(joins, label),
    figures: { sfu: label, panelists: o.panelists, attendees: o.attendees, joined: ok, summary: s },
  };
}

export const webinar: Scenario = {
  name: 'webinar',
  summary: 'a few panelists publishing, many view-only attendees; on one node, or (--nodes N) over a local mesh of our nodes',
  needs: 'single-node',
  flags: {
    panelists: { default: '3', help: 'publishing panelists' },
    attendees: { default: '30', help: 'view-only attendees' },
    seconds: { default: '15', help: 'measured seconds' },
    nodes: { default: '1', help: 'nodes: 1 = one node of each --sfu; N > 1 = a local mesh of N of our nodes (panelists on the first, attendees spread)' },
    ...browserFlags(0, 'as attendees; off by default: the attendees are the load'),
  },
  async run(ctx): Promise<ScenarioResult> {
    const panelists = intFlag(ctx, 'panelists', 1, 20);
    const attendees = intFlag(ctx, 'attendees', 0, 2000);
    const seconds = intFlag(ctx, 'seconds', 2, 3600);
    const nodes = intFlag(ctx, 'nodes', 1, 8);
    const o = { panelists, attendees, seconds };
    const bars = (rows: (string | number | null)[][]) => [{ title: 'Packets delivered per second per SFU core', unit: 'pkt/s/core', items: rows.map((r) => ({ label: String(r[0]), value: Number(r[6]) })) }];
    if (nodes === 1) {
      const { rows, series, figures, failures } = await eachSfu(ctx, (kind) => onSfu(ctx, kind, async (sfu, fleet, sampler) => {
        const room = `webinar-${Date.now().toString(36)}`;
        await sfu.prepareRoom(room, panelists);
        const r = await runWebinar(ctx, kind, fleet, sampler, { ...o, room });
        return { ...r, figures: { ...r.figures, server: sfu.describe() } };
      }, { phase: 'webinar' }));
      return { figures, series, failures, table: { columns: COLUMNS, rows }, bars: bars(rows), notes: ['one node per SFU; --nodes N spreads attendees over a local mesh of our nodes'] };
    }
    if (ctx.sfus.some((s) => s !== 'meshmeet')) ctx.log('webinar --nodes N runs on a mesh of our nodes only: --sfu is ignored');
    const specs = meshNodes(nodes);
    ctx.progress(`starting a mesh of ${nodes} nodes...`);
    const mesh = await ctx.startMesh({ nodes: specs });
    try {
      const fleet = await Fleet.start(mesh.connect, ctx.processes);
      try {
        let cpu0: Record<string, number> = {};
        let t0 = 0;
        let bots0 = new Map<string, BotStats>();
        const label = `meshmeet x${nodes}`;
        const r = await runWebinar(ctx, label, fleet, new Sampler(fleet, mesh.sfu), {
          ...o, room: `webinar-${Date.now().toString(36)}`, nodes: specs.map((n) => n.id),
          beforeMeasure: async () => {
            bots0 = new Map((await fleet.sample()).bots.map((b) => [b.id, b]));
            cpu0 = Object.fromEntries(specs.map((n) => [n.id, mesh.nodeCpuSeconds(n.id)]));
            t0 = performance.now();
          },
        });
        const dt = (performance.now() - t0) / 1000;
        // per node over the measured seconds: its attendees' receive rate and loss, and the node's CPU
        const bots = new Map((await fleet.sample()).bots.map((b) => [b.id, b]));
        const byNode = specs.map((n, k) => {
          const ids = Array.from({ length: attendees }, (_, i) => i).filter((i) => i % nodes === k).map((i) => `attendee${i}`);
          const d = (id: string, f: 'packets' | 'expected' | 'lost') => (bots.get(id)?.rx?.[f] ?? 0) - (bots0.get(id)?.rx?.[f] ?? 0);
          const expected = ids.reduce((a, id) => a + d(id, 'expected'), 0);
          const cpuCores = (mesh.nodeCpuSeconds(n.id) - cpu0[n.id]!) / dt;
          const rxPps = ids.reduce((a, id) => a + d(id, 'packets'), 0) / dt;
          return {
            node: n.id, region: n.region, attendees: ids.length, panelists: k === 0 ? panelists : 0,
            connected: ids.filter((id) => bots.get(id)?.connected).length, rxPps,
            lossPct: expected > 0 ? Math.max(0, (ids.reduce((a, id) => a + d(id, 'lost'), 0) / expected) * 100) : 0,
            cpuCores, ppsPerCore: cpuCores > 0 ? rxPps / cpuCores : NaN,
          };
        });
        const rows = [r.row, ...byNode.map((n) => [`node ${n.node} (${n.region})`, `${n.connected}/${n.attendees} att.`, n.rxPps, n.lossPct, null, n.cpuCores, n.ppsPerCore])];
        return {
          figures: { meshmeet: { ...r.figures, nodes, byNode, server: mesh.sfu.describe(), points: r.points } },
          series: [{ label, points: r.points }], failures: r.failures,
          table: { columns: COLUMNS, rows }, bars: bars([r.row]),
          notes: [
            `a local mesh of ${nodes} of our nodes (no WAN delay): panelists on node a, attendees spread over the nodes in turn`,
            'node rows: the node\'s attendees (connected), what they received and lost, and the node\'s CPU (its Node.js process and mediasoup workers), over the measured seconds',
          ],
        };
      } finally {
        await fleet.stop();
      }
    } finally {
      await mesh.stop();
    }
  },
};
