/** What a bench node says about itself in its heartbeats: a plausible node on loopback (the size of a real one). */
import type { SelfDescription } from '../../../edge-node/index.js';

export function benchNodeDescription(nodeId: string): SelfDescription {
  return {
    nodeId, region: `region-${nodeId}`, latitude: 53.3, longitude: -6.3, signallingUrl: 'http://127.0.0.1:8080',
    mediaAddress: '127.0.0.1', capacity: { participants: 500 }, load: { participants: 0, consumers: 0, cpu: 0 },
    state: 'active', version: '0.1.0', codecHash: 'h1',
  };
}
