/**
 * The bench side of the gossip scenario: a cluster of real `GossipMesh` nodes spread over node processes (several
 * nodes each), started in batches (each batch waits until every started node sees all the others, so that 100
 * nodes on 2 cores do not all handshake at once), plus single extra nodes in processes of their own that can be
 * SIGKILLed. Node processes report when their nodes see a watched node come up or go down.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { generateClusterKey } from '../../../edge-node/index.js';
import type { FromNodes, NodesStats, ToNodes } from './protocol.js';

const ENTRY = path.join(import.meta.dirname, 'node-process.ts');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Ev<E extends FromNodes['ev']> = Extract<FromNodes, { ev: E }>;
type Seen = Extract<FromNodes, { ev: 'up' | 'down' }>;

/** One node process. Answers come back in order per kind; `up`/`down` go to `onSeen`. */
export class NodeProcess {
  readonly child: ChildProcess;
  private readonly waiters: Array<{ ev: string; resolve: (m: FromNodes) => void; reject: (e: Error) => void }> = [];
  private exited = false;

  constructor(key: Uint8Array, onSeen: (m: Seen) => void, fastDuplicates = true) {
    this.child = fork(ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_CLUSTER_KEY: Buffer.from(key).toString('base64'), BENCH_FAST_DUPLICATES: fastDuplicates ? '1' : '0' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: FromNodes) => {
      if (m.ev === 'up' || m.ev === 'down') return onSeen(m);
      if (m.ev === 'error') {
        const w = this.waiters.shift();
        if (w) w.reject(new Error(m.message));
        else process.stderr.write(`gossip node process: ${m.message}\n`);
        return;
      }
      const i = this.waiters.findIndex((w) => w.ev === m.ev);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.waiters.splice(0)) w.reject(new Error(`gossip node process exited (${code ?? signal}) while waiting for ${w.ev}`));
    });
  }

  next<E extends FromNodes['ev']>(ev: E, timeoutMs = 120_000): Promise<Ev<E>> {
    if (this.exited) return Promise.reject(new Error('gossip node process has exited'));
    return new Promise((resolve, reject) => {
      const w = {
        ev,
        resolve: (m: FromNodes) => {
          clearTimeout(t);
          resolve(m as Ev<E>);
        },
        reject: (e: Error) => {
          clearTimeout(t);
          reject(e);
        },
      };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`gossip node process: no '${ev}' within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  send(msg: ToNodes): void {
    if (!this.exited) this.child.send(msg);
  }

  ask<E extends FromNodes['ev']>(msg: ToNodes, ev: E, timeoutMs?: number): Promise<Ev<E>> {
    const p = this.next(ev, timeoutMs);
    this.send(msg);
    return p;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    await this.ask({ cmd: 'stop' }, 'stopped', 15_000).catch(() => undefined);
    const t = setTimeout(() => this.kill(), 3_000);
    await gone;
    clearTimeout(t);
  }
}

export interface ClusterOptions {
  nodes: number;
  procs: number;
  /** Nodes started at once (spread over the processes); the next batch starts when every view is complete. */
  batch: number;
  /** Longest wait for one batch to converge before the next starts anyway. */
  batchLimitMs?: number;
  /** Gossipsub's duplicate check before the signature check (the product's default: on); off measures without. */
  fastDuplicates?: boolean;
  progress?: (line: string) => void;
}

/** Per watched node id, per kind (up/down), per observer: when it saw it (ms since the epoch, one machine). */
type SeenMap = Map<string, Map<string, number>>;

export class GossipCluster {
  readonly key = generateClusterKey();
  readonly procs: NodeProcess[] = [];
  readonly extra: NodeProcess[] = [];
  /** Each node's first multiaddr (what `--join` takes). */
  readonly addrs = new Map<string, string>();
  readonly failures: string[] = [];
  /** Time from the first start to the last batch started, and to every view complete (null: never within limits). */
  startMs = 0;
  convergedMs: number | null = null;
  batchesNotConverged = 0;
  private readonly seen = { up: new Map() as SeenMap, down: new Map() as SeenMap };

  private constructor(readonly options: ClusterOptions) {}

  get size(): number {
    return this.addrs.size;
  }

  private onSeen = (m: Seen): void => {
    const byNode = this.seen[m.ev];
    if (!byNode.has(m.nodeId)) byNode.set(m.nodeId, new Map());
    const obs = byNode.get(m.nodeId)!;
    if (!obs.has(m.observer)) obs.set(m.observer, m.at);
  };

  static async start(options: ClusterOptions): Promise<GossipCluster> {
    const c = new GossipCluster(options);
    try {
      await c.#start();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  async #start(): Promise<void> {
    const { nodes, procs, batch } = this.options;
    for (let p = 0; p < procs; p++) this.procs.push(new NodeProcess(this.key, this.onSeen, this.options.fastDuplicates));
    // Loading libp2p and tsx takes a while on a loaded machine.
    await Promise.all(this.procs.map((p) => p.next('ready', 180_000)));
    const ids = Array.from({ length: nodes }, (_, i) => `n${String(i).padStart(3, '0')}`);
    const t0 = Date.now();
    let next = 0;
    // The first node alone (it has no seed); then batches, each node joining through up to 3 random started nodes.
    const waves = [ids.slice(0, 1)];
    for (let i = 1; i < ids.length; i += batch) waves.push(ids.slice(i, i + batch));
    for (const [w, wave] of waves.entries()) {
      const byProc = this.procs.map(() => [] as string[]);
      for (const id of wave) byProc[next++ % procs]!.push(id);
      const answers = await Promise.all(byProc.map((pids, p) => {
        if (!pids.length) return null;
        return this.procs[p]!.ask({ cmd: 'start', ids: pids, seeds: pids.map(() => pick([...this.addrs.values()], 3)) }, 'started', 120_000);
      }));
      for (const a of answers) {
        if (!a) continue;
        for (const [id, addr] of Object.entries(a.addrs)) this.addrs.set(id, addr);
        for (const [id, err] of Object.entries(a.failed)) this.failures.push(`node ${id} did not start: ${err}`);
      }
      if (w > 0 && w < waves.length - 1) {
        const ok = await this.allSee(this.size - 1, this.options.batchLimitMs ?? 60_000, (seeing) =>
          this.options.progress?.(`starting: ${this.size}/${nodes} nodes up, ${seeing}`));
        if (!ok) this.batchesNotConverged++;
      }
    }
    this.startMs = Date.now() - t0;
    const ok = await this.allSee(this.size - 1, 120_000, (seeing) =>
      this.options.progress?.(`converging: ${seeing} (${Math.round((Date.now() - t0) / 1000)} s)`));
    this.convergedMs = ok ? Date.now() - t0 : null;
    if (!ok) this.failures.push(`not every view complete ${Math.round((Date.now() - t0) / 1000)} s after the first start`);
  }

  /** Every node's view size. */
  async views(): Promise<Map<string, number>> {
    const all = await Promise.all(this.procs.map((p) => p.ask({ cmd: 'views' }, 'views', 30_000)));
    return new Map(all.flatMap((v) => Object.entries(v.counts)));
  }

  /** Waits (bounded) until every node sees at least `want` others. */
  async allSee(want: number, limitMs: number, onPoll?: (seeing: string) => void): Promise<boolean> {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      const views = [...(await this.views())].sort((a, b) => a[1] - b[1]);
      const seeing = views.filter(([, c]) => c >= want).length;
      const [low, lowCount] = views[0] ?? ['-', 0];
      onPoll?.(`${seeing}/${this.size} views complete (smallest ${lowCount} at ${low}, median ${views[views.length >> 1]?.[1] ?? 0} of ${want})`);
      if (seeing === this.size) return true;
      await sleep(200);
    }
    return false;
  }

  /** Makes every node report when it sees `nodeId` come up or go down (acknowledged: IPC keeps order). */
  async watch(nodeId: string): Promise<void> {
    for (const p of this.procs) p.send({ cmd: 'watch', nodeId });
    await this.views();
  }

  /** Observers that saw `nodeId` come up (or go down), with the time each did. */
  seenBy(kind: 'up' | 'down', nodeId: string): Map<string, number> {
    return this.seen[kind].get(nodeId) ?? new Map();
  }

  /** Forgets what the observers saw of `nodeId` (e.g. downs while it was joining on a loaded machine). */
  forget(kind: 'up' | 'down', nodeId: string): void {
    this.seen[kind].delete(nodeId);
  }

  /** Waits (bounded) until every cluster node has seen `nodeId` come up (or go down). */
  async seenByAll(kind: 'up' | 'down', nodeId: string, limitMs: number): Promise<Map<string, number>> {
    const until = Date.now() + limitMs;
    while (Date.now() < until && this.seenBy(kind, nodeId).size < this.size) await sleep(25);
    return this.seenBy(kind, nodeId);
  }

  /** A ready node process of its own (for one extra node that can be SIGKILLed). */
  async spareProcess(): Promise<NodeProcess> {
    const p = new NodeProcess(this.key, this.onSeen, this.options.fastDuplicates);
    this.extra.push(p);
    await p.next('ready', 180_000);
    return p;
  }

  seeds(n = 3): string[] {
    return pick([...this.addrs.values()], n);
  }

  /** Counters of every node process since the last reset. */
  async stats(reset: boolean): Promise<NodesStats[]> {
    return Promise.all(this.procs.map((p) => p.ask({ cmd: 'stats', reset }, 'stats', 30_000)));
  }

  pids(): number[] {
    return this.procs.flatMap((p) => (p.child.pid ? [p.child.pid] : []));
  }

  async stop(): Promise<void> {
    for (const p of this.extra) p.kill();
    await Promise.all([...this.procs, ...this.extra].map((p) => p.stop()));
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
