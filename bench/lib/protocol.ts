/** Messages between the bench and its bot processes (IPC, plain JSON). */
import type { Arrivals, ReceiveTotals } from './rtc/receiver.js';
import type { ConnectInfo } from './sfu/types.js';

export type ToBot =
  | { type: 'init'; connect: ConnectInfo }
  | { type: 'join'; id: string; room: string; publish: boolean; subscribe: boolean; node?: string }
  | { type: 'arrivals'; seq: number; ids: string[] }
  | { type: 'leave'; id: string }
  | { type: 'stats'; seq: number }
  | { type: 'stop' };

/** How long each step of a join took (ms), in order: the adapter's own breakdown of joinMs. */
export type JoinSteps = [string, number][];

export interface BotStats {
  id: string;
  connected: boolean;
  error: string | null;
  rx: ReceiveTotals | null;
  tx: { packets: number; bytes: number; retransmitted: number; keyframes: number; nacks: number; plis: number; audioLostAtSfu: number } | null;
}

export type FromBot =
  | { type: 'ready' }
  | { type: 'joined'; id: string; ok: boolean; error?: string; joinMs: number; signalledMs: number | null; steps?: JoinSteps }
  | { type: 'left'; id: string }
  | { type: 'stats'; seq: number; bots: BotStats[]; cpuSeconds: number; eventLoopP99Ms: number; rssMiB: number; udpDrops: number; udpMaxRxQueue: number }
  | { type: 'arrivals'; seq: number; bots: Record<string, Arrivals> }
  | { type: 'error'; message: string };
