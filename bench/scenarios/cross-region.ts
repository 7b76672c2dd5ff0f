/**
 * `cross-region`: one meeting over a local mesh of three of our nodes (a, b, c; each its own `meshmeet node start`
 * process), --per-node participants on each, the first --publishers-per-node of them publishing audio + 3-layer
 * simulcast VP8, everyone subscribing. Pipes between nodes go through a user-space UDP delay relay (one-way delays
 * per pair, flags) that emulates WAN distances; bots reach their node directly.
 *
 * Reports:
 * - bytes/s on the pipes, from the relay's counters and from the nodes' own pipe transports (edge_pipe_bytes), against
 *   the naive figure: each producer's bytes once per remote subscriber (what a node would carry if every remote
 *   subscriber pulled its own copy across the WAN); the ratio naive / pipe;
 * - receive loss, packets/s and CPU per node;
 * - the relay hop's own cost: one "probe" subscriber per node, all in the same bot process (one clock), log the
 *   arrival of every audio packet by publisher and RTP timestamp (mediasoup keeps the RTP timestamp through a simple
 *   consumer and a pipe); for a packet seen by the probe on the publisher's node and by one on a remote node,
 *   remote arrival - local arrival - the emulated one-way delay is what the hop itself added (p50/p95).
 */
import type { Arrivals } from '../lib/rtc/receiver.js';
import type { ScenarioResult } from '../lib/report.js';
import { Fleet, Sampler } from '../lib/fleet.js';
import { linkKey } from '../lib/delay-relay.js';
import { failuresOf, intFlag, joinAll, measure, numFlag, percentile, sleep, summarize, type Scenario } from '../lib/scenario.js';
import type { BotStats } from '../lib/protocol.js';
import { meshNodes } from '../lib/sfu/mesh.js';
import { until } from '../lib/system.js';

const REGIONS = meshNodes(3);

/** One-way delay for an unordered node pair from a table keyed `x-y` (either order). */
export function pairDelay(table: Record<string, number>): (from: string, to: string) => number {
  return (from, to) => table[`${from}-${to}`] ?? table[`${to}-${from}`] ?? NaN;
}

/**
 * The hop's own cost for packets of one publisher seen by a subscriber on its node (`local`) and one on a remote node
 * (`remote`), both [RTP timestamp, arrival ms] on one clock: remote - local - oneWayDelayMs, per packet seen by both.
 */
export function hopCosts(local: [number, number][], remote: [number, number][], oneWayDelayMs: number): number[] {
  const at = new Map(local);
  const out: number[] = [];
  for (const [ts, t] of remote) {
    const l = at.get(ts);
    if (l !== undefined) out.push(t - l - oneWayDelayMs);
  }
  return out;
}

/**
 * The naive cross-node bytes/s: each publisher's bytes once per subscriber on another node; and the mesh's ideal:
 * once per other node that has a subscriber.
 */
export function naiveBytes(publishers: { node: string; bytesPerS: number }[], subscribersPerNode: Record<string, number>): { naive: number; oncePerNode: number } {
  let naive = 0, oncePerNode = 0;
  for (const p of publishers) {
    for (const [node, n] of Object.entries(subscribersPerNode)) {
      if (node === p.node || n === 0) continue;
      naive += p.bytesPerS * n;
      oncePerNode += p.bytesPerS;
    }
  }
  return { naive, oncePerNode };
}

interface Window { at: number; bots: Map<string, BotStats>; cpu: Record<string, number>; pipes: Record<string, { out: number; in: number } | null>; relay: Record<string, { bytes: number; packets: number; dropped: number; lateMsSum: number; lateMsMax: number }> }

export const crossRegion: Scenario = {
  name: 'cross-region',
  summary: 'participants over three nodes of a local mesh: pipe bytes vs naive, loss and CPU per node, added latency of a relay hop',
  needs: 'mesh',
  flags: {
    'per-node': { default: '3', help: 'participants on each node (all subscribe)' },
    'publishers-per-node': { default: '1', help: 'of them, publishing audio + simulcast video' },
    seconds: { default: '15', help: 'measured seconds' },
    warmup: { default: '4', help: 'seconds after the last join before measuring' },
    'delay-ab': { default: '40', help: 'one-way delay a<->b, ms (eu-west / us-east)' },
    'delay-ac': { default: '90', help: 'one-way delay a<->c, ms (eu-west / ap-south)' },
    'delay-bc': { default: '110', help: 'one-way delay b<->c, ms (us-east / ap-south)' },
    workers: { default: '1', help: 'mediasoup workers per node' },
  },
  async run(ctx): Promise<ScenarioResult> {
    const perNode = intFlag(ctx, 'per-node', 1, 200);
    const pubs = intFlag(ctx, 'publishers-per-node', 0, perNode);
    const seconds = intFlag(ctx, 'seconds', 2, 3600);
    const warmup = intFlag(ctx, 'warmup', 0, 600);
    const workers = intFlag(ctx, 'workers', 1, 8);
    const table = { 'a-b': numFlag(ctx, 'delay-ab', 0, 2000), 'a-c': numFlag(ctx, 'delay-ac', 0, 2000), 'b-c': numFlag(ctx, 'delay-bc', 0, 2000) };
    const delay = pairDelay(table);
    if (ctx.sfus.some((s) => s !== 'meshmeet')) ctx.log('cross-region runs on a mesh of our nodes only: --sfu is ignored');
    ctx.progress('starting a mesh of 3 nodes and the delay relay...');
    const mesh = await ctx.startMesh({ nodes: REGIONS, workers, delayMs: delay });
    const failures: string[] = [];
    try {
      const fleet = await Fleet.start(mesh.connect, ctx.processes);
      try {
        const sampler = new Sampler(fleet, mesh.sfu);
        const room = `xregion-${Date.now().toString(36)}`;
        const nodeOf = new Map<string, string>();
        const probes: Record<string, string> = {};
        const specs = REGIONS.flatMap((n) => Array.from({ length: perNode }, (_, i) => {
          const id = `${n.id}${i}`;
          nodeOf.set(id, n.id);
          // the last participant of each node is its probe: all probes in bot process 0 (one clock)
          const probe = i === perNode - 1;
          if (probe) probes[n.id] = id;
          return { id, room, publish: i < pubs, node: n.id, ...(probe ? { process: 0 } : {}) };
        }));
        ctx.progress(`joining ${specs.length} participants over 3 nodes...`);
        const joins = await joinAll(fleet, specs);
        failures.push(...failuresOf(joins, 'meshmeet'));
        // pipes open on demand: before the warmup, wait until media flows through the relay from every node with a
        // publisher to every other node with a subscriber (bounded; a pipe that never opens is a failure of the run)
        const joined = new Set(joins.filter((j) => j.ok).map((j) => j.id));
        const hasPublisher = (node: string) => specs.some((s) => s.node === node && s.publish && joined.has(s.id));
        const hasSubscriber = (node: string) => specs.some((s) => s.node === node && joined.has(s.id));
        const mediaLinks = REGIONS.flatMap((from) => REGIONS.filter((to) => to.id !== from.id && hasPublisher(from.id) && hasSubscriber(to.id))
          .map((to) => linkKey(from.id, to.id)));
        const silent = () => mediaLinks.filter((k) => !((mesh.relayStats()?.links[k]?.packets ?? 0) > 0));
        await until('media on every pipe between the nodes', () => silent().length === 0, 60_000)
          .catch(() => failures.push(`pipes: no media through the relay within 60 s on ${silent().join(', ')}`));
        await sleep(warmup * 1000);

        const snapshot = async (): Promise<Window> => {
          const s = await fleet.sample();
          const relay = mesh.relayStats()?.links ?? {};
          return {
            at: performance.now(), bots: new Map(s.bots.map((b) => [b.id, b])),
            cpu: Object.fromEntries(REGIONS.map((n) => [n.id, mesh.nodeCpuSeconds(n.id)])),
            pipes: Object.fromEntries(await Promise.all(REGIONS.map(async (n) => [n.id, await mesh.pipeBytes(n.id)] as const))),
            relay: Object.fromEntries(Object.entries(relay).map(([k, c]) => [k, { bytes: c.bytes, packets: c.packets, dropped: c.dropped, lateMsSum: c.lateMsSum, lateMsMax: c.lateMsMax }])),
          };
        };
        const w0 = await snapshot();
        const points = await measure(ctx, sampler, 'cross-region', seconds);
        const w1 = await snapshot();
        const dt = (w1.at - w0.at) / 1000;
        const rate = (a: number | undefined, b: number | undefined): number => ((b ?? 0) - (a ?? 0)) / dt;

        // per node: what its bots received, their loss, the node's CPU, its pipes
        const perNodeFig = REGIONS.map((n) => {
          const ids = specs.filter((s) => s.node === n.id).map((s) => s.id);
          let rx = 0, expected = 0, lost = 0;
          for (const id of ids) {
            const a = w0.bots.get(id)?.rx, b = w1.bots.get(id)?.rx;
            rx += rate(a?.packets, b?.packets);
            expected += (b?.expected ?? 0) - (a?.expected ?? 0);
            lost += (b?.lost ?? 0) - (a?.lost ?? 0);
          }
          const relayOut = REGIONS.filter((m) => m.id !== n.id).reduce((s, m) => s + rate(w0.relay[linkKey(n.id, m.id)]?.bytes, w1.relay[linkKey(n.id, m.id)]?.bytes), 0);
          const relayIn = REGIONS.filter((m) => m.id !== n.id).reduce((s, m) => s + rate(w0.relay[linkKey(m.id, n.id)]?.bytes, w1.relay[linkKey(m.id, n.id)]?.bytes), 0);
          const p0 = w0.pipes[n.id], p1 = w1.pipes[n.id];
          return {
            node: n.id, region: n.region, rxPps: rx, lossPct: expected > 0 ? Math.max(0, (lost / expected) * 100) : 0,
            cpuCores: rate(w0.cpu[n.id], w1.cpu[n.id]),
            relayOutBytesPerS: relayOut, relayInBytesPerS: relayIn,
            nodePipeOutBytesPerS: p0 && p1 ? rate(p0.out, p1.out) : null, nodePipeInBytesPerS: p0 && p1 ? rate(p0.in, p1.in) : null,
          };
        });

        // pipes against the naive figure
        const publishers = specs.filter((s) => s.publish).map((s) => ({
          node: s.node, bytesPerS: rate(w0.bots.get(s.id)?.tx?.bytes, w1.bots.get(s.id)?.tx?.bytes),
        }));
        const subscribers = Object.fromEntries(REGIONS.map((n) => [n.id, specs.filter((s) => s.node === n.id && joins.find((j) => j.id === s.id)?.ok).length]));
        const { naive, oncePerNode } = naiveBytes(publishers, subscribers);
        const relayBytes = perNodeFig.reduce((s, n) => s + n.relayOutBytesPerS, 0);
        const nodeBytes = perNodeFig.every((n) => n.nodePipeOutBytesPerS !== null) ? perNodeFig.reduce((s, n) => s + n.nodePipeOutBytesPerS!, 0) : null;
        const links = Object.fromEntries(Object.keys(w1.relay).map((k) => [k, {
          bytesPerS: rate(w0.relay[k]?.bytes, w1.relay[k]?.bytes), packetsPerS: rate(w0.relay[k]?.packets, w1.relay[k]?.packets),
          dropped: (w1.relay[k]?.dropped ?? 0) - (w0.relay[k]?.dropped ?? 0),
          relayLateMsMean: ((w1.relay[k]?.lateMsSum ?? 0) - (w0.relay[k]?.lateMsSum ?? 0)) / Math.max(1, (w1.relay[k]?.packets ?? 0) - (w0.relay[k]?.packets ?? 0)),
          relayLateMsMaxOfRun: w1.relay[k]?.lateMsMax ?? 0,
        }]));
        const late = Object.values(links);
        const relayLateMean = late.reduce((a, l) => a + l.relayLateMsMean * l.packetsPerS, 0) / Math.max(1e-9, late.reduce((a, l) => a + l.packetsPerS, 0));

        // the relay hop's own cost, from the probes' audio arrivals (one clock: bot process 0)
        const arrivals: Record<string, Arrivals> = await fleet.arrivals(Object.values(probes));
        const byLink = new Map<string, number[]>();
        for (const p of specs.filter((x) => x.publish)) {
          const local = arrivals[probes[p.node]!]?.[p.id];
          if (!local) continue; // (the probe on the publisher's node is the publisher itself: it does not receive itself)
          for (const other of REGIONS.filter((n) => n.id !== p.node)) {
            const remote = arrivals[probes[other.id]!]?.[p.id];
            if (!remote) continue;
            const key = linkKey(p.node, other.id);
            byLink.set(key, [...(byLink.get(key) ?? []), ...hopCosts(local, remote, delay(p.node, other.id))]);
          }
        }
        const all = [...byLink.values()].flat();
        const hop = Object.fromEntries([...byLink].map(([k, xs]) => [k, { samples: xs.length, p50: percentile(xs, 50), p95: percentile(xs, 95) }]));
        // a publisher heard by its node's probe (the probe is the node's last participant: not itself)
        const measurable = specs.some((p) => p.publish && probes[p.node] !== p.id);
        if (measurable && all.length === 0) failures.push('relay hop latency: no audio packet was seen by both a local and a remote probe');
        const hopAll = { samples: all.length, p50: percentile(all, 50), p95: percentile(all, 95), min: all.length ? Math.min(...all) : NaN };

        const s = summarize(points);
        const ok = joins.filter((j) => j.ok).length;
        const ratio = relayBytes > 0 ? naive / relayBytes : NaN;
        const rows: (string | number | null)[][] = [
          ['mesh a+b+c', `${ok}/${specs.length}`, s.rxPps!, s.lossPct!, s.sfuCpuCores!, relayBytes / 1000, nodeBytes === null ? null : nodeBytes / 1000, naive / 1000, ratio, hopAll.p50, hopAll.p95],
          ...perNodeFig.map((n) => [`node ${n.node} (${n.region})`, `${subscribers[n.node]}/${perNode}`, n.rxPps, n.lossPct, n.cpuCores, n.relayOutBytesPerS / 1000,
            n.nodePipeOutBytesPerS === null ? null : n.nodePipeOutBytesPerS / 1000, null, null, null, null]),
        ];
        return {
          figures: {
            meshmeet: {
              nodes: REGIONS.length, perNode, publishersPerNode: pubs, joined: ok, delaysMs: table, summary: s, byNode: perNodeFig,
              pipes: {
                relayBytesPerS: relayBytes, nodesBytesPerS: nodeBytes, naiveBytesPerS: naive, oncePerNodeBytesPerS: oncePerNode,
                naiveOverPipe: ratio, pipeOverOncePerNode: oncePerNode > 0 ? relayBytes / oncePerNode : NaN, links,
              },
              relayHopMs: { all: hopAll, byLink: hop, relayOwnLatenessMsMean: relayLateMean },
              relay: mesh.relayStats(), server: mesh.sfu.describe(), points,
            },
          },
          series: [{ label: 'mesh a+b+c', points }],
          failures,
          table: {
            columns: ['nodes', 'joined', 'rx pkt/s', 'loss %', 'SFU cores', 'pipe kB/s (relay)', 'pipe kB/s (nodes)', 'naive kB/s', 'naive/pipe', 'hop p50 ms', 'hop p95 ms'],
            rows,
          },
          bars: [
            { title: 'Bytes between nodes: mesh pipes against one copy per remote subscriber', unit: 'kB/s', items: [
              { label: 'pipes (relay)', value: relayBytes / 1000 }, { label: 'naive', value: naive / 1000 },
            ] },
            { title: 'Relay hop\'s own latency (beyond the emulated delay)', unit: 'ms', items: [{ label: 'p50', value: hopAll.p50 }, { label: 'p95', value: hopAll.p95 }] },
          ],
          notes: [
            ...(measurable ? [] : ['relay hop latency not measured: every node\'s probe (its last participant) publishes itself; use --publishers-per-node below --per-node, or at least 2']),
            `one-way delays (ms): a-b ${table['a-b']}, a-c ${table['a-c']}, b-c ${table['b-c']}; relay dropped ${Object.values(links).reduce((a, l) => a + l.dropped, 0)} packets in the window; ` +
              `its own lateness against the due time: mean ${relayLateMean.toFixed(2)} ms (part of the hop figure)`,
            'pipe kB/s: bytes node to node per second (all directions; RTP with headers, SRTP tags, RTX and RTCP), counted by the relay and by the nodes\' pipe transports (edge_pipe_bytes out)',
            'naive kB/s: each publisher\'s sent RTP payload bytes (all simulcast layers + audio) once per subscriber on another node; naive/pipe is how much the mesh saves',
            'hop ms: for one audio packet, its arrival at a subscriber on a remote node minus at one on the publisher\'s node (same bot process), minus the one-way delay',
            'node rows: joined = participants on the node, SFU cores = the node\'s processes (Node.js and mediasoup workers), pipe kB/s = what the node sends to other nodes',
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
