/**
 * The bench side of the bots: several bot processes (many bots each), joins spread over them, and a sampler that
 * turns their counters and the SFU's CPU (from /proc, and mediasoup's own account where there is one) into a
 * time series of one point a second.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { BrowserParticipants, BrowserPoint } from './browser-participants.js';
import type { BotStats, FromBot, JoinSteps, ToBot } from './protocol.js';
import type { Arrivals } from './rtc/receiver.js';
import type { ConnectInfo, SfuServer } from './sfu/types.js';
import { cpuSeconds, machineCpu } from './system.js';
import { udpSocketDrops } from './udp-drops.js';

const BOT_ENTRY = path.join(import.meta.dirname, 'bot-process.ts');

export interface JoinResult {
  id: string;
  ok: boolean;
  error?: string;
  joinMs: number;
  signalledMs: number | null;
  /** The adapter's breakdown of joinMs, when it gives one. */
  steps?: JoinSteps;
}

class BotProcess {
  readonly child: ChildProcess;
  bots = 0;
  private readonly waiting = new Map<string, (m: FromBot) => void>();
  private exited = false;
  constructor() {
    // BENCH_BOT_NODE_FLAGS: extra Node flags for bot processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
    const flags = (process.env.BENCH_BOT_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
    this.child = fork(BOT_ENTRY, [], { execArgv: [...flags, '--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: FromBot) => {
      const key = m.type === 'joined' || m.type === 'left' ? `${m.type}:${m.id}` : m.type === 'stats' || m.type === 'arrivals' ? `${m.type}:${m.seq}` : m.type;
      const w = this.waiting.get(key);
      if (w) {
        this.waiting.delete(key);
        w(m);
      } else if (m.type === 'error') {
        process.stderr.write(`bot process: ${m.message}\n`);
      }
    });
    this.child.once('exit', (code) => {
      this.exited = true;
      for (const [key, w] of this.waiting) w({ type: 'error', message: `bot process exited (${code}) while waiting for ${key}` });
      this.waiting.clear();
    });
  }
  request<T extends FromBot>(msg: ToBot, key: string, timeoutMs = 60_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error('bot process has exited'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`bot process: no answer to ${key} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(key, (m) => {
        clearTimeout(t);
        if (m.type === 'error') reject(new Error(m.message));
        else resolve(m as T);
      });
      this.child.send(msg);
    });
  }
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    try {
      this.child.send({ type: 'stop' } satisfies ToBot);
    } catch { /* already gone */ }
    const t = setTimeout(() => this.child.kill('SIGKILL'), 8000);
    await gone;
    clearTimeout(t);
  }
}

export interface FleetSample {
  bots: BotStats[];
  botCpuSeconds: number;
  eventLoopP99Ms: number;
  rssMiB: number;
  /** Datagrams the kernel dropped on the bots' own UDP sockets (receive buffers full), summed over the processes. */
  udpDrops: number;
  /** The fullest receive queue of any bot socket at the sample, bytes. */
  udpMaxRxQueue: number;
}

export class Fleet {
  private seq = 0;
  private readonly where = new Map<string, BotProcess>();
  private constructor(private readonly procs: BotProcess[]) {}

  static async start(connect: ConnectInfo, processes: number): Promise<Fleet> {
    const procs = Array.from({ length: processes }, () => new BotProcess());
    const fleet = new Fleet(procs);
    try {
      await Promise.all(procs.map((p) => p.request({ type: 'init', connect }, 'ready', 120_000)));
    } catch (err) {
      await fleet.stop();
      throw err;
    }
    return fleet;
  }

  get processes(): number {
    return this.procs.length;
  }

  /**
   * Joins one bot on the least loaded process (or process `where.process`), on the mesh node `where.node` if given.
   * A failure is a result, never thrown.
   */
  async join(id: string, room: string, publish: boolean, subscribe = true, where: { node?: string; process?: number } = {}): Promise<JoinResult> {
    const p = where.process !== undefined ? this.procs[where.process % this.procs.length]! : this.procs.reduce((a, b) => (b.bots < a.bots ? b : a));
    p.bots++;
    this.where.set(id, p);
    try {
      const m = await p.request<Extract<FromBot, { type: 'joined' }>>({ type: 'join', id, room, publish, subscribe, ...(where.node ? { node: where.node } : {}) }, `joined:${id}`, 90_000);
      return { id, ok: m.ok, error: m.error, joinMs: m.joinMs, signalledMs: m.signalledMs, ...(m.steps ? { steps: m.steps } : {}) };
    } catch (err) {
      return { id, ok: false, error: (err as Error).message, joinMs: NaN, signalledMs: null };
    }
  }

  async leave(id: string): Promise<void> {
    const p = this.where.get(id);
    if (!p) return;
    this.where.delete(id);
    p.bots--;
    await p.request({ type: 'leave', id }, `left:${id}`).catch(() => undefined);
  }

  async sample(): Promise<FleetSample> {
    const seq = ++this.seq;
    const all = await Promise.all(this.procs.map((p) => p.request<Extract<FromBot, { type: 'stats' }>>({ type: 'stats', seq }, `stats:${seq}`, 20_000).catch(() => null)));
    const ok = all.filter((x) => x !== null);
    return {
      bots: ok.flatMap((s) => s.bots),
      botCpuSeconds: ok.reduce((a, s) => a + s.cpuSeconds, 0),
      eventLoopP99Ms: Math.max(0, ...ok.map((s) => s.eventLoopP99Ms)),
      rssMiB: ok.reduce((a, s) => a + s.rssMiB, 0),
      udpDrops: ok.reduce((a, s) => a + s.udpDrops, 0),
      udpMaxRxQueue: Math.max(0, ...ok.map((s) => s.udpMaxRxQueue)),
    };
  }

  /** What the bots `ids` logged of labelled streams' arrivals (see MediaReceiver.arrivals), from every process. */
  async arrivals(ids: string[]): Promise<Record<string, Arrivals>> {
    const seq = ++this.seq;
    const all = await Promise.all(this.procs.map((p) => p.request<Extract<FromBot, { type: 'arrivals' }>>({ type: 'arrivals', seq, ids }, `arrivals:${seq}`, 20_000).catch(() => null)));
    return Object.assign({}, ...all.map((a) => a?.bots ?? {}));
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

/** One point of the time series. Rates are over the last interval; CPU in cores (1.0 = one core busy). */
export interface Point {
  t: number;
  bots: number;
  connected: number;
  rxPps: number;
  rxMbps: number;
  txPps: number;
  lossPct: number;
  nacksPerS: number;
  plisPerS: number;
  freezes: number;
  jitterMs: number;
  sfuCpuCores: number;
  sfuMediaCpuCores: number | null;
  botCpuCores: number;
  machineCpuCores: number;
  eventLoopP99Ms: number;
  /** What the real Chromium participants decoded in the interval (runs with --browsers). */
  browser?: BrowserPoint;
  /** Datagrams dropped by the kernel on the bots' sockets per second (receive buffer overflow). */
  udpDropsPerS: number;
  udpMaxRxQueueKiB: number;
  /** Datagrams dropped by the kernel on the SFU's own UDP sockets per second, and its fullest receive queue. */
  sfuUdpDropsPerS: number;
  sfuUdpMaxRxQueueKiB: number;
  /** Lost packets per second by kind, and packets per second that arrived after the receiver gave up on them. */
  lostAudioPerS: number;
  lostVideoPerS: number;
  latePerS: number;
  /** Padding-only packets (bandwidth probes) per second, included in rxPps. */
  paddingPerS: number;
  /** Publishers' audio packets the SFU reports lost on the way in (its receiver reports), per second. */
  audioLostAtSfuPerS: number;
}

interface Totals { rx: number; bytes: number; tx: number; expected: number; lost: number; lostAudio: number; lostVideo: number; late: number; padding: number; audioLostAtSfu: number; nacks: number; plis: number; freezes: number; jitter: number; connected: number; bots: number }

function sum(bots: BotStats[]): Totals {
  const t: Totals = { rx: 0, bytes: 0, tx: 0, expected: 0, lost: 0, lostAudio: 0, lostVideo: 0, late: 0, padding: 0, audioLostAtSfu: 0, nacks: 0, plis: 0, freezes: 0, jitter: 0, connected: 0, bots: bots.length };
  let jn = 0;
  for (const b of bots) {
    if (b.connected) t.connected++;
    if (b.rx) {
      t.rx += b.rx.packets;
      t.bytes += b.rx.bytes;
      t.expected += b.rx.expected;
      t.lost += b.rx.lost;
      t.lostAudio += b.rx.lostAudio;
      t.lostVideo += b.rx.lostVideo;
      t.late += b.rx.late;
      t.padding += b.rx.padding;
      t.nacks += b.rx.nacksSent;
      t.plis += b.rx.plisSent;
      t.freezes += b.rx.freezes;
      if (b.rx.streams) {
        t.jitter += b.rx.jitterMs;
        jn++;
      }
    }
    if (b.tx) {
      t.tx += b.tx.packets;
      t.audioLostAtSfu += b.tx.audioLostAtSfu;
    }
  }
  t.jitter = jn ? t.jitter / jn : 0;
  return t;
}

/** Samples the fleet and the SFU once a second (call `point()` at each step); keeps every point. */
export class Sampler {
  readonly points: Point[] = [];
  private last: { at: number; tot: Totals; sfu: number; media: number | null; bot: number; machine: number; drops: number; sfuDrops: number } | null = null;
  private readonly t0 = performance.now();
  /** CPU seconds of SFU processes seen so far, kept per pid so a process that exits still counts. */
  private readonly sfuSeen = new Map<number, number>();
  lastBots: BotStats[] = [];
  /** Chromium participants sampled with the bots (--browsers), if any. */
  browsers: BrowserParticipants | null = null;

  constructor(private readonly fleet: Fleet, private readonly sfu: SfuServer) {}

  /** Joins the run's browser participants (if any) to `room`: call after the bots joined. */
  async joinBrowsers(room: string): Promise<void> {
    await this.browsers?.join(room);
  }

  /** Drops on the SFU's UDP sockets, kept per pid like its CPU. */
  private readonly sfuDropsSeen = new Map<number, number>();
  private sfuUdp(): { drops: number; maxRxQueue: number } {
    let maxRxQueue = 0;
    for (const pid of this.sfu.pids()) {
      const u = udpSocketDrops(pid);
      this.sfuDropsSeen.set(pid, Math.max(this.sfuDropsSeen.get(pid) ?? 0, u.drops));
      maxRxQueue = Math.max(maxRxQueue, u.maxRxQueue);
    }
    let drops = 0;
    for (const v of this.sfuDropsSeen.values()) drops += v;
    return { drops, maxRxQueue };
  }

  private sfuCpu(): number {
    for (const pid of this.sfu.pids()) this.sfuSeen.set(pid, Math.max(this.sfuSeen.get(pid) ?? 0, cpuSeconds(pid)));
    let s = 0;
    for (const v of this.sfuSeen.values()) s += v;
    return s;
  }

  async point(): Promise<Point | null> {
    const [s, browser] = await Promise.all([this.fleet.sample(), this.browsers?.point() ?? null]);
    this.lastBots = s.bots;
    const at = performance.now();
    const tot = sum(s.bots);
    const sfu = this.sfuCpu();
    const media = await this.sfu.mediaCpuSeconds();
    const machine = machineCpu().busy;
    const sfuUdp = this.sfuUdp();
    const prev = this.last;
    this.last = { at, tot, sfu, media, bot: s.botCpuSeconds, machine, drops: s.udpDrops, sfuDrops: sfuUdp.drops };
    if (!prev) return null;
    const dt = (at - prev.at) / 1000;
    const dExp = tot.expected - prev.tot.expected;
    const p: Point = {
      t: Math.round((at - this.t0) / 100) / 10,
      bots: tot.bots,
      connected: tot.connected,
      rxPps: (tot.rx - prev.tot.rx) / dt,
      rxMbps: ((tot.bytes - prev.tot.bytes) * 8) / dt / 1e6,
      txPps: (tot.tx - prev.tot.tx) / dt,
      lossPct: dExp > 0 ? Math.max(0, ((tot.lost - prev.tot.lost) / dExp) * 100) : 0,
      nacksPerS: (tot.nacks - prev.tot.nacks) / dt,
      plisPerS: (tot.plis - prev.tot.plis) / dt,
      freezes: tot.freezes,
      jitterMs: tot.jitter,
      sfuCpuCores: (sfu - prev.sfu) / dt,
      sfuMediaCpuCores: media !== null && prev.media !== null ? (media - prev.media) / dt : null,
      botCpuCores: (s.botCpuSeconds - prev.bot) / dt,
      machineCpuCores: (machine - prev.machine) / dt,
      eventLoopP99Ms: s.eventLoopP99Ms,
      ...(browser ? { browser } : {}),
      udpDropsPerS: Math.max(0, s.udpDrops - prev.drops) / dt,
      udpMaxRxQueueKiB: s.udpMaxRxQueue / 1024,
      sfuUdpDropsPerS: Math.max(0, sfuUdp.drops - prev.sfuDrops) / dt,
      sfuUdpMaxRxQueueKiB: sfuUdp.maxRxQueue / 1024,
      lostAudioPerS: (tot.lostAudio - prev.tot.lostAudio) / dt,
      lostVideoPerS: (tot.lostVideo - prev.tot.lostVideo) / dt,
      latePerS: (tot.late - prev.tot.late) / dt,
      paddingPerS: (tot.padding - prev.tot.padding) / dt,
      audioLostAtSfuPerS: Math.max(0, tot.audioLostAtSfu - prev.tot.audioLostAtSfu) / dt,
    };
    this.points.push(p);
    return p;
  }
}
