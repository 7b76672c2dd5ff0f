/** Only nodes that take new participants: a draining node is emptying itself and must get nobody new. */
import { filterStrategy } from '../types.js';

export const active = filterStrategy('active', (c) => (c.node.state === 'active' ? null : `${c.node.state}`));
