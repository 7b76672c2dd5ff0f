/**
 * The control plane as a listening member of the edge cluster (when CLUSTER_KEY and CLUSTER_JOIN are set): it joins
 * the gossip with the cluster key, sends no heartbeat, and learns the live nodes (membership) and which nodes hold
 * which meeting (directory). Host commands go to every node holding the meeting; remove and end are also gossiped as
 * revocations, so that a node the meeting reaches later refuses the covered tokens too, and republished to every node
 * that joins the cluster while they still matter.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { ClusterView, readClusterKey, type mesh } from '../../edge-node/index.js';
import type { ControlConfig } from './config.js';
import type { CommandRoute } from './meetings/edge-client.js';
import { RevocationLedger } from './revocation-ledger.js';

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

/** A command route that also republishes the active revocations to nodes that come up; `close()` stops that. */
export interface ClusterCommandRoute extends CommandRoute {
  readonly revocations: RevocationLedger;
  close(): void;
}

/**
 * Host commands through the directory: the signalling URLs of the live nodes that hold the meeting. Remove and end
 * are gossiped as revocations and kept (`RevocationLedger`) while they matter: a node that comes up later (a new
 * node, or one restarted with an empty store) gets them all again once its subscription reaches the control plane.
 */
export function clusterCommandRoute(view: ClusterView, log?: Logger): ClusterCommandRoute {
  const revocations = new RevocationLedger();
  const publish = (command: string, o: { forPeer?: string } = {}): Promise<unknown> =>
    view.publishRevocation(command, o).catch((err: Error) => log?.warn({ err: err.message }, 'revocation not gossiped'));
  const onNodeUp = (node: mesh.NodeInfo) => {
    const [first, ...rest] = revocations.active(Math.floor(Date.now() / 1000));
    if (first === undefined) return;
    log?.info({ nodeId: node.nodeId, revocations: rest.length + 1 }, 'node up: republishing the active revocations');
    // The first waits (bounded) for the node's subscription to reach this member; the others then go at once.
    void publish(first, { forPeer: node.peerId }).then(() => rest.forEach((command) => void publish(command, { forPeer: node.peerId })));
  };
  view.on('nodeUp', onNodeUp);
  return {
    revocations,
    nodeUrls: (meetingId) => view.nodesOfMeeting(meetingId).map((n) => n.signallingUrl.replace(/\/$/, '')),
    revoke: (command, signedAt) => {
      revocations.add(command, signedAt);
      void publish(command);
    },
    close: () => view.off('nodeUp', onNodeUp),
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
