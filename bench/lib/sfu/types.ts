/**
 * One adapter per SFU, so that exactly the same bots and load hit every server.
 *
 * - The server side (`SfuServer`, in the bench's main process) starts the SFU as its own processes, says which
 *   processes' CPU counts as the SFU's, and hands out a serializable `ConnectInfo` for the bot processes.
 * - The client side (`SfuClient`, in a bot process) joins a room over the SFU's own signalling and gives the bot
 *   transports to publish on and receive from.
 */
import type { MediaReceiver } from '../rtc/receiver.js';
import type { MediaSender } from '../rtc/sender.js';
import type { BenchMedia } from '../media.js';

export const SFU_KINDS = ['meshmeet', 'livekit', 'janus'] as const;
export type SfuKind = (typeof SFU_KINDS)[number];

/** Everything a bot process needs to join rooms on one running SFU (sent over IPC: plain JSON). */
export interface ConnectInfo {
  kind: SfuKind;
  /** Signalling base URL (ws:// or http://). */
  url: string;
  /** Adapter-specific: key material for tokens, room ids, ... */
  extra: Record<string, unknown>;
}

export interface SfuServer {
  readonly kind: SfuKind;
  readonly connect: ConnectInfo;
  /** Processes whose CPU time is the SFU's (read from /proc). */
  pids(): number[];
  /** The SFU's own account of its media CPU seconds (mediasoup getResourceUsage), when it has one. */
  mediaCpuSeconds(): Promise<number | null>;
  /** The server's own account of where signalling time went (mean ms per step, from its metrics), when it has one. */
  serverTimings?(): Promise<Record<string, { count: number; meanMs: number }> | null>;
  /** Prepares a room before bots join (Janus needs the VideoRoom created); idempotent. */
  prepareRoom(room: string, maxPublishers: number): Promise<void>;
  /** Describes the server for the report (version, config). */
  describe(): Record<string, unknown>;
  stop(): Promise<void>;
}

export interface JoinOptions {
  room: string;
  identity: string;
  publish: boolean;
  subscribe: boolean;
  media: BenchMedia;
  /** On a mesh: the node to join on (an id of `ConnectInfo.extra.nodes`); unset, the ConnectInfo's url. */
  node?: string;
}

/** A joined bot: its sender (when publishing) and receiver, as the adapter wired them. */
export interface BotSession {
  sender: MediaSender | null;
  receiver: MediaReceiver | null;
  /** Timestamps (performance.now()) of the join's milestones. */
  joinedAt: number;
  mediaConnectedAt: number;
  /** The join's steps as the adapter saw them, in order: [step, performance.now() when it ended] (for where time goes). */
  steps?: [string, number][];
  close(): Promise<void>;
}

export interface SfuClient {
  join(opts: JoinOptions): Promise<BotSession>;
}
