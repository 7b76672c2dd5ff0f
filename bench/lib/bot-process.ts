/**
 * A bot process: hosts many bots (each its own WebRTC transports) against one SFU, driven by the bench over IPC.
 * One 10 ms tick sends every publishing bot's due packets. Answers `stats` with each bot's counters and its own CPU.
 * Must end with process.exit (timers and sockets of closed transports may linger).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadMedia, type BenchMedia } from './media.js';
import { clientFor } from './sfu/clients.js';
import type { BotSession, ConnectInfo, SfuClient } from './sfu/types.js';
import type { BotStats, FromBot, ToBot } from './protocol.js';
import { udpSocketDrops } from './udp-drops.js';

let media: BenchMedia | null = null;
let client: SfuClient | null = null;
const bots = new Map<string, { session: BotSession | null; startedAt: number; firstPacketAt: number | null; error: string | null }>();
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

const send = (m: FromBot): void => {
  process.send?.(m);
};

const tick = setInterval(() => {
  const now = performance.now();
  for (const b of bots.values()) b.session?.sender?.tick(now);
}, 10);

function statsOf(id: string): BotStats {
  const b = bots.get(id)!;
  const rx = b.session?.receiver?.totals() ?? null;
  if (rx && rx.packets > 0 && b.firstPacketAt === null) b.firstPacketAt = performance.now();
  return { id, connected: !!b.session, error: b.error, rx, tx: b.session?.sender?.stats() ?? null };
}

async function handle(m: ToBot): Promise<void> {
  switch (m.type) {
    case 'init': {
      media = await loadMedia();
      client = await clientFor(m.connect as ConnectInfo);
      send({ type: 'ready' });
      return;
    }
    case 'join': {
      const startedAt = performance.now();
      const entry = { session: null as BotSession | null, startedAt, firstPacketAt: null as number | null, error: null as string | null };
      bots.set(m.id, entry);
      try {
        entry.session = await client!.join({ room: m.room, identity: m.id, publish: m.publish, subscribe: m.subscribe, media: media!, ...(m.node ? { node: m.node } : {}) });
        const s = entry.session;
        const steps = s.steps?.map(([step, at], i, all): [string, number] => [step, at - (i === 0 ? startedAt : all[i - 1]![1])]);
        send({ type: 'joined', id: m.id, ok: true, joinMs: s.mediaConnectedAt - startedAt, signalledMs: s.joinedAt - startedAt, steps });
      } catch (err) {
        entry.error = (err as Error).message;
        send({ type: 'joined', id: m.id, ok: false, error: entry.error, joinMs: performance.now() - startedAt, signalledMs: null });
      }
      return;
    }
    case 'stats': {
      const cpu = process.cpuUsage();
      const udp = udpSocketDrops();
      send({
        type: 'stats', seq: m.seq, bots: [...bots.keys()].map(statsOf),
        cpuSeconds: (cpu.user + cpu.system) / 1e6, eventLoopP99Ms: loop.percentile(99) / 1e6, rssMiB: process.memoryUsage().rss / 2 ** 20,
        udpDrops: udp.drops, udpMaxRxQueue: udp.maxRxQueue,
      });
      loop.reset();
      return;
    }
    case 'arrivals': {
      send({ type: 'arrivals', seq: m.seq, bots: Object.fromEntries(m.ids.filter((id) => bots.has(id)).map((id) => [id, bots.get(id)!.session?.receiver?.arrivals() ?? {}])) });
      return;
    }
    case 'leave': {
      const b = bots.get(m.id);
      bots.delete(m.id);
      await b?.session?.close();
      send({ type: 'left', id: m.id });
      return;
    }
    case 'stop': {
      clearInterval(tick);
      await Promise.race([Promise.all([...bots.values()].map((b) => b.session?.close())), new Promise((r) => setTimeout(r, 3000))]);
      process.exit(0);
    }
  }
}

process.on('message', (m: ToBot) => {
  handle(m).catch((err: Error) => send({ type: 'error', message: err.message }));
});
process.on('disconnect', () => process.exit(0));
