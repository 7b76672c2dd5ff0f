/** Control plane configuration: environment variables, validated once at start. */
import { z } from 'zod';
import { Flag, ListenPort, LogLevel, loadEnvConfig } from '../../edge-node/index.js';

const Url = z.string().url();

export const ExternalIdp = z.object({
  /** Short name used in `/auth/login?idp=NAME`. */
  name: z.string().regex(/^[a-z0-9-]{1,32}$/),
  issuer: Url,
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
});
export type ExternalIdp = z.infer<typeof ExternalIdp>;

export const ControlConfig = z.object({
  httpHost: z.string().default('127.0.0.1'),
  httpPort: ListenPort.default(8090),
  /** The URL browsers use to reach the control plane (issuer base, cookie scope, links in invites). */
  publicUrl: Url.default('http://localhost:8090'),
  /** PostgreSQL URL; unset: an embedded PGlite database in `dataDir`. */
  databaseUrl: z.string().optional(),
  /** Where embedded data and generated keys live when no external database is configured. */
  dataDir: z.string().default('.dev/control'),
  /** Cassandra contact points (host:port, comma separated); unset: chat lives in PostgreSQL. */
  cassandraContactPoints: z.string().optional(),
  cassandraLocalDc: z.string().default('datacenter1'),
  cassandraKeyspace: z.string().regex(/^[a-z_][a-z0-9_]{0,47}$/).default('meshmeet'),
  cassandraReplication: z.coerce.number().int().min(1).max(9).default(1),
  /** The edge node participants are sent to (until the mesh issue adds geo routing): its public base URL. */
  edgeNodeUrl: Url.default('http://localhost:8080'),
  /** JSON nodes file (geo/nodes.example.json): several static edge nodes, chosen by GeoIP; overrides edgeNodeUrl. */
  edgeNodesFile: z.string().optional(),
  /** Region assumed for clients whose address has no place (private, loopback, unknown). */
  geoDefaultRegion: z.string().max(64).optional(),
  /** Proxies whose X-Forwarded-For is believed: comma separated IPs and CIDR networks. */
  trustedProxies: z.string().default(''),
  /** External OpenID issuers, as a JSON array of {name, issuer, clientId, clientSecret}. */
  externalIdps: z.array(ExternalIdp).default([]),
  /** Secure cookies; unset: on when the public URL is https. */
  secureCookies: Flag.optional(),
  joinTokenTtlSeconds: z.coerce.number().int().min(30).max(3600).default(300),
  /** Join requests per client IP: a burst, then this many per second. */
  joinRateBurst: z.coerce.number().int().min(1).default(20),
  joinRatePerSecond: z.coerce.number().positive().default(1),
  /** Cluster key file (`meshmeet cluster-key`): with it the control plane joins the edge cluster as a listening member. */
  clusterKey: z.string().optional(),
  /** Seed multiaddrs of cluster members, comma separated (with /p2p/<peer id>). */
  clusterJoin: z.string().optional(),
  /** libp2p listen multiaddrs of the control plane's member, comma separated. */
  clusterListen: z.string().default('/ip4/127.0.0.1/tcp/0'),
  logLevel: LogLevel.default('info'),
  /** TURN servers handed to clients with each join (comma separated turn:/turns: URLs); empty: none. */
  turnUrls: z.string().default(''),
  /** coturn's `static-auth-secret`: credentials are HMACs of it (never sent to clients). */
  turnSecret: z.string().min(16).optional(),
  turnTtlSeconds: z.coerce.number().int().min(60).max(86400).default(4 * 3600),
  /** Shared secret of the SIP gateway for the internal phone API (`Authorization: Bearer`); unset: no phone API. */
  phoneGatewaySecret: z.string().min(16).optional(),
  /** How callers reach the SIP gateway, shown in invites (e.g. `+1 555 0100` or `sip:join@sip.example.com`). */
  dialInNumber: z.string().max(100).optional(),
}).refine((c) => !c.turnUrls || !!c.turnSecret, { path: ['turnSecret'], message: 'TURN_URLS needs TURN_SECRET' });
export type ControlConfig = z.output<typeof ControlConfig>;
export type ControlConfigInput = z.input<typeof ControlConfig>;

const ENV: Record<keyof ControlConfigInput, string> = {
  httpHost: 'CONTROL_HTTP_HOST',
  httpPort: 'CONTROL_HTTP_PORT',
  publicUrl: 'CONTROL_PUBLIC_URL',
  databaseUrl: 'DATABASE_URL',
  dataDir: 'CONTROL_DATA_DIR',
  cassandraContactPoints: 'CASSANDRA_CONTACT_POINTS',
  cassandraLocalDc: 'CASSANDRA_LOCAL_DC',
  cassandraKeyspace: 'CASSANDRA_KEYSPACE',
  cassandraReplication: 'CASSANDRA_REPLICATION',
  edgeNodeUrl: 'EDGE_NODE_URL',
  edgeNodesFile: 'EDGE_NODES_FILE',
  geoDefaultRegion: 'GEO_DEFAULT_REGION',
  trustedProxies: 'TRUSTED_PROXIES',
  externalIdps: 'EXTERNAL_IDPS',
  secureCookies: 'CONTROL_SECURE_COOKIES',
  joinTokenTtlSeconds: 'JOIN_TOKEN_TTL_SECONDS',
  joinRateBurst: 'JOIN_RATE_BURST',
  joinRatePerSecond: 'JOIN_RATE_PER_SECOND',
  clusterKey: 'CLUSTER_KEY',
  clusterJoin: 'CLUSTER_JOIN',
  clusterListen: 'CLUSTER_LISTEN',
  logLevel: 'CONTROL_LOG_LEVEL',
  turnUrls: 'TURN_URLS',
  turnSecret: 'TURN_SECRET',
  turnTtlSeconds: 'TURN_TTL_SECONDS',
  phoneGatewaySecret: 'PHONE_GATEWAY_SECRET',
  dialInNumber: 'DIAL_IN_NUMBER',
};
export const CONTROL_ENV = ENV;

export function loadControlConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<ControlConfigInput> = {}): ControlConfig {
  const c = loadEnvConfig({ what: 'control plane', schema: ControlConfig, vars: ENV, env, overrides, json: ['externalIdps'] });
  // Behind https, cookies are Secure unless explicitly turned off.
  return { ...c, secureCookies: c.secureCookies ?? c.publicUrl.startsWith('https:') };
}
