/** Every scenario by name; each lives in its own file. */
import type { Scenario } from '../lib/scenario.js';
import { capacity } from './capacity.js';
import { compare } from './compare.js';
import { control } from './control.js';
import { crossRegion } from './cross-region.js';
import { gossip } from './gossip.js';
import { joinStorm } from './join-storm.js';
import { meeting } from './meeting.js';
import { webinar } from './webinar.js';

export const SCENARIOS: Record<string, Scenario> = Object.fromEntries(
  [meeting, capacity, compare, joinStorm, webinar, control, crossRegion, gossip].map((s) => [s.name, s]),
);
