/**
 * `gossip` (needs the mesh): 50 to 100 libp2p nodes: time for a new node to reach every view, time to declare a dead
 * one, messages and CPU per node. Declared here so the CLI lists it; its `run` arrives with the mesh.
 */
import type { Scenario } from '../lib/scenario.js';

export const gossip: Scenario = {
  name: 'gossip',
  summary: '50-100 libp2p nodes: convergence and failure-detection times, messages and CPU per node',
  needs: 'mesh',
  flags: {},
  run: () => Promise.reject(new Error('gossip needs the mesh of edge nodes (not built yet)')),
};
