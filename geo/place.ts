/**
 * Placing a client: from its address to a node. Looks the address up (GeoIP), falls back to the configured default
 * region for private, loopback, reserved, malformed and unknown addresses, and runs the selector. Used by the control
 * plane's join route, by the edge node when it redirects a participant (`chooseNode`), and by `meshmeet route`.
 */
import type { NodeInfo } from '../edge-node/protocol/mesh.js';
import { inspectIp } from './address.js';
import type { Point } from './distance.js';
import { sharedGeoLookup, type GeoLocation, type GeoLookup } from './lookup.js';
import { StrategyChain, selectionContext } from './selector/chain.js';
import type { NodeSelector, Selection } from './selector/types.js';

export interface ClientPosition {
  /**
   * geoip: the address's own place; near: a place the caller gave (e.g. the redirecting node's own: its participants
   * were placed near it); default-region: the configured region's nodes; none: load alone decides.
   */
  source: 'geoip' | 'near' | 'default-region' | 'none';
  point: Point | null;
  /** For people: `Sydney, AU (-33.87, 151.21)`, or why the default region was used. */
  place: string;
  location: GeoLocation | null;
}

const coords = (p: Point) => `(${p.latitude.toFixed(2)}, ${p.longitude.toFixed(2)})`;

/** A place given by the caller, with a name for explanations. */
export interface NearPoint extends Point {
  label: string;
}

/**
 * Where to consider the client to be: its GeoIP place; else the caller's `near` place; else the default region's
 * position, that of its first node (by id) in `nodes` (whatever their state: a region's place does not change when
 * its nodes drain); else none, and then load alone orders.
 */
export function resolvePosition(location: GeoLocation | null, nodes: readonly NodeInfo[], defaultRegion?: string, near?: NearPoint): ClientPosition {
  if (location?.status === 'found') {
    const where = [location.city, location.country].filter(Boolean).join(', ') || 'somewhere';
    return { source: 'geoip', point: { latitude: location.latitude, longitude: location.longitude }, place: `${where} ${coords(location)}`, location };
  }
  const why = location === null ? 'no GeoIP lookup (no client address, or nothing to choose)' : `${location.status} address ${location.ip}`;
  if (near) {
    const point = { latitude: near.latitude, longitude: near.longitude };
    return { source: 'near', point, place: `${why}: near ${near.label} ${coords(point)}`, location };
  }
  if (defaultRegion) {
    const anchor = nodes.filter((n) => n.region === defaultRegion).sort((a, b) => a.nodeId.localeCompare(b.nodeId))[0];
    if (anchor) {
      const point = { latitude: anchor.latitude, longitude: anchor.longitude };
      return { source: 'default-region', point, place: `${why}: default region ${defaultRegion} ${coords(point)}`, location };
    }
    return { source: 'none', point: null, place: `${why}: default region ${defaultRegion} has no node`, location };
  }
  return { source: 'none', point: null, place: `${why}: no default region configured`, location };
}

/** The codec hash a meeting's nodes share (the most common among its live hosting nodes), or null. */
export function meetingCodecHash(nodes: readonly NodeInfo[], hosting: ReadonlySet<string>): string | null {
  const counts = new Map<string, number>();
  for (const n of nodes) if (hosting.has(n.nodeId)) counts.set(n.codecHash, (counts.get(n.codecHash) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
}

export interface PlaceOptions {
  /** The client's address (already chosen from socket / X-Forwarded-For, see clientAddress()). */
  clientIp?: string | null;
  /** Nodes that already serve the meeting (from the directory). */
  hostingNodeIds?: Iterable<string>;
  /** A node that must not be chosen (the one redirecting). */
  excludeNodeId?: string;
  /** Required router codec hash; default: that of the hosting nodes, if any. */
  codecHash?: string | null;
  /** Where to assume the client is when its address has no place (before the default region). */
  near?: NearPoint;
  /** Region to assume when the address has no place (private, loopback, unknown). */
  defaultRegion?: string;
  /**
   * Participants already sent to each node that its heartbeat does not show yet (e.g. a drain redirecting everyone
   * at once): counted as its load, so that capacity and the load tie-break see them.
   */
  pending?: ReadonlyMap<string, number>;
  /**
   * The lookup to use; default: the shared one over the shipped database (opened on first use; if it cannot be
   * opened, placement goes on without GeoIP); null: never look up.
   */
  geo?: GeoLookup | null;
  now?: number;
  selector?: NodeSelector;
}

export interface Placement extends Selection {
  client: ClientPosition;
}

const defaultSelector = new StrategyChain();

/** The GeoIP answer; without a lookup, private/loopback/reserved/invalid addresses are still recognised as such. */
function locate(clientIp: string | null | undefined, geo: GeoLookup | null): GeoLocation | null {
  if (!clientIp) return null;
  if (geo) return geo.lookup(clientIp);
  const { ip, kind } = inspectIp(clientIp);
  return kind === 'public' ? null : { ip, status: kind };
}

/** The shared lookup, or null when the database cannot be opened: placement then goes on without GeoIP. */
function sharedOrNone(): GeoLookup | null {
  try {
    return sharedGeoLookup();
  } catch {
    return null;
  }
}

export function placeClient(nodes: readonly NodeInfo[], o: PlaceOptions = {}): Placement {
  const geo = o.geo === undefined ? (o.clientIp ? sharedOrNone() : null) : o.geo;
  const location = locate(o.clientIp, geo);
  const client = resolvePosition(location, nodes, o.defaultRegion, o.near);
  const pending = o.pending;
  if (pending?.size) {
    nodes = nodes.map((n) => (pending.get(n.nodeId) ? { ...n, load: { ...n.load, participants: n.load.participants + pending.get(n.nodeId)! } } : n));
  }
  const hostingNodeIds = new Set(o.hostingNodeIds ?? []);
  const ctx = selectionContext({
    now: o.now ?? Date.now(),
    position: client.point,
    hostingNodeIds,
    excludeNodeIds: new Set(o.excludeNodeId ? [o.excludeNodeId] : []),
    codecHash: o.codecHash !== undefined ? o.codecHash : meetingCodecHash(nodes, hostingNodeIds),
  });
  return { ...(o.selector ?? defaultSelector).select(nodes, ctx), client };
}

export interface ChooseNodeOptions extends PlaceOptions {
  /** Informative: the meeting the participant is joining (its hosting nodes go in `hostingNodeIds`). */
  meetingId: string;
}

/**
 * For the edge node's redirects: the node to send a participant to instead of this one. Pass this node's id as
 * `excludeNodeId`, the meeting's other nodes from the directory as `hostingNodeIds`, this node's `codecHash`, and
 * either the client's address (`clientIp`, which opens the GeoIP database on first use) or, cheaper and usually as
 * good, this node's own place as `near` (its participants were sent to it because they are near it); `pending`
 * spreads a drain's participants. Null node: nowhere to go (the client should retry through the control plane).
 */
export function chooseNode(nodes: readonly NodeInfo[], o: ChooseNodeOptions): { node: NodeInfo | null; reason: string } {
  const p = placeClient(nodes, o);
  return { node: p.node, reason: `meeting ${o.meetingId}, client at ${p.client.place}: ${p.reason}` };
}
