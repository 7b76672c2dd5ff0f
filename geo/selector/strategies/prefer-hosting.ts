/**
 * A node that already hosts the meeting goes first when it is nearly as close as the best node.
 *
 * Why: a participant placed on a node the meeting is not on yet makes that node join the meeting, and then every
 * producer in the meeting is piped to it (one pipe per producer and remote node) and this participant's producers
 * are piped back out: more bandwidth between nodes, more CPU on both, and one more SFU hop (a few ms and a place to
 * lose packets) between this participant and everyone else. Placed on a hosting node, the participant costs no new
 * pipe and meets the others one hop away. But the participant's own path to its node carries all of its media, so
 * the hosting node wins only when it is at most `hostingSlackKm` farther than the best node (the default 1000 km is
 * about 10 ms more round trip in fibre); a participant in Tokyo is not sent to Frankfurt because the meeting
 * started there: Tokyo gets its own node and the pipe.
 */
import { km, type NodeStrategy } from '../types.js';

export const preferHosting: NodeStrategy = {
  name: 'prefer-hosting',
  kind: 'order',
  apply(candidates, ctx) {
    const best = candidates[0];
    if (!best) return { kept: [], dropped: [] };
    if (best.hosting) return { kept: [...candidates], dropped: [], note: `${best.node.nodeId} already hosts the meeting` };
    const host = candidates.find((c) => c.hosting && (c.distanceKm === null || best.distanceKm === null || c.distanceKm - best.distanceKm <= ctx.hostingSlackKm));
    if (!host) return { kept: [...candidates], dropped: [] };
    const extra = host.distanceKm === null || best.distanceKm === null ? null : host.distanceKm - best.distanceKm;
    return {
      kept: [host, ...candidates.filter((c) => c !== host)],
      dropped: [],
      note: `${host.node.nodeId} already hosts the meeting and is ${extra === null ? 'as good a guess' : `only ${km(extra)} farther`} than ${best.node.nodeId}: no new pipe`,
    };
  },
};
