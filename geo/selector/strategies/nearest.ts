/**
 * Nearest first, by great-circle distance from the client: media latency and loss grow with distance, and the
 * participant's own uplink and downlink both cross it. Nodes within `loadTieKm` of the nearest count as equally near
 * (a few hundred km is a millisecond or two of fibre): among them the least loaded goes first, so that a region with
 * several nodes spreads its participants. Without a client position, load alone orders.
 */
import { km, pct, type Candidate, type NodeStrategy } from '../types.js';

const byLoad = (a: Candidate, b: Candidate) => a.load - b.load || (a.distanceKm ?? 0) - (b.distanceKm ?? 0) || a.node.nodeId.localeCompare(b.node.nodeId);
const byDistance = (a: Candidate, b: Candidate) => a.distanceKm! - b.distanceKm! || a.load - b.load || a.node.nodeId.localeCompare(b.node.nodeId);

export const nearest: NodeStrategy = {
  name: 'nearest',
  kind: 'order',
  apply(candidates, ctx) {
    if (candidates.length === 0) return { kept: [], dropped: [] };
    if (ctx.position === null || candidates.some((c) => c.distanceKm === null)) {
      const kept = [...candidates].sort(byLoad);
      return { kept, dropped: [], note: `client position unknown: least loaded first (${kept[0]!.node.nodeId} at ${pct(kept[0]!.load)})` };
    }
    const sorted = [...candidates].sort(byDistance);
    const closest = sorted[0]!;
    const limit = closest.distanceKm! + ctx.loadTieKm;
    const tied = sorted.filter((c) => c.distanceKm! <= limit).sort(byLoad);
    const kept = [...tied, ...sorted.filter((c) => c.distanceKm! > limit)];
    const first = kept[0]!;
    const note = first === closest
      ? `nearest: ${first.node.nodeId} (${first.node.region}) at ${km(first.distanceKm)}`
      : `${first.node.nodeId} at ${km(first.distanceKm)} is about as near as ${closest.node.nodeId} at ${km(closest.distanceKm)} and less loaded (${pct(first.load)} vs ${pct(closest.load)})`;
    return { kept, dropped: [], note };
  },
};
