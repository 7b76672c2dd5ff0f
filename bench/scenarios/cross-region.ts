/**
 * `cross-region` (needs the mesh): participants over three nodes; bytes on pipes against the naive figure (one copy
 * per remote subscriber) and the added latency of one relay hop, with a user-space UDP delay relay between nodes.
 * Declared here so the CLI lists it; its `run` arrives with the mesh (a context with several nodes).
 */
import type { Scenario } from '../lib/scenario.js';

export const crossRegion: Scenario = {
  name: 'cross-region',
  summary: 'participants over three nodes: pipe bytes vs naive, added latency of a relay hop',
  needs: 'mesh',
  flags: {},
  run: () => Promise.reject(new Error('cross-region needs the mesh of edge nodes (not built yet)')),
};
