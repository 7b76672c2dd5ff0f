/**
 * The selector: filters, then orderings, each a strategy of its own (strategies/). Filter first, then choose:
 * no ordering ever sees a node that must not get the participant, so "nearest" can never pick a draining or full
 * node, and the reason printed for the choice only talks about eligible nodes.
 */
import type { NodeInfo } from '../../edge-node/protocol/mesh.js';
import { DEAD_AFTER_MS } from '../../edge-node/protocol/mesh.js';
import { distanceKm } from '../distance.js';
import { active } from './strategies/active.js';
import { capacity } from './strategies/capacity.js';
import { codec } from './strategies/codec.js';
import { exclude } from './strategies/exclude.js';
import { fresh } from './strategies/fresh.js';
import { nearest } from './strategies/nearest.js';
import { preferHosting } from './strategies/prefer-hosting.js';
import type { Candidate, Dropped, NodeSelector, NodeStrategy, Selection, SelectionContext } from './types.js';

/** The default chain: healthy and active, fresh, with room, compatible codecs, not excluded; nearest, then hosting. */
export const DEFAULT_STRATEGIES: readonly NodeStrategy[] = [active, fresh, capacity, codec, exclude, nearest, preferHosting];

export const DEFAULT_HOSTING_SLACK_KM = 1000;
/** Clock difference between machines that the `fresh` filter tolerates on top of DEAD_AFTER_MS. */
export const CLOCK_SKEW_ALLOWANCE_MS = 30_000;
export const DEFAULT_LOAD_TIE_KM = 300;

/** A context with defaults for everything but what the caller knows. */
export function selectionContext(c: Partial<SelectionContext> & { now: number }): SelectionContext {
  return {
    position: null,
    hostingNodeIds: new Set(),
    excludeNodeIds: new Set(),
    codecHash: null,
    maxHeartbeatAgeMs: DEAD_AFTER_MS + CLOCK_SKEW_ALLOWANCE_MS,
    hostingSlackKm: DEFAULT_HOSTING_SLACK_KM,
    loadTieKm: DEFAULT_LOAD_TIE_KM,
    ...c,
  };
}

export function loadOf(node: NodeInfo): number {
  const max = node.capacity.participants;
  const share = max > 0 ? Math.min(1, node.load.participants / max) : 1;
  return Math.max(share, node.load.cpu);
}

export class StrategyChain implements NodeSelector {
  readonly strategies: readonly NodeStrategy[];

  constructor(strategies: readonly NodeStrategy[] = DEFAULT_STRATEGIES) {
    const firstOrder = strategies.findIndex((s) => s.kind === 'order');
    if (firstOrder >= 0 && strategies.slice(firstOrder).some((s) => s.kind === 'filter')) {
      throw new Error('node selector: every filter must come before the orderings (filter, then choose)');
    }
    this.strategies = strategies;
  }

  select(nodes: readonly NodeInfo[], ctx: SelectionContext): Selection {
    let candidates: Candidate[] = nodes.map((node) => ({
      node,
      distanceKm: ctx.position ? distanceKm(ctx.position, node) : null,
      hosting: ctx.hostingNodeIds.has(node.nodeId),
      load: loadOf(node),
    }));
    const dropped: Dropped[] = [];
    const notes: string[] = [];
    for (const strategy of this.strategies) {
      const r = strategy.apply(candidates, ctx);
      candidates = r.kept;
      dropped.push(...r.dropped);
      if (r.note && candidates.length > 0) notes.push(r.note);
    }
    const first = candidates[0];
    if (!first) {
      const why = dropped.map((d) => `${d.nodeId}: ${d.reason}`).join('; ');
      return { node: null, reason: nodes.length === 0 ? 'no nodes known' : `no eligible node (${why})`, ranked: [], dropped };
    }
    const reason = candidates.length === 1 ? ['the only eligible node', ...notes].join('; ') : notes.join('; ') || `${first.node.nodeId} ranked first`;
    return { node: first.node, reason, ranked: candidates, dropped };
  }
}
