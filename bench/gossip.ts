/**
 * Gossip membership at scale: real GossipMesh nodes (libp2p over TCP on loopback, cluster key, signed gossipsub),
 * several per process, in worker processes.
 *
 *   npx tsx bench/gossip.ts [--nodes 3] [--procs 1] [--rounds 3] [--steady 10]
 *   npx tsx bench/gossip.ts --nodes 100 --procs 4
 *
 * Measures, with one clock (one machine):
 *  - convergence: from the first start until every node sees all the others;
 *  - new node: from the start of one more node (its own process, joining through 3 random members) until it is in
 *    every view (max over observers; p50 too), `--rounds` times;
 *  - dead node: from SIGKILL of that node's process until every view has dropped it (DEAD_AFTER_MS is the floor);
 *  - steady state over `--steady` seconds: gossip records delivered and published per node per second, CPU per node
 *    (process CPU time of the worker processes divided by their nodes).
 * Writes bench/results/gossip-<nodes>.json. Loops are bounded in time; every process is stopped at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEAD_AFTER_MS, HEARTBEAT_INTERVAL_MS } from '../edge-node/protocol/mesh.js';
import { GossipMesh, generateClusterKey } from '../edge-node/index.js';
import { describeNode } from '../tests/helpers/mesh.js';

const HERE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(HERE), '..');

type ToWorker =
  | { cmd: 'start'; ids: string[]; seeds: string[][] }
  | { cmd: 'watch'; nodeId: string }
  | { cmd: 'views' }
  | { cmd: 'stats'; reset: boolean }
  | { cmd: 'stop' };
type FromWorker =
  | { ev: 'started'; addrs: Record<string, string> }
  | { ev: 'up' | 'down'; observer: string; nodeId: string; at: number }
  | { ev: 'views'; counts: Record<string, number> }
  | { ev: 'stats'; nodes: number; cpuMs: number; received: number; published: number; byTopic: Record<string, number> }
  | { ev: 'stopped' };

// ---------------------------------------------------------------- worker: K nodes in this process
async function worker(): Promise<void> {
  const key = Buffer.from(process.env.BENCH_CLUSTER_KEY!, 'base64');
  const meshes: GossipMesh[] = [];
  const watched = new Set<string>();
  let cpuAt = process.cpuUsage();
  const base = new Map<GossipMesh, { received: number; published: number; byTopic: Record<string, number> }>();
  const send = (m: FromWorker) => process.send!(m);
  const totals = (m: GossipMesh) => {
    const s = m.stats();
    return { received: Object.values(s.received).reduce((a, b) => a + b, 0), published: s.published, byTopic: s.received };
  };
  process.on('message', (msg: ToWorker) => {
    void (async () => {
      switch (msg.cmd) {
        case 'start': {
          const addrs: Record<string, string> = {};
          await Promise.all(msg.ids.map(async (nodeId, i) => {
            const m = await GossipMesh.start({ clusterKey: key, nodeId, describe: () => describeNode(nodeId), join: msg.seeds[i] ?? [] });
            for (const ev of ['nodeUp', 'nodeDown'] as const) {
              m.on(ev, (arg: unknown) => {
                const id = typeof arg === 'string' ? arg : (arg as { nodeId: string }).nodeId;
                if (watched.has(id)) send({ ev: ev === 'nodeUp' ? 'up' : 'down', observer: nodeId, nodeId: id, at: Date.now() });
              });
            }
            meshes.push(m);
            addrs[nodeId] = m.multiaddrs()[0]!;
          }));
          return send({ ev: 'started', addrs });
        }
        case 'watch':
          watched.add(msg.nodeId);
          return;
        case 'views':
          return send({ ev: 'views', counts: Object.fromEntries(meshes.map((m) => [m.nodeId, m.peers().length])) });
        case 'stats': {
          const cpu = process.cpuUsage(cpuAt);
          let received = 0, published = 0;
          const byTopic: Record<string, number> = {};
          for (const m of meshes) {
            const now = totals(m);
            const was = base.get(m) ?? { received: 0, published: 0, byTopic: {} };
            received += now.received - was.received;
            published += now.published - was.published;
            for (const [k, v] of Object.entries(now.byTopic)) byTopic[k] = (byTopic[k] ?? 0) + v - (was.byTopic[k] ?? 0);
            if (msg.reset) base.set(m, now);
          }
          if (msg.reset) cpuAt = process.cpuUsage();
          return send({ ev: 'stats', nodes: meshes.length, cpuMs: (cpu.user + cpu.system) / 1000, received, published, byTopic });
        }
        case 'stop':
          await Promise.all(meshes.map((m) => m.stop()));
          send({ ev: 'stopped' });
          process.exit(0);
      }
    })();
  });
  send({ ev: 'stopped' }); // "ready"
}

// ---------------------------------------------------------------- orchestrator
class Worker {
  readonly child: ChildProcess;
  private waiters: Array<{ ev: string; resolve: (m: FromWorker) => void }> = [];
  constructor(key: Uint8Array, readonly onEvent: (m: FromWorker) => void) {
    this.child = fork(HERE, [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_GOSSIP_WORKER: '1', BENCH_CLUSTER_KEY: Buffer.from(key).toString('base64') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: FromWorker) => {
      const i = this.waiters.findIndex((w) => w.ev === m.ev);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
      else this.onEvent(m);
    });
  }
  next<E extends FromWorker['ev']>(ev: E, timeoutMs = 120_000): Promise<Extract<FromWorker, { ev: E }>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`worker: no ${ev} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ ev, resolve: (m) => { clearTimeout(t); resolve(m as Extract<FromWorker, { ev: E }>); } });
    });
  }
  async ask<E extends FromWorker['ev']>(msg: ToWorker, ev: E, timeoutMs?: number) {
    const p = this.next(ev, timeoutMs);
    this.child.send(msg);
    return p;
  }
}

function pick<T>(items: T[], n: number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, n);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function orchestrate(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '3' },
      procs: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '3' },
      steady: { type: 'string', default: '10' },
      out: { type: 'string' },
    },
  });
  const n = Math.max(2, Math.min(150, Number(values.nodes)));
  const procs = Math.max(1, Math.min(8, Number(values.procs)));
  const rounds = Math.max(1, Math.min(10, Number(values.rounds)));
  const steadyS = Math.max(3, Math.min(60, Number(values.steady)));
  const key = generateClusterKey();
  const events: Array<Extract<FromWorker, { ev: 'up' | 'down' }>> = [];
  const onEvent = (m: FromWorker) => {
    if (m.ev === 'up' || m.ev === 'down') events.push(m);
  };
  const workers: Worker[] = [];
  const extra: Worker[] = [];
  const result: Record<string, unknown> = { nodes: n, procs, heartbeatMs: HEARTBEAT_INTERVAL_MS, deadAfterMs: DEAD_AFTER_MS };
  try {
    for (let p = 0; p < procs; p++) workers.push(new Worker(key, onEvent));
    await Promise.all(workers.map((w) => w.next('stopped', 60_000)));
    // Start: node 0 first; then the rest in waves, each joining through up to 3 random started nodes.
    const addrs: string[] = [];
    const ids = Array.from({ length: n }, (_, i) => `n${String(i).padStart(3, '0')}`);
    const t0 = Date.now();
    const first = await workers[0]!.ask({ cmd: 'start', ids: [ids[0]!], seeds: [[]] }, 'started');
    addrs.push(...Object.values(first.addrs));
    const rest = ids.slice(1);
    const waveSize = Math.max(procs, 10);
    for (let i = 0; i < rest.length; i += waveSize) {
      const wave = rest.slice(i, i + waveSize);
      const byWorker = workers.map((_, w) => wave.filter((_, j) => j % procs === w));
      const answers = await Promise.all(byWorker.map((wids, w) =>
        wids.length ? workers[w]!.ask({ cmd: 'start', ids: wids, seeds: wids.map(() => pick(addrs, 3)) }, 'started') : null));
      for (const a of answers) if (a) addrs.push(...Object.values(a.addrs));
    }
    const started = Date.now();
    const allSee = async (want: number, limitMs: number) => {
      const until = Date.now() + limitMs;
      while (Date.now() < until) {
        const views = await Promise.all(workers.map((w) => w.ask({ cmd: 'views' }, 'views')));
        const counts = views.flatMap((v) => Object.values(v.counts));
        if (counts.length === n && counts.every((c) => c >= want)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    const converged = await allSee(n - 1, 120_000);
    result.convergence = { startMs: started - t0, allViewsCompleteMs: converged ? Date.now() - t0 : null };
    console.log(`${n} nodes in ${procs} process(es): started in ${started - t0} ms; every view complete after ${converged ? `${Date.now() - t0} ms` : 'NOT within 120 s'}`);

    // New node (own process, so that it can be SIGKILLed), `rounds` times.
    const joinTimes: number[] = [];
    const joinP50: number[] = [];
    const deadTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const id = `new${r}`;
      for (const w of workers) w.child.send({ cmd: 'watch', nodeId: id } satisfies ToWorker);
      const w = new Worker(key, onEvent);
      extra.push(w);
      await w.next('stopped', 60_000);
      events.length = 0;
      await new Promise((res) => setTimeout(res, 200)); // the watch messages are in
      const tj = Date.now();
      await w.ask({ cmd: 'start', ids: [id], seeds: [pick(addrs, 3)] }, 'started');
      const until = Date.now() + 60_000;
      while (Date.now() < until && new Set(events.filter((e) => e.ev === 'up' && e.nodeId === id).map((e) => e.observer)).size < n) {
        await new Promise((res) => setTimeout(res, 50));
      }
      const ups = events.filter((e) => e.ev === 'up' && e.nodeId === id);
      const firstUp = new Map<string, number>();
      for (const e of ups) if (!firstUp.has(e.observer)) firstUp.set(e.observer, e.at - tj);
      const lat = [...firstUp.values()];
      if (firstUp.size === n) {
        joinTimes.push(Math.max(...lat));
        joinP50.push(pct(lat, 50));
      }
      console.log(`round ${r + 1}: new node in ${firstUp.size}/${n} views; p50 ${lat.length ? pct(lat, 50) : '-'} ms, all ${firstUp.size === n ? Math.max(...lat) : '-'} ms`);
      await new Promise((res) => setTimeout(res, 1500));
      // Kill it: time until every view drops it.
      events.length = 0;
      const tk = Date.now();
      w.child.kill('SIGKILL');
      const untilDead = Date.now() + 30_000;
      while (Date.now() < untilDead && new Set(events.filter((e) => e.ev === 'down' && e.nodeId === id).map((e) => e.observer)).size < n) {
        await new Promise((res) => setTimeout(res, 50));
      }
      const downs = new Map<string, number>();
      for (const e of events) if (e.ev === 'down' && e.nodeId === id && !downs.has(e.observer)) downs.set(e.observer, e.at - tk);
      if (downs.size === n) deadTimes.push(Math.max(...downs.values()));
      console.log(`round ${r + 1}: SIGKILLed node declared dead by ${downs.size}/${n}; p50 ${downs.size ? pct([...downs.values()], 50) : '-'} ms, all ${downs.size === n ? Math.max(...downs.values()) : '-'} ms`);
    }
    result.newNode = { rounds, allViewsMs: joinTimes, p50ViewsMs: joinP50 };
    result.deadNode = { rounds, allViewsMs: deadTimes };

    // Steady state.
    await Promise.all(workers.map((w) => w.ask({ cmd: 'stats', reset: true }, 'stats')));
    const ts = Date.now();
    await new Promise((res) => setTimeout(res, steadyS * 1000));
    const stats = await Promise.all(workers.map((w) => w.ask({ cmd: 'stats', reset: false }, 'stats')));
    const secs = (Date.now() - ts) / 1000;
    const nodes = stats.reduce((a, s) => a + s.nodes, 0);
    const byTopic: Record<string, number> = {};
    for (const s of stats) for (const [k, v] of Object.entries(s.byTopic)) byTopic[k] = (byTopic[k] ?? 0) + v;
    const steady = {
      seconds: Math.round(secs * 10) / 10,
      receivedPerNodePerS: round(stats.reduce((a, s) => a + s.received, 0) / nodes / secs),
      receivedByTopicPerNodePerS: Object.fromEntries(Object.entries(byTopic).map(([k, v]) => [k, round(v / nodes / secs)])),
      publishedPerNodePerS: round(stats.reduce((a, s) => a + s.published, 0) / nodes / secs),
      cpuPerNodePct: round((stats.reduce((a, s) => a + s.cpuMs, 0) / nodes / (secs * 1000)) * 100),
      cpuAllNodesPct: round((stats.reduce((a, s) => a + s.cpuMs, 0) / (secs * 1000)) * 100),
    };
    result.steady = steady;
    console.log(`steady ${steady.seconds} s: per node ${steady.receivedPerNodePerS} records delivered/s (${JSON.stringify(steady.receivedByTopicPerNodePerS)}), ${steady.publishedPerNodePerS} published/s, CPU ${steady.cpuPerNodePct}% of a core (all ${n} nodes: ${steady.cpuAllNodesPct}%)`);
    const out = (values.out as string | undefined) ?? path.join(ROOT, `bench/results/gossip-${n}.json`);
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`new node in every view (max over ${n} observers): ${joinTimes.join(', ')} ms; killed node dead everywhere: ${deadTimes.join(', ')} ms`);
    console.log(`written to ${path.relative(ROOT, out)}`);
  } finally {
    await Promise.all(workers.map((w) => w.ask({ cmd: 'stop' }, 'stopped', 20_000).catch(() => undefined)));
    for (const w of [...workers, ...extra]) w.child.kill('SIGKILL');
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.env.BENCH_GOSSIP_WORKER) await worker();
else await orchestrate();
