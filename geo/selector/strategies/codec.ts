/**
 * Only nodes whose routers have the required codec hash. Nodes with different router codecs cannot pipe media to
 * each other, so a meeting must stay on nodes of one hash: the context's hash is the one of the nodes already
 * hosting the meeting (or the redirecting node's own); with none, any hash goes.
 */
import { filterStrategy } from '../types.js';

export const codec = filterStrategy('codec', (c, ctx) =>
  ctx.codecHash === null || c.node.codecHash === ctx.codecHash ? null : `codec hash ${c.node.codecHash} differs from the meeting's ${ctx.codecHash}`);
