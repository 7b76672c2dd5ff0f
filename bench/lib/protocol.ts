/** Messages between the bench and its bot processes (IPC, plain JSON). */
import type { ReceiveTotals } from './rtc/receiver.js';
import type { ConnectInfo } from './sfu/types.js';

export type ToBot =
  | { type: 'init'; connect: ConnectInfo }
  | { type: 'join'; id: string; room: string; publish: boolean; subscribe: boolean }
  | { type: 'leave'; id: string }
  | { type: 'stats'; seq: number }
  | { type: 'stop' };

export interface BotStats {
  id: string;
  connected: boolean;
  error: string | null;
  rx: ReceiveTotals | null;
  tx: { packets: number; bytes: number; retransmitted: number; keyframes: number; nacks: number; plis: number; audioLostAtSfu: number } | null;
}

export type FromBot =
  | { type: 'ready' }
  | { type: 'joined'; id: string; ok: boolean; error?: string; joinMs: number; signalledMs: number | null }
  | { type: 'left'; id: string }
  | { type: 'stats'; seq: number; bots: BotStats[]; cpuSeconds: number; eventLoopP99Ms: number; rssMiB: number; udpDrops: number; udpMaxRxQueue: number }
  | { type: 'error'; message: string };
