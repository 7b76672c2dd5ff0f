/**
 * A local mesh of our edge nodes for the bench, each its own process started as an operator would:
 * `meshmeet node start --region R --lat L --lon L --cluster-key FILE [--join MULTIADDR]` (real GossipMesh, libp2p over
 * TCP on loopback, a cluster key generated for the run), with the EDGE_* variables for the rest. Node i listens for
 * media on its own loopback address (127.0.0.<base+i>) so that a WAN relay can tell the nodes apart; with `relay`,
 * it announces 127.0.1.<base+i> for its pipes (EDGE_PIPE_ANNOUNCED_IP) and `UdpDelayRelay` sits in between.
 *
 * Bots reach every node directly: the fleet's ConnectInfo lists the nodes' signalling URLs (`extra.nodes`) and a
 * join names its node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NodesAnswer, adminRequest, loadDevKeys, writeClusterKey } from '../../../edge-node/index.js';
import { UdpDelayRelay, type RelayNode, type RelayStats } from '../delay-relay.js';
import { cpuSeconds, freePorts, processTree, startProcess, until } from '../system.js';
import { metricSum } from './meshmeet.js';
import type { ConnectInfo, SfuServer } from './types.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const CLI = path.join(ROOT, 'edge-node/bin/meshmeet.js');

export interface MeshNodeSpec {
  id: string;
  region: string;
  lat: number;
  lon: number;
}

const PLACES: Omit<MeshNodeSpec, 'id'>[] = [
  { region: 'eu-west', lat: 53.3, lon: -6.3 },
  { region: 'us-east', lat: 39.0, lon: -77.5 },
  { region: 'ap-south', lat: 19.1, lon: 72.9 },
  { region: 'us-west', lat: 45.6, lon: -121.2 },
  { region: 'sa-east', lat: -23.5, lon: -46.6 },
  { region: 'ap-northeast', lat: 35.7, lon: 139.7 },
  { region: 'eu-central', lat: 50.1, lon: 8.7 },
  { region: 'af-south', lat: -33.9, lon: 18.4 },
];

/** `n` nodes a, b, c, ... in different regions. */
export function meshNodes(n: number): MeshNodeSpec[] {
  if (!Number.isInteger(n) || n < 1 || n > PLACES.length) throw new Error(`a local mesh has 1..${PLACES.length} nodes`);
  return PLACES.slice(0, n).map((p, i) => ({ id: String.fromCharCode(97 + i), ...p }));
}

export interface MeshOptions {
  workDir: string;
  nodes: MeshNodeSpec[];
  workers?: number;
  workerBin?: string;
  /** One-way delay between two nodes (ms): with it, pipes go through a UDP delay relay. */
  delayMs?: (from: string, to: string) => number;
  /** Pipe ports per node (the relay binds each of them). */
  pipePorts?: number;
  /** Last byte of node 0's loopback address (127.0.0.<n>); the next nodes count up. Default: from the bench's pid
   *  (11..247), so that two runs on one machine (whose port checks look at 127.0.0.1 only) do not meet. */
  addressBase?: number;
  log?: (line: string) => void;
}

export interface RunningMeshNode extends MeshNodeSpec {
  /** Signalling base URL (ws://). */
  url: string;
  httpUrl: string;
  multiaddr: string;
  pid: number;
  realIp: string;
  relayIp: string | null;
}

export interface LocalMesh {
  nodes: RunningMeshNode[];
  /** For a fleet: joins name their node (`JoinOptions.node`); without one they go to the first node. */
  connect: ConnectInfo;
  relay: UdpDelayRelay | null;
  /** The whole mesh as one SFU for a Sampler (CPU of every node's processes). */
  sfu: SfuServer;
  /** CPU seconds of one node's processes (Node.js process and its mediasoup workers). */
  nodeCpuSeconds(id: string): number;
  /** Bytes through the node's live pipe transports (edge_pipe_bytes on its /metrics). */
  pipeBytes(id: string): Promise<{ out: number; in: number } | null>;
  relayStats(): RelayStats | null;
  stop(): Promise<void>;
}

/** Starts the nodes one after another (each later one joins the first), then waits until every node sees all. */
export async function startMesh(o: MeshOptions): Promise<LocalMesh> {
  const keys = await loadDevKeys(path.join(o.workDir, 'keys'));
  const keyFile = path.join(o.workDir, 'cluster.key');
  if (!fs.existsSync(keyFile)) await writeClusterKey(keyFile);
  const base = o.addressBase ?? 11 + (process.pid % 30) * 8;
  const pipePorts = o.pipePorts ?? 20;
  const workers = o.workers ?? 1;
  const procs: ReturnType<typeof startProcess>[] = [];
  const nodes: RunningMeshNode[] = [];
  const relayNodes: RelayNode[] = [];
  let relay: UdpDelayRelay | null = null;
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop()));
    relay?.close();
  };
  try {
    for (const [i, spec] of o.nodes.entries()) {
      if (base + i > 254) throw new Error('too many nodes for the loopback addresses');
      const realIp = `127.0.0.${base + i}`;
      const relayIp = o.delayMs ? `127.0.1.${base + i}` : null;
      const httpPort = await freePorts('http', 1);
      const p2pPort = await freePorts('media', 1, false);
      const rtcPort = await freePorts('media', workers);
      const pipeMin = await freePorts('media', pipePorts);
      relayNodes.push({ id: spec.id, realIp, relayIp: relayIp ?? '', minPort: pipeMin, maxPort: pipeMin + pipePorts - 1 });
      const logFile = path.join(o.workDir, `node-${spec.id}.log`);
      const args = [
        CLI, 'node', 'start', '--region', spec.region, '--lat', String(spec.lat), '--lon', String(spec.lon), '--cluster-key', keyFile,
        '--jwks', keys.jwksPath, '--node-id', spec.id, '--http-port', String(httpPort), '--p2p-port', String(p2pPort),
        '--rtc-port', String(rtcPort), '--workers', String(workers), '--admin-socket', path.join(o.workDir, `${spec.id}.sock`),
        '--log-level', 'warn', ...(nodes[0] ? ['--join', nodes[0].multiaddr] : []),
      ];
      const env = {
        ...process.env, EDGE_RTC_LISTEN_IP: realIp, EDGE_PIPE_MIN_PORT: String(pipeMin), EDGE_PIPE_MAX_PORT: String(pipeMin + pipePorts - 1),
        ...(relayIp ? { EDGE_PIPE_ANNOUNCED_IP: relayIp } : {}),
        ...(o.workerBin ? { MEDIASOUP_WORKER_BIN: o.workerBin } : {}),
      };
      const proc = startProcess(process.execPath, args, { env, cwd: ROOT, logFile });
      procs.push(proc);
      const up = await until(`node ${spec.id} to start`, () => {
        if (proc.child.exitCode !== null) throw new Error(`node ${spec.id} exited (${proc.child.exitCode}); see ${logFile}: ${fs.readFileSync(logFile, 'utf8').slice(-1500)}`);
        const text = fs.readFileSync(logFile, 'utf8');
        const sig = text.match(/^\s*signalling:\s+(\S+)/m)?.[1];
        const join = text.match(/^\s*join address:\s+(\S+)/m)?.[1];
        return sig && join ? { sig, join } : null;
      }, 180_000, 100);
      const httpUrl = `http://127.0.0.1:${httpPort}`;
      nodes.push({ ...spec, url: httpUrl.replace(/^http/, 'ws'), httpUrl, multiaddr: up.join, pid: proc.child.pid!, realIp, relayIp });
      o.log?.(`node ${spec.id} (${spec.region}) up: signalling ${httpUrl}, media ${realIp}:${rtcPort}, pipes ${relayIp ?? realIp}:${pipeMin}-${pipeMin + pipePorts - 1}`);
    }
    if (o.delayMs) relay = await UdpDelayRelay.start(relayNodes, o.delayMs);
    // Every node lists every other in its membership view (its admin socket, as `meshmeet nodes` asks it).
    for (const n of nodes) {
      await until(`node ${n.id} to see all ${nodes.length} nodes`, () => viewOf(o.workDir, n.id).then((ids) => nodes.every((m) => ids.includes(m.id))), 120_000, 500);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const seen = new Map<number, number>();
  const cpuOf = (pid: number): number => {
    let s = 0;
    for (const p of processTree(pid)) {
      seen.set(p, Math.max(seen.get(p) ?? 0, cpuSeconds(p)));
      s += seen.get(p)!;
    }
    return s;
  };
  const connect: ConnectInfo = {
    kind: 'meshmeet', url: nodes[0]!.url,
    extra: { keysDir: path.join(o.workDir, 'keys'), nodes: Object.fromEntries(nodes.map((n) => [n.id, n.url])) },
  };
  return {
    nodes, connect, relay,
    sfu: {
      kind: 'meshmeet', connect,
      pids: () => nodes.flatMap((n) => processTree(n.pid)),
      mediaCpuSeconds: async () => {
        const all = await Promise.all(nodes.map((n) => metricSum(n.httpUrl, 'edge_worker_cpu_seconds')));
        return all.every((x) => x !== null) ? all.reduce((a, b) => a! + b!, 0) : null;
      },
      prepareRoom: async () => undefined,
      describe: () => ({
        server: `meshmeet mesh of ${nodes.length} edge nodes (mediasoup 3.12.16), each started by \`meshmeet node start\``,
        workersPerNode: workers, nodes: nodes.map((n) => ({ id: n.id, region: n.region, lat: n.lat, lon: n.lon, realIp: n.realIp, pipeAnnouncedIp: n.relayIp ?? n.realIp })),
        workerBin: o.workerBin ?? process.env.MEDIASOUP_WORKER_BIN ?? 'default cache',
      }),
      stop,
    },
    nodeCpuSeconds: (id) => cpuOf(nodes.find((n) => n.id === id)!.pid),
    pipeBytes: async (id) => {
      const url = nodes.find((n) => n.id === id)!.httpUrl;
      const [out, inn] = await Promise.all([metricSum(url, 'edge_pipe_bytes', 'direction="out"'), metricSum(url, 'edge_pipe_bytes', 'direction="in"')]);
      return out === null || inn === null ? null : { out, in: inn };
    },
    relayStats: () => relay?.stats() ?? null,
    stop,
  };
}

/** The node ids in a node's membership view, asked on its admin socket (what `meshmeet nodes` asks). */
async function viewOf(workDir: string, id: string): Promise<string[]> {
  try {
    const res = await adminRequest(path.join(workDir, `${id}.sock`), 'GET', '/nodes');
    const answer = NodesAnswer.parse(res.body);
    return [...(answer.self ? [answer.self] : []), ...answer.peers].map((n) => n.nodeId);
  } catch {
    return [];
  }
}
