/**
 * `gossip`: membership at scale with real `GossipMesh` nodes (libp2p over TCP on loopback, cluster key, signed
 * gossipsub), several per node process (bench/lib/gossip/). For each size of --nodes (e.g. `50,100`, one after
 * another in the same run), with one clock (one machine):
 *  - start: nodes in batches of --batch spread over --procs processes, each batch joining through 3 random started
 *    nodes and converging before the next; then the time until every view is complete;
 *  - new node, --rounds times: one more node in a process of its own, joining through 3 random members; time from
 *    its start until it is in every view (max over the observers; their median too), and until its own view is full;
 *  - dead node: SIGKILL of that process, time until every view has dropped it (DEAD_AFTER_MS after its last heartbeat);
 *  - steady state over --steady seconds: records delivered per node per second by topic (and their payload bytes),
 *    socket bytes per node per second (TCP, noise, yamux, gossipsub control and duplicates included), CPU per node
 *    (the node processes' CPU divided by their nodes), the processes' event loop delay.
 */
import { mesh } from '../../edge-node/index.js';
import { GossipCluster } from '../lib/gossip/cluster.js';
import type { NodesStats } from '../lib/gossip/protocol.js';
import { fmt, type Bars, type ScenarioResult } from '../lib/report.js';
import { intFlag, percentile, sleep, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { machineCpu } from '../lib/system.js';

const JOIN_LIMIT_MS = 60_000;
/** DEAD_AFTER_MS plus generous room for a loaded machine. */
const DEAD_LIMIT_MS = mesh.DEAD_AFTER_MS + 30_000;

interface Spread { p50: number; p95: number; max: number; n: number }
const spread = (xs: number[]): Spread | null =>
  xs.length ? { p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs), n: xs.length } : null;
const r2 = (x: number): number => Math.round(x * 100) / 100;
const perNodeSecond = (rec: Record<string, number>, nodes: number, secs: number) =>
  Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, r2(v / nodes / secs)]));

interface Round {
  nodeId: string;
  /** From the start of the new node until it was in every view (null: not within the limit). */
  inEveryViewMs: number | null;
  /** Median over the observers. */
  inViewP50Ms: number | null;
  seenBy: number;
  /** Until the new node's own view held every member. */
  ownViewCompleteMs: number | null;
  /** From SIGKILL until every view dropped it. */
  deadEverywhereMs: number | null;
  deadP50Ms: number | null;
  droppedBy: number;
  /** Observers that declared it dead while it was alive (a loaded machine delaying heartbeats past DEAD_AFTER_MS). */
  droppedBeforeKill: number;
}

async function newNodeRound(ctx: ScenarioContext, cluster: GossipCluster, r: number, label: string): Promise<Round> {
  const nodeId = `new${r}`;
  const n = cluster.size;
  await cluster.watch(nodeId);
  const proc = await cluster.spareProcess();
  const tj = Date.now();
  const started = await proc.ask({ cmd: 'start', ids: [nodeId], seeds: [cluster.seeds()] }, 'started', JOIN_LIMIT_MS);
  if (started.failed[nodeId]) throw new Error(`new node ${nodeId} did not start: ${started.failed[nodeId]}`);
  let ownViewCompleteMs: number | null = null;
  const until = tj + JOIN_LIMIT_MS;
  while (Date.now() < until) {
    if (ownViewCompleteMs === null && ((await proc.ask({ cmd: 'views' }, 'views', 10_000)).counts[nodeId] ?? 0) >= n) ownViewCompleteMs = Date.now() - tj;
    const seen = cluster.seenBy('up', nodeId).size;
    ctx.progress(`${label} round ${r + 1}: new node in ${seen}/${n} views, its own view ${ownViewCompleteMs === null ? 'incomplete' : 'complete'} (${((Date.now() - tj) / 1000).toFixed(1)} s)`);
    if (seen === n && ownViewCompleteMs !== null) break;
    await sleep(50);
  }
  const ups = [...cluster.seenBy('up', nodeId).values()].map((at) => at - tj);
  await sleep(1500); // in every view for a while, then killed
  const flapped = cluster.seenBy('down', nodeId).size;
  cluster.forget('down', nodeId);
  const tk = Date.now();
  proc.kill();
  const downs = [...(await cluster.seenByAll('down', nodeId, DEAD_LIMIT_MS)).values()].map((at) => at - tk);
  return {
    nodeId,
    inEveryViewMs: ups.length === n ? Math.max(...ups) : null,
    inViewP50Ms: ups.length ? percentile(ups, 50) : null,
    seenBy: ups.length,
    ownViewCompleteMs,
    deadEverywhereMs: downs.length === n ? Math.max(...downs) : null,
    deadP50Ms: downs.length ? percentile(downs, 50) : null,
    droppedBy: downs.length,
    droppedBeforeKill: flapped,
  };
}

async function steadyState(ctx: ScenarioContext, cluster: GossipCluster, seconds: number, label: string) {
  await cluster.stats(true);
  const m0 = machineCpu();
  const t0 = Date.now();
  let stats: NodesStats[] = [];
  while (Date.now() - t0 < seconds * 1000) {
    await sleep(Math.min(1000, seconds * 1000 - (Date.now() - t0)));
    stats = await cluster.stats(false);
    const secs = (Date.now() - t0) / 1000;
    const cpu = stats.reduce((a, s) => a + s.cpuMs, 0) / 1000 / secs;
    ctx.progress(`${label} steady ${Math.round(secs)}/${seconds} s: CPU per node ${fmt((cpu / cluster.size) * 100)}% of a core, all nodes ${fmt(cpu)} cores, ` +
      `event loop p99 ${fmt(Math.max(...stats.map((s) => s.eventLoopP99Ms)))} ms`);
  }
  const secs = (Date.now() - t0) / 1000;
  const m1 = machineCpu();
  const nodes = stats.reduce((a, s) => a + s.nodes, 0);
  const sum = (f: (s: NodesStats) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const s of stats) for (const [k, v] of Object.entries(f(s))) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  const all = sum((s) => s.receivedByTopic);
  const received = Object.fromEntries(Object.entries(all).filter(([k]) => !k.startsWith('(')));
  const perNode = (v: number | undefined) => (v === undefined ? null : r2(v / nodes / secs));
  const bytes = sum((s) => s.receivedBytesByTopic);
  const io = stats.every((s) => s.wroteBytes !== null);
  const cpuMs = stats.reduce((a, s) => a + s.cpuMs, 0);
  return {
    seconds: r2(secs),
    nodes,
    recordsPerNodePerS: r2(Object.values(received).reduce((a, b) => a + b, 0) / nodes / secs),
    recordsByTopicPerNodePerS: perNodeSecond(received, nodes, secs),
    payloadBytesByTopicPerNodePerS: perNodeSecond(bytes, nodes, secs),
    /** Every copy that reached a node (each record comes from several mesh peers), and the duplicates among them. */
    copiesPerNodePerS: perNode(all['(copies)']),
    duplicatesPerNodePerS: perNode(all['(duplicates)']),
    publishedPerNodePerS: r2(stats.reduce((a, s) => a + s.published, 0) / nodes / secs),
    droppedByReason: sum((s) => s.dropped),
    socketBytesOutPerNodePerS: io ? Math.round(stats.reduce((a, s) => a + s.wroteBytes!, 0) / nodes / secs) : null,
    socketBytesInPerNodePerS: io ? Math.round(stats.reduce((a, s) => a + s.readBytes!, 0) / nodes / secs) : null,
    connectionsPerNode: r2(stats.reduce((a, s) => a + s.connections, 0) / nodes),
    cpuPerNodePct: r2((cpuMs / nodes / (secs * 1000)) * 100),
    cpuAllNodesCores: r2(cpuMs / 1000 / secs),
    machineBusyCores: r2((m1.busy - m0.busy) / secs),
    eventLoopP99Ms: r2(Math.max(...stats.map((s) => s.eventLoopP99Ms))),
    rssMiBPerNode: r2(stats.reduce((a, s) => a + s.rssMiB, 0) / nodes),
  };
}

export const gossip: Scenario = {
  name: 'gossip',
  summary: '50-100 libp2p nodes: time for a new node to reach every view, to declare a dead one; messages, bytes and CPU per node',
  needs: 'mesh',
  flags: {
    nodes: { default: '50', help: 'cluster sizes, comma-separated (each one after another in the same run), 2..150' },
    procs: { default: '4', help: 'node processes (the nodes are spread over them)' },
    batch: { default: '10', help: 'nodes started at once; each batch converges before the next' },
    rounds: { default: '5', help: 'new node / SIGKILLed node rounds' },
    steady: { default: '20', help: 'seconds of steady state measured' },
    'fast-duplicates': { default: 'on', help: "gossipsub's duplicate check before the signature check: on (the product), off, or both (off then on, each size, same run)" },
  },
  async run(ctx): Promise<ScenarioResult> {
    const sizes = ctx.flags.nodes!.split(',').map((s) => Number(s.trim()));
    for (const s of sizes) if (!Number.isInteger(s) || s < 2 || s > 150) throw new Error(`--nodes must be whole numbers in 2..150, comma-separated (got '${ctx.flags.nodes}')`);
    const procs = intFlag(ctx, 'procs', 1, 16);
    const batch = intFlag(ctx, 'batch', 1, 150);
    const rounds = intFlag(ctx, 'rounds', 1, 20);
    const steadyS = intFlag(ctx, 'steady', 1, 300);
    const fd = ctx.flags['fast-duplicates'];
    if (fd !== 'on' && fd !== 'off' && fd !== 'both') throw new Error(`--fast-duplicates must be on, off or both (got '${fd}')`);
    const variants = fd === 'both' ? [false, true] : [fd === 'on'];
    const runs = sizes.flatMap((n) => variants.map((fast) => ({ n, fast })));
    const constants = { heartbeatIntervalMs: mesh.HEARTBEAT_INTERVAL_MS, deadAfterMs: mesh.DEAD_AFTER_MS, digestIntervalMs: mesh.DIGEST_INTERVAL_MS };
    const figures: Record<string, unknown> = { constants };
    const rows: (string | number | null)[][] = [];
    const failures: string[] = [];
    const bars: Bars[] = [
      { title: 'CPU per node (steady state)', unit: '% of a core', items: [] },
      { title: 'New node in every view, p95 over the rounds', unit: 'ms', items: [] },
      { title: 'SIGKILLed node dropped by every view, p95 over the rounds', unit: 'ms', items: [] },
    ];
    for (const { n, fast } of runs) {
      const label = `${n} nodes${variants.length > 1 ? `, fast duplicates ${fast ? 'on' : 'off'}` : ''}`;
      const key = variants.length > 1 ? `${n}-${fast ? 'fast-duplicates' : 'no-fast-duplicates'}` : String(n);
      ctx.log(`gossip: ${label} in ${Math.min(procs, n)} process(es), batches of ${batch}...`);
      let cluster: GossipCluster | null = null;
      try {
        cluster = await GossipCluster.start({ nodes: n, procs: Math.min(procs, n), batch, fastDuplicates: fast, progress: (l) => ctx.progress(`${label}: ${l}`) });
        failures.push(...cluster.failures.map((f) => `${label}: ${f}`));
        ctx.log(`${label}: started in ${cluster.startMs} ms; every view complete after ${cluster.convergedMs ?? '-'} ms`);
        const done: Round[] = [];
        for (let r = 0; r < rounds; r++) {
          const round = await newNodeRound(ctx, cluster, r, label);
          done.push(round);
          if (round.inEveryViewMs === null) failures.push(`${label} round ${r + 1}: the new node reached ${round.seenBy}/${n} views within ${JOIN_LIMIT_MS / 1000} s`);
          if (round.deadEverywhereMs === null) failures.push(`${label} round ${r + 1}: the SIGKILLed node was dropped by ${round.droppedBy}/${n} views within ${DEAD_LIMIT_MS / 1000} s`);
          ctx.log(`${label} round ${r + 1}: new node in every view after ${round.inEveryViewMs ?? '-'} ms (median view ${round.inViewP50Ms ?? '-'} ms, own view ${round.ownViewCompleteMs ?? '-'} ms); ` +
            `killed node dropped everywhere after ${round.deadEverywhereMs ?? '-'} ms (median ${round.deadP50Ms ?? '-'} ms)`);
        }
        const newNode = spread(done.flatMap((d) => (d.inEveryViewMs === null ? [] : [d.inEveryViewMs])));
        const deadNode = spread(done.flatMap((d) => (d.deadEverywhereMs === null ? [] : [d.deadEverywhereMs])));
        const ownView = spread(done.flatMap((d) => (d.ownViewCompleteMs === null ? [] : [d.ownViewCompleteMs])));
        const steady = await steadyState(ctx, cluster, steadyS, label);
        figures[key] = {
          nodes: n, procs: Math.min(procs, n), batch, fastDuplicates: fast,
          start: { startMs: cluster.startMs, everyViewCompleteMs: cluster.convergedMs, batchesNotConverged: cluster.batchesNotConverged },
          newNodeInEveryViewMs: newNode, newNodeOwnViewCompleteMs: ownView, deadNodeDroppedEverywhereMs: deadNode, rounds: done, steady,
        };
        const pmm = (s: Spread | null) => (s ? `${fmt(s.p50)} / ${fmt(s.p95)} / ${fmt(s.max)}` : '-');
        rows.push([n, Math.min(procs, n), fast ? 'on' : 'off', cluster.convergedMs === null ? null : cluster.convergedMs / 1000, pmm(newNode), pmm(deadNode),
          steady.recordsPerNodePerS, steady.copiesPerNodePerS, steady.socketBytesOutPerNodePerS === null ? null : steady.socketBytesOutPerNodePerS / 1024,
          steady.cpuPerNodePct, steady.machineBusyCores, steady.eventLoopP99Ms]);
        bars[0]!.items.push({ label, value: steady.cpuPerNodePct });
        if (newNode) bars[1]!.items.push({ label, value: newNode.p95 });
        if (deadNode) bars[2]!.items.push({ label, value: deadNode.p95 });
      } catch (err) {
        failures.push(`${label}: ${(err as Error).message}`);
      } finally {
        await cluster?.stop();
      }
    }
    return {
      figures, failures, series: [], bars: bars.filter((b) => b.items.length),
      table: {
        columns: ['nodes', 'procs', 'fast dup.', 'all views s', 'new node in every view ms p50/p95/max', 'dead everywhere ms p50/p95/max',
          'records/node/s', 'copies/node/s', 'socket KiB/node/s out', 'CPU %/node', 'machine busy cores', 'event loop p99 ms'],
        rows,
      },
      notes: [
        `heartbeat every ${mesh.HEARTBEAT_INTERVAL_MS} ms, dead after ${mesh.DEAD_AFTER_MS} ms of silence, directory digest every ${mesh.DIGEST_INTERVAL_MS} ms`,
        'CPU per node: the node processes\' CPU time over the steady state divided by their nodes (libp2p, noise, gossipsub, signing and checking); machine busy cores: the whole machine, other engineers\' load included',
        'records: distinct records delivered; copies: every copy of a gossip message that reached a node (a record comes once from each mesh peer that forwards it; all but the first are duplicates)',
        'socket bytes: what the node processes wrote to their sockets (/proc/<pid>/io wchar: TCP with noise and yamux framing, gossipsub duplicates and control, and the small IPC to the bench)',
        'timings are from the new node\'s start (or its SIGKILL) to each observer\'s nodeUp (or nodeDown) event, one clock; p50/p95/max over the rounds of the slowest observer',
        'fast dup.: gossipsub recognises a duplicate by author and sequence number before it checks the signature (edge-node/src/mesh/libp2p-node.ts fastMsgId); off: every copy is verified and decoded first (gossipsub\'s default)',
        '--sfu and --processes do not apply',
      ],
    };
  },
};
