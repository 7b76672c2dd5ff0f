/** The edge node's public surface for other folders (tests, bench, the dev server, later the control plane). */
export { EdgeNode, type EdgeNodeOptions } from './src/edge-node.js';
export { loadConfig, CONFIG_ENV, type EdgeConfig, type EdgeConfigInput } from './src/config.js';
export { loadDevKeys, mintJoinToken, mintCommand, DEV_ISSUER, type DevKeys, type MintOptions } from './src/auth/dev-keys.js';
export * as signalling from './protocol/signalling.js';
export * as joinToken from './protocol/join-token.js';
export * as commands from './protocol/commands.js';
export { startSipGateway, SipGateway, type SipGatewayOptions } from './sip/gateway.js';
