/**
 * The control plane as a listening member of the edge cluster (when CLUSTER_KEY and CLUSTER_JOIN are set): it joins
 * the gossip with the cluster key, sends no heartbeat, and learns the live nodes (membership) and which nodes hold
 * which meeting (directory). Host commands go to every node holding the meeting; remove and end are also gossiped as
 * revocations, so that a node the meeting reaches later refuses the covered tokens too.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ClusterView, readClusterKey, type mesh } from '../../edge-node/index.js';
import type { ControlConfig } from './config.js';
import type { CommandRoute } from './meetings/edge-client.js';

/** Joins the cluster if the configuration names one (null otherwise). */
export async function joinCluster(cfg: ControlConfig, log: Logger): Promise<ClusterView | null> {
  if (!cfg.clusterKey) return null;
  const join = splitList(cfg.clusterJoin);
  if (join.length === 0) throw new Error('invalid control plane configuration: CLUSTER_JOIN: the cluster key is set but no seed multiaddr to join through');
  const view = await ClusterView.join({
    clusterKey: await readClusterKey(cfg.clusterKey),
    join,
    listen: splitList(cfg.clusterListen),
    nodeId: `control-${randomUUID().slice(0, 8)}`,
    logger: log.child({ component: 'cluster' }),
  });
  log.info({ join, listen: view.libp2p.getMultiaddrs().map(String) }, 'joined the edge cluster as a listening member');
  return view;
}

/** Host commands through the directory: the signalling URLs of the live nodes that hold the meeting. */
export function clusterCommandRoute(view: ClusterView): CommandRoute {
  return {
    nodeUrls: (meetingId) => view.nodesOfMeeting(meetingId).map((n) => n.signallingUrl.replace(/\/$/, '')),
    revoke: (command) => {
      void view.publishRevocation(command);
    },
  };
}

/**
 * The cluster as geo/'s node sources: `nodes` is a `NodeSource` (`() => NodeInfo[]`), `meetingHosts` a
 * `MeetingHosts` (node ids serving a meeting). Pass them as `ControlPlaneOptions.nodes` / `meetingHosts`.
 */
export function clusterSources(view: ClusterView): { nodes: () => mesh.NodeInfo[]; meetingHosts: (meetingId: string) => string[] } {
  return {
    nodes: () => view.nodes(),
    meetingHosts: (meetingId) => view.nodesOfMeeting(meetingId).map((n) => n.nodeId),
  };
}

function splitList(s: string | undefined): string[] {
  return (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
}
