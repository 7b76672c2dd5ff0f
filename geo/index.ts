/**
 * geo/: GeoIP lookup (maxmind over the DB-IP City Lite MMDB shipped by npm) and node choice (pure strategies behind
 * one selector interface). The public surface for other folders.
 *
 * Node records are `NodeInfo` from edge-node/protocol/mesh.ts, the mesh's wire contract, imported from the protocol
 * module itself as web/ and control/ import the signalling and command schemas: edge-node/index.ts (which also
 * exports it, as `mesh`) would load mediasoup into the control plane and the route command.
 */
export { classifyIp, normalizeIp, type AddressKind } from './address.js';
export { TrustedProxies, clientAddress, type ClientAddress } from './client-ip.js';
export { distanceKm, type Point } from './distance.js';
export { GeoLookup, GEO_ATTRIBUTION, GEO_PACKAGE, defaultGeoPaths, sharedGeoLookup, type GeoLocation, type GeoPaths } from './lookup.js';
export {
  chooseNode, meetingCodecHash, placeClient, resolvePosition, type ChooseNodeOptions, type ClientPosition, type NearPoint, type PlaceOptions,
  type Placement,
} from './place.js';
export { ROUTE_USAGE, routeCommand, type RouteCommandOptions } from './route-command.js';
export {
  CLOCK_SKEW_ALLOWANCE_MS, DEFAULT_HOSTING_SLACK_KM, DEFAULT_LOAD_TIE_KM, DEFAULT_STRATEGIES, StrategyChain, loadOf, selectionContext,
} from './selector/chain.js';
export type { Candidate, Dropped, NodeSelector, NodeStrategy, Selection, SelectionContext } from './selector/types.js';
export {
  NodeDescription, STATIC_CAPACITY, nodesFileSource, parseNodes, singleNodeSource, staticNodeSource, type MeetingHosts, type NodeSource,
} from './sources.js';
