/**
 * Membership: who is alive, from heartbeats. The decisions are pure functions (`judgeHeartbeat`, `expiredMembers`);
 * `Membership` is the table they act on (no I/O, time passed in), so the whole of it is tested without a network.
 *
 * Times are this process's receipt times, never the sender's clock (clocks differ between machines).
 */
import { DEAD_AFTER_MS, type NodeInfo } from '../../protocol/mesh.js';

/**
 * What a heartbeat means for the view:
 * - `up`: first seen (or seen again after it was declared dead, with a newer heartbeat than the last one before)
 * - `restart`: a newer incarnation of a live node (its old state, pipes and shards, is gone)
 * - `update`: newer heartbeat whose content (load, state, addresses...) changed
 * - `refresh`: newer heartbeat, same content
 * - `stale`: not newer than what we have (reordered or duplicated), or from before the node was declared dead
 * - `conflict`: same node id and incarnation, another libp2p peer: someone else claims this node's name; dropped
 */
export type HeartbeatVerdict = 'up' | 'restart' | 'update' | 'refresh' | 'stale' | 'conflict';

/** The newest heartbeat position (incarnation, seq) of a node that was declared dead, kept for a while. */
export interface Departed {
  incarnation: number;
  seq: number;
  at: number;
}

function compareOrder(a: { incarnation: number; seq: number }, b: { incarnation: number; seq: number }): number {
  return a.incarnation !== b.incarnation ? a.incarnation - b.incarnation : a.seq - b.seq;
}

/** Fields that change with every heartbeat and do not make it an `update`. */
function sameContent(a: NodeInfo, b: NodeInfo): boolean {
  const strip = ({ seq: _s, sentAt: _t, ...rest }: NodeInfo) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

export function judgeHeartbeat(current: NodeInfo | undefined, departed: Departed | undefined, incoming: NodeInfo): HeartbeatVerdict {
  if (!current) {
    if (departed && compareOrder(incoming, departed) <= 0) return 'stale';
    return 'up';
  }
  if (incoming.incarnation > current.incarnation) return 'restart';
  if (incoming.incarnation === current.incarnation && incoming.peerId !== current.peerId) return 'conflict';
  if (compareOrder(incoming, current) <= 0) return 'stale';
  return sameContent(current, incoming) ? 'refresh' : 'update';
}

/** Node ids whose last heartbeat arrived more than `deadAfterMs` before `now`. */
export function expiredMembers(lastSeen: Iterable<[nodeId: string, at: number]>, now: number, deadAfterMs = DEAD_AFTER_MS): string[] {
  const dead: string[] = [];
  for (const [nodeId, at] of lastSeen) if (now - at > deadAfterMs) dead.push(nodeId);
  return dead;
}

interface Member {
  info: NodeInfo;
  lastSeen: number;
}

/** The membership table. Deterministic: every method takes the time. */
export class Membership {
  readonly #members = new Map<string, Member>();
  readonly #departed = new Map<string, Departed>();
  readonly #byPeer = new Map<string, string>();

  constructor(
    readonly deadAfterMs = DEAD_AFTER_MS,
    /** How long a dead node's last heartbeat position is remembered (stale copies of it must not revive it). */
    readonly rememberDeadMs = 60_000,
  ) {}

  /** Applies a heartbeat (already validated and authenticated); returns what it meant. */
  observe(info: NodeInfo, now: number): { verdict: HeartbeatVerdict; previous?: NodeInfo } {
    const current = this.#members.get(info.nodeId);
    const verdict = judgeHeartbeat(current?.info, this.#departed.get(info.nodeId), info);
    if (verdict === 'stale' || verdict === 'conflict') return { verdict };
    if (current?.info.peerId && current.info.peerId !== info.peerId) this.#byPeer.delete(current.info.peerId);
    this.#members.set(info.nodeId, { info, lastSeen: now });
    this.#departed.delete(info.nodeId);
    if (info.peerId) this.#byPeer.set(info.peerId, info.nodeId);
    return current ? { verdict, previous: current.info } : { verdict };
  }

  /** Declares dead every member silent for longer than deadAfterMs; returns them. */
  expire(now: number): NodeInfo[] {
    const dead: NodeInfo[] = [];
    for (const nodeId of expiredMembers([...this.#members].map(([id, m]) => [id, m.lastSeen]), now, this.deadAfterMs)) {
      dead.push(this.#remove(nodeId, now)!);
    }
    for (const [nodeId, d] of this.#departed) if (now - d.at > this.rememberDeadMs) this.#departed.delete(nodeId);
    return dead;
  }

  /**
   * This process was stalled for `ms` (its timers ran that late): heartbeats that arrived meanwhile are still
   * unread, so the silence is ours, not the members'. Moves every member's last-seen time forward by `ms`.
   */
  forgive(ms: number): void {
    for (const m of this.#members.values()) m.lastSeen += ms;
  }

  /** Removes a member at once (it said it is leaving); returns it if it was there. */
  remove(nodeId: string, now: number): NodeInfo | undefined {
    return this.#remove(nodeId, now);
  }

  #remove(nodeId: string, now: number): NodeInfo | undefined {
    const m = this.#members.get(nodeId);
    if (!m) return undefined;
    this.#members.delete(nodeId);
    if (m.info.peerId && this.#byPeer.get(m.info.peerId) === nodeId) this.#byPeer.delete(m.info.peerId);
    this.#departed.set(nodeId, { incarnation: m.info.incarnation, seq: m.info.seq, at: now });
    return m.info;
  }

  get(nodeId: string): NodeInfo | undefined {
    return this.#members.get(nodeId)?.info;
  }

  /** The live node id that this libp2p peer speaks for. */
  nodeIdOfPeer(peerId: string): string | undefined {
    return this.#byPeer.get(peerId);
  }

  lastSeen(nodeId: string): number | undefined {
    return this.#members.get(nodeId)?.lastSeen;
  }

  nodes(): NodeInfo[] {
    return [...this.#members.values()].map((m) => m.info);
  }

  get size(): number {
    return this.#members.size;
  }
}
