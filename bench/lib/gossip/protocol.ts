/** Messages between the gossip bench and its node processes (IPC, plain JSON). */

export type ToNodes =
  | { cmd: 'start'; ids: string[]; seeds: string[][] }
  /** Report nodeUp/nodeDown of this node id, with the time each observer saw it. */
  | { cmd: 'watch'; nodeId: string }
  | { cmd: 'views' }
  | { cmd: 'stats'; reset: boolean }
  | { cmd: 'stop' };

/** One process's counters since the last reset, summed over its nodes. */
export interface NodesStats {
  nodes: number;
  cpuMs: number;
  /** Records delivered to the nodes (validated, first copies), by topic kind. */
  receivedByTopic: Record<string, number>;
  /** Payload bytes of those records, by topic kind. */
  receivedBytesByTopic: Record<string, number>;
  /** Records dropped by the nodes' validators, by reason. */
  dropped: Record<string, number>;
  published: number;
  /** Bytes the process wrote to and read from its sockets (/proc/self/io wchar/rchar: TCP, noise and yamux included). */
  wroteBytes: number | null;
  readBytes: number | null;
  /** Open libp2p connections, summed over the nodes. */
  connections: number;
  eventLoopP99Ms: number;
  rssMiB: number;
}

export type FromNodes =
  | { ev: 'ready' }
  | { ev: 'started'; addrs: Record<string, string>; failed: Record<string, string> }
  | { ev: 'up' | 'down'; observer: string; nodeId: string; at: number }
  | { ev: 'views'; counts: Record<string, number> }
  | ({ ev: 'stats' } & NodesStats)
  | { ev: 'stopped' }
  | { ev: 'error'; message: string };
