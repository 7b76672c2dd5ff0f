/** Nodes the caller rules out, e.g. the node redirecting a participant away (draining or full) must not get it back. */
import { filterStrategy } from '../types.js';

export const exclude = filterStrategy('exclude', (c, ctx) => (ctx.excludeNodeIds.has(c.node.nodeId) ? 'excluded by the caller' : null));
