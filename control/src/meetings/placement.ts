/**
 * Which edge node a joining participant is sent to: the client's address (`clientIp(c)`: the socket's, or
 * X-Forwarded-For from a trusted proxy), GeoIP, and geo/'s node selector over the current nodes (a `NodeSource`: the cluster's membership
 * view, or a static list). The GeoIP database (about 134 MB in memory) is opened on the first placement that has a
 * choice to make: with one node there is nothing to choose and it is never loaded.
 */
import type { Logger } from 'pino';
import { GeoLookup, nodesFileSource, placeClient, singleNodeSource, type MeetingHosts, type NodeSource } from '../../../geo/index.js';
import type { ControlConfig } from '../config.js';
import { clientIp, type AppContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';

export interface JoinPlacementOptions {
  nodes: NodeSource;
  /** The nodes already serving a meeting (the cluster's directory); none without a cluster. */
  hosts?: MeetingHosts;
  defaultRegion?: string;
  log?: Logger;
  /** How to open the GeoIP database (tests may share one). */
  openGeo?: () => Promise<GeoLookup>;
}

export interface ChosenNode {
  nodeUrl: string;
  nodeId: string;
  region: string;
}

/** The static node source of a configuration: the nodes file if set, else EDGE_NODE_URL as a one-node list. */
export function configuredNodeSource(cfg: ControlConfig): NodeSource {
  return cfg.edgeNodesFile ? nodesFileSource(cfg.edgeNodesFile) : singleNodeSource(cfg.edgeNodeUrl.replace(/\/$/, ''), cfg.geoDefaultRegion);
}

export class JoinPlacement {
  private geo: Promise<GeoLookup | null> | null = null;

  constructor(private readonly o: JoinPlacementOptions) {}

  static fromConfig(cfg: ControlConfig, o: { nodes?: NodeSource; hosts?: MeetingHosts; log?: Logger } = {}): JoinPlacement {
    return new JoinPlacement({
      nodes: o.nodes ?? configuredNodeSource(cfg),
      hosts: o.hosts,
      defaultRegion: cfg.geoDefaultRegion,
      log: o.log,
    });
  }

  /** The node for this request's client in this meeting; 503 when no node can take anyone. */
  async place(c: AppContext, meetingId: string): Promise<ChosenNode> {
    const nodes = this.o.nodes();
    const ip = clientIp(c);
    const geo = nodes.length > 1 ? await this.lookup() : null;
    const p = placeClient(nodes, { clientIp: ip, geo, defaultRegion: this.o.defaultRegion, hostingNodeIds: this.o.hosts?.(meetingId) ?? [] });
    if (!p.node) {
      this.o.log?.warn({ meetingId, reason: p.reason }, 'no edge node for a join');
      c.header('Retry-After', '5');
      throw new HttpError(503, 'no_node', 'no media node can take participants right now; try again shortly');
    }
    this.o.log?.debug({ meetingId, nodeId: p.node.nodeId, client: p.client.place, reason: p.reason }, 'join placed');
    return { nodeUrl: p.node.signallingUrl.replace(/\/$/, ''), nodeId: p.node.nodeId, region: p.node.region };
  }

  /**
   * The GeoIP database, opened once. If it cannot be opened (files missing or corrupt), joins still work: every
   * client is placed as if its address had no place (default region, else least loaded), and the error is logged once.
   */
  private lookup(): Promise<GeoLookup | null> {
    this.geo ??= (this.o.openGeo ?? (() => GeoLookup.open()))().catch((err: unknown) => {
      this.o.log?.error({ err }, 'GeoIP database could not be opened: placing joins by default region and load');
      return null;
    });
    return this.geo;
  }
}
