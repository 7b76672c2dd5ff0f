/**
 * Only nodes heard from recently. The membership view already forgets nodes silent for DEAD_AFTER_MS; this guards
 * the choice against a view that itself went stale (the listener lost the cluster). A heartbeat stamped in the
 * future (clock skew between machines) counts as fresh: nodes are expected to run NTP, and refusing every node of a
 * skewed clock would be worse than trusting it.
 */
import { filterStrategy } from '../types.js';

export const fresh = filterStrategy('fresh', (c, ctx) => {
  const age = ctx.now - c.node.sentAt;
  return age <= ctx.maxHeartbeatAgeMs ? null : `last heartbeat ${Math.round(age / 1000)} s ago`;
});
