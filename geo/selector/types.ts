/**
 * Node choice, in the shape of LiveKit's pkg/routing/selector: a `NodeSelector` takes the known nodes and answers
 * with one, and is built from small strategies, one a file, all behind the `NodeStrategy` interface. A strategy
 * either filters (drops nodes that must not get the participant, saying why) or orders (ranks what is left, saying
 * why the first is first). The chain runs filters first, then orderings; the first node left is the choice.
 * Everything here is pure: the clock and the client's position come in through the context.
 */
import type { NodeInfo } from '../../edge-node/protocol/mesh.js';
import type { Point } from '../distance.js';

/** A node under consideration, with what the chain computed about it once. */
export interface Candidate {
  readonly node: NodeInfo;
  /** Great-circle distance from the client, km; null when the client's position is unknown. */
  readonly distanceKm: number | null;
  /** The node already serves this meeting (from the directory). */
  readonly hosting: boolean;
  /** max(participants / capacity, worker CPU), 0..1 (1 when capacity is 0). */
  readonly load: number;
}

export interface SelectionContext {
  /** ms since epoch, for heartbeat freshness. */
  readonly now: number;
  /** Where the client is (GeoIP, or the default region's nodes), or null: then load alone orders. */
  readonly position: Point | null;
  readonly hostingNodeIds: ReadonlySet<string>;
  /** Nodes that must not be chosen (e.g. the node that is redirecting the participant away). */
  readonly excludeNodeIds: ReadonlySet<string>;
  /** Router codec hash every chosen node must have, or null for any (see strategies/codec.ts). */
  readonly codecHash: string | null;
  /** A heartbeat whose `sentAt` (the sender's clock) is older than this is stale. */
  readonly maxHeartbeatAgeMs: number;
  /** Extra distance a hosting node may be away and still win (see strategies/prefer-hosting.ts). */
  readonly hostingSlackKm: number;
  /** Nodes within this distance of the nearest count as equally near; load decides among them. */
  readonly loadTieKm: number;
}

export interface Dropped {
  nodeId: string;
  /** The strategy that dropped it. */
  by: string;
  reason: string;
}

export interface StrategyResult {
  kept: Candidate[];
  dropped: Dropped[];
  /** For orderings: why the first is first (one sentence). */
  note?: string;
}

/** One step of node choice. */
export interface NodeStrategy {
  readonly name: string;
  readonly kind: 'filter' | 'order';
  apply(candidates: readonly Candidate[], ctx: SelectionContext): StrategyResult;
}

export interface Selection {
  /** The chosen node, or null when every node was dropped. */
  node: NodeInfo | null;
  /** One line a person can read: why this node (or why none). */
  reason: string;
  /** The nodes left after filtering, best first. */
  ranked: Candidate[];
  dropped: Dropped[];
}

/** LiveKit's NodeSelector, for MeshMeet's nodes. */
export interface NodeSelector {
  select(nodes: readonly NodeInfo[], ctx: SelectionContext): Selection;
}

/** A filter strategy from a predicate that returns why a node must go (or null to keep it). */
export function filterStrategy(name: string, reject: (c: Candidate, ctx: SelectionContext) => string | null): NodeStrategy {
  return {
    name,
    kind: 'filter',
    apply(candidates, ctx) {
      const kept: Candidate[] = [];
      const dropped: Dropped[] = [];
      for (const c of candidates) {
        const why = reject(c, ctx);
        if (why === null) kept.push(c);
        else dropped.push({ nodeId: c.node.nodeId, by: name, reason: why });
      }
      return { kept, dropped };
    },
  };
}

export const pct = (x: number) => `${Math.round(x * 100)}%`;
export const km = (d: number | null) => (d === null ? '?' : `${Math.round(d)} km`);
