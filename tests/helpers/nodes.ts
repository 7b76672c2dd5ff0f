/** NodeInfo records for node-choice tests: a healthy, idle, active node unless told otherwise. */
import type { NodeInfo } from '../../edge-node/protocol/mesh.js';

export const NOW = 1_800_000_000_000;

export function nodeInfo(o: Partial<NodeInfo> & Pick<NodeInfo, 'nodeId' | 'latitude' | 'longitude'>): NodeInfo {
  return {
    region: o.nodeId,
    signallingUrl: `https://${o.nodeId}.example.test`,
    mediaAddress: '198.51.100.1',
    capacity: { participants: 100 },
    load: { participants: 0, consumers: 0, cpu: 0 },
    state: 'active',
    version: 'test',
    codecHash: 'c1',
    incarnation: 1,
    seq: 1,
    sentAt: NOW,
    ...o,
  };
}

/** Three regions far apart: Frankfurt, Ashburn (US east), Singapore. */
export const FRA = nodeInfo({ nodeId: 'fra', region: 'eu-central', latitude: 50.11, longitude: 8.68 });
export const ASH = nodeInfo({ nodeId: 'ash', region: 'us-east', latitude: 39.04, longitude: -77.49 });
export const SIN = nodeInfo({ nodeId: 'sin', region: 'ap-southeast', latitude: 1.35, longitude: 103.82 });
