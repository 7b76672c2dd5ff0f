/** Edge node configuration: from environment variables, validated once at start. */
import os from 'node:os';
import { z } from 'zod';
import { Flag, ListenPort, LogLevel, loadEnvConfig } from './env-config.js';

const Port = z.coerce.number().int().min(1).max(65535);

export const EdgeConfig = z
  .object({
    /** Stable node id (gossip and logs); defaults to the host name. */
    nodeId: z.string().min(1).max(64).default(os.hostname()),
    /** Interface the HTTP and WebSocket server listens on. */
    httpHost: z.string().default('127.0.0.1'),
    httpPort: ListenPort.default(8080),
    /** Number of mediasoup workers; 0 means one per core. */
    workers: z.coerce.number().int().min(0).max(64).default(0),
    /** Interface the media (WebRtcServer) sockets bind to. */
    rtcListenIp: z.string().default('127.0.0.1'),
    /** Address announced to clients in ICE candidates (the public IP behind NAT); defaults to rtcListenIp. */
    rtcAnnouncedIp: z.string().optional(),
    /** First media port: worker i listens on UDP and TCP port rtcBasePort + i. */
    rtcBasePort: Port.default(40000),
    /** Offer UDP media candidates (off: ICE over TCP only, e.g. where the network drops UDP). */
    rtcUdp: Flag.default(true),
    /** JWKS of the join-token issuer: a file path or an http(s) URL. */
    jwks: z.string().min(1),
    /** Expected `iss` of join tokens; unset accepts any issuer whose key is in the JWKS. */
    tokenIssuer: z.string().optional(),
    /** Folder with the built web client to serve at `/`; unset serves none. */
    webRoot: z.string().optional(),
    logLevel: LogLevel.default('info'),
    /** Outgoing bitrate cap per WebRTC transport (bps). */
    maxIncomingBitrate: z.coerce.number().int().min(100_000).default(3_000_000),
    initialAvailableOutgoingBitrate: z.coerce.number().int().min(100_000).default(1_000_000),
    /** Port range of pipe transports (node to node, worker to worker): kept apart from the WebRtcServer ports. */
    pipeMinPort: Port.optional(),
    pipeMaxPort: Port.optional(),
    /** Address announced to other nodes for pipe transports (e.g. a private network between nodes); defaults to rtcAnnouncedIp. */
    pipeAnnouncedIp: z.string().min(1).optional(),
    /** Where this node is, for routing (heartbeats). */
    region: z.string().min(1).max(64).default('local'),
    latitude: z.coerce.number().min(-90).max(90).default(0),
    longitude: z.coerce.number().min(-180).max(180).default(0),
    /** Participants this node takes before it redirects joiners elsewhere. */
    capacity: z.coerce.number().int().min(1).default(500),
    /** The node's public base URL (signalling at <url>/ws/...); defaults to the bound HTTP address. */
    publicUrl: z.url().optional(),
    /** A pipe from another node that nobody here consumes closes after this long (ms). */
    pipeIdleMs: z.coerce.number().int().min(0).default(5000),
    /** Participants on one router (one worker) before a meeting spreads to another worker (pipeToRouter). */
    routerParticipants: z.coerce.number().int().min(1).default(100),
    /** How long drain() waits for participants to move before it stops the node (ms). */
    drainTimeoutMs: z.coerce.number().int().min(0).default(30_000),
  })
  .transform((c) => ({
    ...c,
    workers: c.workers === 0 ? Math.max(1, os.availableParallelism()) : c.workers,
    rtcAnnouncedIp: c.rtcAnnouncedIp ?? c.rtcListenIp,
    pipeAnnouncedIp: c.pipeAnnouncedIp ?? c.rtcAnnouncedIp ?? c.rtcListenIp,
    // By default pipes take ports 1000 to 1999 above the WebRtcServer base, never one of the workers' own ports.
    pipeMinPort: c.pipeMinPort ?? Math.min(65535, c.rtcBasePort + 1000),
    pipeMaxPort: c.pipeMaxPort ?? Math.min(65535, c.rtcBasePort + 1999),
  }))
  .refine((c) => c.pipeMinPort <= c.pipeMaxPort, { message: 'pipeMinPort must not exceed pipeMaxPort' })
  .refine((c) => c.pipeMaxPort < c.rtcBasePort || c.pipeMinPort >= c.rtcBasePort + c.workers, {
    message: 'the pipe port range overlaps the WebRtcServer ports (rtcBasePort + worker index)',
  });
export type EdgeConfig = z.output<typeof EdgeConfig>;
export type EdgeConfigInput = z.input<typeof EdgeConfig>;

/** Environment variable for each setting. */
const ENV: Record<keyof EdgeConfigInput, string> = {
  nodeId: 'EDGE_NODE_ID',
  httpHost: 'EDGE_HTTP_HOST',
  httpPort: 'EDGE_HTTP_PORT',
  workers: 'EDGE_WORKERS',
  rtcListenIp: 'EDGE_RTC_LISTEN_IP',
  rtcAnnouncedIp: 'EDGE_RTC_ANNOUNCED_IP',
  rtcBasePort: 'EDGE_RTC_BASE_PORT',
  rtcUdp: 'EDGE_RTC_UDP',
  jwks: 'EDGE_JWKS',
  tokenIssuer: 'EDGE_TOKEN_ISSUER',
  webRoot: 'EDGE_WEB_ROOT',
  logLevel: 'EDGE_LOG_LEVEL',
  maxIncomingBitrate: 'EDGE_MAX_INCOMING_BITRATE',
  initialAvailableOutgoingBitrate: 'EDGE_INITIAL_OUTGOING_BITRATE',
  pipeMinPort: 'EDGE_PIPE_MIN_PORT',
  pipeMaxPort: 'EDGE_PIPE_MAX_PORT',
  pipeAnnouncedIp: 'EDGE_PIPE_ANNOUNCED_IP',
  region: 'EDGE_REGION',
  latitude: 'EDGE_LATITUDE',
  longitude: 'EDGE_LONGITUDE',
  capacity: 'EDGE_CAPACITY',
  publicUrl: 'EDGE_PUBLIC_URL',
  pipeIdleMs: 'EDGE_PIPE_IDLE_MS',
  drainTimeoutMs: 'EDGE_DRAIN_TIMEOUT_MS',
  routerParticipants: 'EDGE_ROUTER_PARTICIPANTS',
};
export const CONFIG_ENV = ENV;

/** Reads the configuration from `env`, with `overrides` winning; throws one readable error naming bad variables. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<EdgeConfigInput> = {}): EdgeConfig {
  return loadEnvConfig({ what: 'edge node', schema: EdgeConfig, vars: ENV, env, overrides });
}
