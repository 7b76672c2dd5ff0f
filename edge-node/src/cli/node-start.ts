/**
 * `meshmeet node start`: one command starts an edge node and joins it to the cluster. Flags for what an operator
 * must say (where the node is, the cluster key, a seed to join); EDGE_* environment variables (README) for the rest.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { loadConfig, type EdgeConfigInput } from '../config.js';
import { EdgeNode, type EdgeNodeOptions } from '../edge-node.js';
import { readClusterKey } from '../mesh/cluster-key.js';
import { GossipMesh } from '../mesh/gossip-mesh.js';
import { AdminServer, adminSocketPath } from './admin.js';
import { SipChild } from './sip-child.js';
import { UsageError, joinNegativeNumbers } from './usage.js';

export const NODE_START_USAGE = `Usage: meshmeet node start --region NAME --lat DEG --lon DEG --cluster-key FILE [--join MULTIADDR]... [options]

Starts an edge node (mediasoup SFU + signalling) and joins it to the cluster by gossip.

Required:
  --region NAME          region name shown to operators and used by routing (e.g. eu-west)
  --lat DEG, --lon DEG   where the node is (latitude -90..90, longitude -180..180): clients go to the nearest node
  --cluster-key FILE     the cluster's private network key (make one with \`meshmeet cluster-key\`); nodes without it
                         cannot connect
  --jwks URL|FILE        the control plane's JWKS (<control URL>/.well-known/jwks.json), to verify join tokens and
                         host commands; or EDGE_JWKS

Joining:
  --join MULTIADDR       a running member's address, as printed by its start (/ip4/.../tcp/.../p2p/...); repeatable;
                         none for the first node of a cluster. The rest of the cluster is found through gossip.

Options (defaults in brackets):
  --node-id ID           stable node id [the host name]
  --public-ip IP         the address clients and other nodes reach this node on; the node then listens on all
                         interfaces. Without it, everything listens on 127.0.0.1 (a trial on one machine)
  --public-url URL       the signalling base URL browsers use [http://<public ip or 127.0.0.1>:<http port>]
  --http-port N          HTTP: signalling WebSocket, /healthz, /metrics, the web client [8080]
  --p2p-port N           libp2p TCP port for gossip and pipe requests [9000]
  --rtc-port N           first media port: worker i takes UDP and TCP port N+i [40000]
  --workers N            mediasoup workers [one per core]
  --capacity N           participants this node takes before routing sends new ones elsewhere [500]
  --web-root DIR         serve the built web client from DIR [none]
  --admin-socket PATH    local admin socket used by \`meshmeet nodes\` and \`meshmeet node drain\`
                         [${adminSocketPath('<node-id>')}]
  --sip                  also run this region's SIP gateway (phone dial-in) as a child process of its own,
                         configured by SIP_CONTROL_URL, PHONE_GATEWAY_SECRET and the other SIP_* variables (README)
  --log-level LEVEL      fatal|error|warn|info|debug|trace|silent [info]
  -h, --help             this text

Stop with SIGTERM or Ctrl+C; drain (move participants away, then exit) with \`meshmeet node drain\`.`;

export interface StartFlags {
  region: string;
  latitude: number;
  longitude: number;
  clusterKeyFile: string;
  join: string[];
  nodeId: string;
  publicIp?: string;
  publicUrl?: string;
  httpPort: number;
  p2pPort: number;
  capacity: number;
  adminSocket?: string;
  /** Run the SIP gateway beside the node (a child process). */
  sip?: boolean;
  config: Partial<EdgeConfigInput>;
}

function num(name: string, v: string | undefined, min: number, max: number, integer = false): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`);
  }
  return n;
}

export function parseStartFlags(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): StartFlags | 'help' {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: joinNegativeNumbers(argv),
      strict: true,
      options: {
        region: { type: 'string' }, lat: { type: 'string' }, lon: { type: 'string' }, 'cluster-key': { type: 'string' },
        join: { type: 'string', multiple: true }, 'node-id': { type: 'string' }, 'public-ip': { type: 'string' },
        'public-url': { type: 'string' }, 'http-port': { type: 'string' }, 'p2p-port': { type: 'string' },
        'rtc-port': { type: 'string' }, workers: { type: 'string' }, capacity: { type: 'string' }, jwks: { type: 'string' },
        'web-root': { type: 'string' }, 'admin-socket': { type: 'string' }, 'log-level': { type: 'string' },
        sip: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return 'help';
  const str = (k: string) => values[k] as string | undefined;
  for (const k of ['region', 'lat', 'lon', 'cluster-key']) if (!str(k)) throw new UsageError(`--${k} is required`);
  const jwks = str('jwks') ?? env.EDGE_JWKS;
  if (!jwks) throw new UsageError('--jwks (or EDGE_JWKS) is required: the control plane\'s JWKS URL or file');
  const publicIp = str('public-ip');
  const httpPort = str('http-port') ? num('http-port', str('http-port'), 0, 65535, true) : 8080;
  const config: Partial<EdgeConfigInput> = { jwks, httpPort };
  if (publicIp) Object.assign(config, { httpHost: '0.0.0.0', rtcListenIp: '0.0.0.0', rtcAnnouncedIp: publicIp });
  if (str('rtc-port')) config.rtcBasePort = num('rtc-port', str('rtc-port'), 1, 65535, true);
  if (str('workers')) config.workers = num('workers', str('workers'), 1, 64, true);
  if (str('web-root')) config.webRoot = str('web-root');
  if (str('log-level')) config.logLevel = str('log-level') as EdgeConfigInput['logLevel'];
  const nodeId = str('node-id') ?? env.EDGE_NODE_ID ?? os.hostname();
  config.nodeId = nodeId;
  const publicUrl = str('public-url');
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) throw new UsageError(`--public-url: expected an http(s) URL, got ${publicUrl}`);
  return {
    region: str('region')!,
    latitude: num('lat', str('lat'), -90, 90),
    longitude: num('lon', str('lon'), -180, 180),
    clusterKeyFile: str('cluster-key')!,
    join: (values.join as string[] | undefined) ?? [],
    nodeId,
    ...(publicIp ? { publicIp } : {}),
    ...(publicUrl ? { publicUrl: publicUrl.replace(/\/$/, '') } : {}),
    httpPort,
    p2pPort: str('p2p-port') ? num('p2p-port', str('p2p-port'), 0, 65535, true) : 9000,
    capacity: str('capacity') ? num('capacity', str('capacity'), 1, 1_000_000, true) : 500,
    ...(str('admin-socket') ? { adminSocket: str('admin-socket') } : {}),
    ...(values.sip ? { sip: true } : {}),
    config,
  };
}

export interface RunningNode {
  node: EdgeNode;
  mesh: GossipMesh;
  /** The SIP gateway child (`--sip`), or null. */
  sip: SipChild | null;
  admin: AdminServer;
  /** Resolves when the node has stopped (drained, or a signal). */
  stopped: Promise<void>;
  stop(reason: string): Promise<void>;
}

export interface StartExtras {
  logger?: Logger;
  /** Extra HTTP routes on the node (the dev server's). */
  routes?: EdgeNodeOptions['routes'];
}

/** Starts the node, its mesh and its admin socket. */
export async function startNode(flags: StartFlags, env: NodeJS.ProcessEnv = process.env, extras: StartExtras = {}): Promise<RunningNode> {
  const { logger, routes } = extras;
  const clusterKey = await readClusterKey(flags.clusterKeyFile);
  // What the operator said on the command line goes into the node's own configuration: it describes itself from it.
  const publicUrl = flags.publicUrl ?? (flags.publicIp && flags.httpPort ? `http://${flags.publicIp}:${flags.httpPort}` : undefined);
  const config = loadConfig(env, {
    ...flags.config, region: flags.region, latitude: flags.latitude, longitude: flags.longitude, capacity: flags.capacity,
    ...(publicUrl ? { publicUrl } : {}),
  });
  const listenIp = flags.publicIp ? '0.0.0.0' : '127.0.0.1';
  const mesh = await GossipMesh.start({
    clusterKey,
    nodeId: flags.nodeId,
    listen: [`/ip4/${listenIp}/tcp/${flags.p2pPort}`],
    ...(flags.publicIp ? { announce: [`/ip4/${flags.publicIp}/tcp/${flags.p2pPort}`] } : {}),
    join: flags.join,
    ...(logger ? { logger } : {}),
  });
  let draining = false;
  const node = new EdgeNode({ config, mesh, ...(logger ? { logger } : {}), ...(routes ? { routes } : {}) });
  try {
    await node.start();
  } catch (err) {
    await mesh.stop();
    throw err;
  }
  mesh.describeWith(() => node.describe());
  let sip: SipChild | null = null;
  if (flags.sip) {
    sip = new SipChild(env, node.log.child({ service: 'sip-gateway' }));
    sip.start();
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | null = null;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      await sip?.stop().catch((err) => node.log.error({ err }, 'SIP gateway stop failed'));
      await node.stop(reason).catch((err) => node.log.error({ err }, 'node stop failed'));
      await mesh.stop().catch(() => undefined);
      await admin.close().catch(() => undefined);
      resolveStopped();
    })();
    return stopping;
  };
  const admin = await AdminServer.listen(flags.adminSocket ?? adminSocketPath(flags.nodeId), {
    nodes: () => ({ self: mesh.self() ?? null, peers: mesh.peers() }),
    drain: () => {
      if (draining) return;
      draining = true;
      node.log.info('draining');
      void (async () => {
        await node.drain().catch((err) => node.log.error({ err }, 'drain failed'));
        await stop('drained');
      })();
    },
  });
  return { node, mesh, admin, sip, stopped, stop };
}
