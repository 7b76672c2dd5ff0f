/** The edge node's public surface for other folders (tests, bench, the dev server, later the control plane). */
export { EdgeNode, type EdgeNodeOptions } from './src/edge-node.js';
export { loadConfig, CONFIG_ENV, type EdgeConfig, type EdgeConfigInput } from './src/config.js';
export { Flag, ListenPort, LogLevel, loadEnvConfig, type EnvConfigSource } from './src/env-config.js';
export { loadDevKeys, mintJoinToken, mintCommand, DEV_ISSUER, type DevKeys, type MintOptions } from './src/auth/dev-keys.js';
export { RevocationStore, revocationWindow, type RevocationRecord, type Refusal } from './src/auth/revocations.js';
export * as signalling from './protocol/signalling.js';
export * as joinToken from './protocol/join-token.js';
export * as commands from './protocol/commands.js';
export { loadMediasoup } from './src/worker-bin.js';
export * as mesh from './protocol/mesh.js';
export type { MeshLink, MeshLinkEvents, LocalShard, SelfDescription } from './src/mesh/link.js';
export { GossipMesh, PipeRequestError, type GossipMeshOptions } from './src/mesh/gossip-mesh.js';
export { ClusterView, type ClusterViewEvents, type ClusterViewOptions, type ClusterViewStats } from './src/mesh/cluster-view.js';
export { ClusterKeyError, generateClusterKey, parseClusterKey, readClusterKey, writeClusterKey } from './src/mesh/cluster-key.js';
export { startNode, type RunningNode, type StartFlags } from './src/cli/node-start.js';
export { startSipGateway, SipGateway, type SipGatewayOptions } from './sip/gateway.js';
export { adminRequest, NodesAnswer } from './src/cli/admin.js';
