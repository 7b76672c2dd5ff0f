/**
 * A user-space WAN between edge nodes on one machine (tc netem is not available here): a UDP relay that holds every
 * datagram between two nodes for the pair's one-way delay.
 *
 * Each node listens for pipes on its own loopback address (`realIp`, e.g. 127.0.0.11) and announces a relay address
 * for pipes (`relayIp`, e.g. 127.0.1.11; EDGE_PIPE_ANNOUNCED_IP). The relay binds every port of each node's pipe port
 * range on that node's relay address. A datagram from node Y's real 127.0.0.y:q to relay 127.0.1.x:p leaves, after
 * delay(Y, X), FROM relay 127.0.1.y:q TO real 127.0.0.x:p: the source is the address node X was told for Y's end of
 * the pipe, so mediasoup's PipeTransport (which drops packets from any other tuple) takes it.
 *
 * `DelaySchedule` is the pure core (no I/O, no clock): per-direction FIFO queues with a due time, a bound on the
 * packets held, and counters. `UdpDelayRelay` is the sockets and one timer around it.
 */
import dgram from 'node:dgram';

export interface LinkCounters {
  /** Datagrams and bytes (UDP payload) forwarded in this direction. */
  packets: number;
  bytes: number;
  /** Dropped because the relay held its maximum of packets already. */
  dropped: number;
  /** Held right now. */
  queued: number;
  /** How late packets left against their due time (the relay's own scheduling delay): sum and max, ms. */
  lateMsSum: number;
  lateMsMax: number;
}

interface Held<T> {
  item: T;
  dueAt: number;
  bytes: number;
}

/** Direction key: `from->to`. */
export const linkKey = (from: string, to: string): string => `${from}->${to}`;

/**
 * Holds items per direction for that direction's delay, oldest first; `due(now)` hands back what is due. A constant
 * delay per direction keeps each direction's queue in due order, so a FIFO per direction is enough.
 */
export class DelaySchedule<T> {
  private readonly queues = new Map<string, { from: string; to: string; held: Held<T>[]; head: number }>();
  private readonly counters = new Map<string, LinkCounters>();
  private total = 0;

  constructor(
    private readonly delayMs: (from: string, to: string) => number,
    /** The most packets held at once (all directions); beyond it new packets are dropped (tail drop). */
    private readonly maxHeld: number,
  ) {
    if (!Number.isInteger(maxHeld) || maxHeld < 1) throw new Error('maxHeld must be a whole number >= 1');
  }

  private counter(key: string): LinkCounters {
    let c = this.counters.get(key);
    if (!c) this.counters.set(key, (c = { packets: 0, bytes: 0, dropped: 0, queued: 0, lateMsSum: 0, lateMsMax: 0 }));
    return c;
  }

  /** Takes an item that arrived at `now` from `from` for `to`; false when it was dropped (the relay is full). */
  offer(from: string, to: string, bytes: number, item: T, now: number): boolean {
    const key = linkKey(from, to);
    const c = this.counter(key);
    if (this.total >= this.maxHeld) {
      c.dropped++;
      return false;
    }
    const delay = this.delayMs(from, to);
    if (!Number.isFinite(delay) || delay < 0) throw new Error(`no delay for ${key}`);
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { from, to, held: [], head: 0 }));
    q.held.push({ item, dueAt: now + delay, bytes });
    c.queued++;
    this.total++;
    return true;
  }

  /** Everything due at `now` (in due order within a direction), counted as forwarded. */
  due(now: number): { from: string; to: string; item: T }[] {
    const out: { from: string; to: string; item: T }[] = [];
    for (const [key, q] of this.queues) {
      const c = this.counter(key);
      while (q.head < q.held.length && q.held[q.head]!.dueAt <= now) {
        const h = q.held[q.head++]!;
        out.push({ from: q.from, to: q.to, item: h.item });
        c.packets++;
        c.bytes += h.bytes;
        c.queued--;
        this.total--;
        c.lateMsSum += now - h.dueAt;
        c.lateMsMax = Math.max(c.lateMsMax, now - h.dueAt);
      }
      // compact now and then, so the array does not grow without end
      if (q.head > 1024 && q.head * 2 > q.held.length) {
        q.held.splice(0, q.head);
        q.head = 0;
      }
    }
    return out;
  }

  /** When the next held item is due, or null when nothing is held. */
  nextDueAt(): number | null {
    let next: number | null = null;
    for (const q of this.queues.values()) {
      const h = q.held[q.head];
      if (h && (next === null || h.dueAt < next)) next = h.dueAt;
    }
    return next;
  }

  get held(): number {
    return this.total;
  }

  /** Counters per direction (`from->to`). */
  stats(): Record<string, LinkCounters> {
    return Object.fromEntries([...this.counters].map(([k, c]) => [k, { ...c }]));
  }
}

export interface RelayNode {
  id: string;
  /** Where the node's pipe transports listen (and send from). */
  realIp: string;
  /** What the node announces for its pipes: the relay listens here for datagrams to the node. */
  relayIp: string;
  /** The node's pipe port range (EDGE_PIPE_MIN_PORT..EDGE_PIPE_MAX_PORT), inclusive. */
  minPort: number;
  maxPort: number;
}

export interface RelayStats {
  links: Record<string, LinkCounters>;
  /** Datagrams from an address that is no node's, or from a port outside its node's pipe range. */
  unroutable: number;
  held: number;
}

interface Outgoing {
  msg: Buffer;
  via: dgram.Socket;
  ip: string;
  port: number;
}

const LOOPBACK = /^127\.\d+\.\d+\.\d+$/;

/** The relay's sockets: one per node and pipe port, on the node's relay address; loopback addresses only. */
export class UdpDelayRelay {
  private readonly sockets = new Map<string, dgram.Socket>();
  private readonly schedule: DelaySchedule<Outgoing>;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private unroutable = 0;
  private closed = false;

  private constructor(private readonly nodes: RelayNode[], delayMs: (from: string, to: string) => number, maxHeld: number) {
    this.schedule = new DelaySchedule(delayMs, maxHeld);
  }

  static async start(nodes: RelayNode[], delayMs: (from: string, to: string) => number, opts: { maxHeld?: number } = {}): Promise<UdpDelayRelay> {
    for (const n of nodes) {
      if (!LOOPBACK.test(n.realIp) || !LOOPBACK.test(n.relayIp)) throw new Error(`node ${n.id}: the relay works on loopback addresses only`);
      if (n.maxPort < n.minPort || n.maxPort - n.minPort > 200) throw new Error(`node ${n.id}: pipe port range ${n.minPort}-${n.maxPort} (at most 200 ports)`);
    }
    if (new Set(nodes.flatMap((n) => [n.realIp, n.relayIp])).size !== nodes.length * 2) throw new Error('every node needs its own real and relay address');
    const relay = new UdpDelayRelay(nodes, delayMs, opts.maxHeld ?? 20_000);
    try {
      for (const n of nodes) for (let p = n.minPort; p <= n.maxPort; p++) await relay.bind(n, p);
    } catch (err) {
      relay.close();
      throw err;
    }
    return relay;
  }

  private bind(n: RelayNode, port: number): Promise<void> {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    this.sockets.set(`${n.relayIp}:${port}`, s);
    s.on('message', (msg, rinfo) => this.onMessage(n, port, msg, rinfo));
    s.on('error', () => undefined); // a send to a closed node's port: nothing to do
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, n.relayIp, () => {
        s.off('error', reject);
        resolve();
      });
    });
  }

  /** A datagram for node `to` (on its relay port) from a real address. */
  private onMessage(to: RelayNode, port: number, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const from = this.nodes.find((n) => n.realIp === rinfo.address);
    const via = from && this.sockets.get(`${from.relayIp}:${rinfo.port}`);
    if (!from || !via || this.closed) {
      this.unroutable++;
      return;
    }
    const now = performance.now();
    if (!this.schedule.offer(from.id, to.id, msg.length, { msg, via, ip: to.realIp, port }, now)) return;
    this.arm(now);
  }

  /** One timer, at the earliest due time. */
  private arm(now: number): void {
    const next = this.schedule.nextDueAt();
    if (next === null || next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.flush(), Math.max(0, next - now));
  }

  private flush(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = performance.now();
    for (const { item } of this.schedule.due(now)) item.via.send(item.msg, item.port, item.ip);
    this.arm(now);
  }

  stats(): RelayStats {
    return { links: this.schedule.stats(), unroutable: this.unroutable, held: this.schedule.held };
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
  }
}
