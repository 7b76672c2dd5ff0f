/**
 * Only nodes heard from recently. The membership view already forgets a node silent for DEAD_AFTER_MS, timed by
 * when its heartbeats *arrive* (the mesh never trusts other machines' clocks); this filter only has the heartbeat's
 * own `sentAt`, the sender's clock, so it allows for clock skew (`maxHeartbeatAgeMs` is DEAD_AFTER_MS plus 30 s by
 * default) and catches what is far too old: a view that stopped updating, or a record copied from somewhere. A
 * heartbeat stamped in the future (a clock ahead of ours) counts as fresh.
 */
import { filterStrategy } from '../types.js';

export const fresh = filterStrategy('fresh', (c, ctx) => {
  const age = ctx.now - c.node.sentAt;
  return age <= ctx.maxHeartbeatAgeMs ? null : `last heartbeat ${Math.round(age / 1000)} s ago`;
});
