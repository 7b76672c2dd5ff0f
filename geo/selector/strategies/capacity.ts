/** Only nodes with room for one more participant (the node's own declared capacity). */
import { filterStrategy } from '../types.js';

export const capacity = filterStrategy('capacity', (c) => {
  const { participants } = c.node.load;
  const max = c.node.capacity.participants;
  return participants < max ? null : `full (${participants}/${max} participants)`;
});
