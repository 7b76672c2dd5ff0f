/**
 * The operator CLI, `meshmeet` (a `bin` in package.json; `npx meshmeet --help`):
 *   meshmeet node start ...    start an edge node and join the cluster (node-start.ts)
 *   meshmeet node drain        tell the node on this machine to drain, and wait until it has left
 *   meshmeet nodes             the cluster's membership view as a table
 *   meshmeet cluster-key FILE  make a new cluster key
 *   meshmeet route <ip>...     where addresses would be sent (geo/)
 */
import { parseArgs } from 'node:util';
import { ClusterKeyError, readClusterKey, writeClusterKey } from '../mesh/cluster-key.js';
import { ClusterView } from '../mesh/cluster-view.js';
import { NodesAnswer, adminAlive, adminRequest, adminSocketPath, runningNodes } from './admin.js';
import { formatNodesTable } from './nodes-table.js';
import { NODE_START_USAGE, parseStartFlags, startNode } from './node-start.js';
import { UsageError, joinNegativeNumbers } from './usage.js';
import type { NodeInfo } from '../../protocol/mesh.js';
import { routeCommand } from '../../../geo/index.js';

const USAGE = `Usage: meshmeet <command> [options]

Commands:
  node start     start an edge node and join it to the cluster (meshmeet node start --help)
  node drain     move the participants of the node on this machine to other nodes, then stop it
  nodes          print the cluster's membership view as a table
  cluster-key    make a new cluster key file (meshmeet cluster-key [FILE], default cluster.key)
  route          for IP addresses: where they are and which node they would go to (meshmeet route --help)

Run \`meshmeet <command> --help\` for a command's options.`;

const DRAIN_USAGE = `Usage: meshmeet node drain [--node ID | --admin-socket PATH] [--timeout SECONDS]

Tells the node running on this machine to drain: it takes no new participants, tells the current ones to move
(their clients reconnect through the control plane to another node, keeping camera and microphone), then exits.
Waits until it has exited.

  --node ID              which node, when several run on this machine
  --admin-socket PATH    the node's admin socket (as given to its start)
  --timeout SECONDS      give up waiting after this long [300]
  -h, --help             this text`;

const NODES_USAGE = `Usage: meshmeet nodes [--node ID | --admin-socket PATH] [--json]
       meshmeet nodes --cluster-key FILE --join MULTIADDR [--json]

Prints the membership view: every live node, its region, state, load and signalling URL. Asks the node running on
this machine; with --cluster-key and --join, joins the cluster as a listener for a few seconds instead.

  --node ID              which local node, when several run on this machine
  --admin-socket PATH    the node's admin socket
  --cluster-key FILE     the cluster key (listen mode)
  --join MULTIADDR       a member to join through (listen mode; repeatable)
  --json                 print JSON instead of a table
  -h, --help             this text`;

const CLUSTER_KEY_USAGE = `Usage: meshmeet cluster-key [FILE]

Writes a new random cluster key (libp2p private network key) to FILE [cluster.key], readable only by you. Give the
same file to every node (--cluster-key) and to the control plane (CLUSTER_KEY). Refuses to overwrite a file.`;

type Out = (text: string) => void;

type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;
type OptionSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

function parse(argv: readonly string[], options: OptionSpec, positionals = false): { values: Flags; positionals: string[] } {
  try {
    const r = parseArgs({ args: joinNegativeNumbers(argv), options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: positionals });
    return { values: r.values as Flags, positionals: r.positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The admin socket of the local node to talk to: the one given, or the only one running. */
async function localSocket(values: { node?: string; 'admin-socket'?: string }): Promise<string> {
  if (values['admin-socket']) return values['admin-socket'];
  if (values.node) {
    const socket = adminSocketPath(values.node);
    if (!(await adminAlive(socket))) throw new Error(`no node ${values.node} runs on this machine (no answer on ${socket})`);
    return socket;
  }
  const running = await runningNodes();
  if (running.length === 1) return running[0]!;
  if (running.length === 0) throw new Error('no meshmeet node runs on this machine (start one with `meshmeet node start`, or use --cluster-key and --join to ask the cluster)');
  throw new UsageError(`several nodes run on this machine; choose one with --node: ${running.map((s) => s.replace(/^.*\//, '').replace(/\.sock$/, '')).join(', ')}`);
}

async function nodeStart(argv: readonly string[], out: Out): Promise<number> {
  const flags = parseStartFlags(argv);
  if (flags === 'help') {
    out(`${NODE_START_USAGE}\n`);
    return 0;
  }
  const running = await startNode(flags);
  out(`meshmeet node ${flags.nodeId} (${flags.region}) is up
  signalling:   ${running.mesh.self()?.signallingUrl ?? running.node.url}
  join address: ${running.mesh.multiaddrs().join(' ')}
  admin socket: ${running.admin.socketPath}
Other nodes join with: meshmeet node start ... --cluster-key <same key file> --join ${running.mesh.multiaddrs()[0] ?? ''}
`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      setTimeout(() => process.exit(1), 10_000).unref();
      void running.stop(`received ${signal}`);
    });
  }
  await running.stopped;
  return 0;
}

async function nodeDrain(argv: readonly string[], out: Out): Promise<number> {
  const { values } = parse(argv, { node: { type: 'string' }, 'admin-socket': { type: 'string' }, timeout: { type: 'string' } });
  if (values.help) {
    out(`${DRAIN_USAGE}\n`);
    return 0;
  }
  const timeoutS = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError('--timeout: expected a positive number of seconds');
  const socket = await localSocket(values as { node?: string; 'admin-socket'?: string });
  const res = await adminRequest(socket, 'POST', '/drain');
  if (res.status !== 202) throw new Error(`the node refused to drain: ${JSON.stringify(res.body)}`);
  out(`draining (${socket}); waiting for the node to exit...\n`);
  const until = Date.now() + timeoutS * 1000;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    if (!(await adminAlive(socket))) {
      out('drained: the node has stopped\n');
      return 0;
    }
  }
  out(`the node is still draining after ${timeoutS} s\n`);
  return 1;
}

/** Joins as a listener until the view stops growing (a few heartbeats), bounded. */
async function listenForNodes(keyFile: string, join: string[]): Promise<NodeInfo[]> {
  const view = await ClusterView.join({ clusterKey: await readClusterKey(keyFile), join, nodeId: `cli-${process.pid}` });
  try {
    const until = Date.now() + 10_000;
    let last = -1;
    let stableSince = Date.now();
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 250));
      const n = view.nodes().length;
      if (n !== last) {
        last = n;
        stableSince = Date.now();
      } else if (n > 0 && Date.now() - stableSince > 2_500) break;
    }
    return view.nodes();
  } finally {
    await view.close();
  }
}

async function nodes(argv: readonly string[], out: Out): Promise<number> {
  const { values } = parse(argv, {
    node: { type: 'string' }, 'admin-socket': { type: 'string' }, 'cluster-key': { type: 'string' },
    join: { type: 'string', multiple: true }, json: { type: 'boolean' },
  });
  if (values.help) {
    out(`${NODES_USAGE}\n`);
    return 0;
  }
  let list: NodeInfo[];
  let selfId: string | undefined;
  if (values['cluster-key']) {
    const join = (values.join as string[] | undefined) ?? [];
    if (join.length === 0) throw new UsageError('--cluster-key needs --join: a member to ask');
    list = await listenForNodes(values['cluster-key'] as string, join);
  } else {
    const res = await adminRequest(await localSocket(values as { node?: string; 'admin-socket'?: string }), 'GET', '/nodes');
    const answer = NodesAnswer.parse(res.body);
    list = [...(answer.self ? [answer.self] : []), ...answer.peers];
    selfId = answer.self?.nodeId;
  }
  out(values.json ? `${JSON.stringify(list, null, 2)}\n` : formatNodesTable(list, Date.now(), selfId));
  return 0;
}

async function clusterKey(argv: readonly string[], out: Out): Promise<number> {
  const { values, positionals } = parse(argv, {}, true);
  if (values.help) {
    out(`${CLUSTER_KEY_USAGE}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('one file at most');
  const file = positionals[0] ?? 'cluster.key';
  try {
    await writeClusterKey(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${file} exists: not overwritten (a cluster's nodes must share one key)`);
    throw err;
  }
  await readClusterKey(file);
  out(`wrote a new cluster key to ${file}: give it to every node (--cluster-key) and to the control plane (CLUSTER_KEY)\n`);
  return 0;
}

/**
 * `meshmeet route`: geo's route command; with a local node running, the cluster's membership view is passed as the
 * node list (--nodes FILE overrides it).
 */
async function route(argv: readonly string[]): Promise<number> {
  let nodes: (() => NodeInfo[]) | undefined;
  const running = await runningNodes();
  if (running.length === 1 && !argv.includes('--nodes')) {
    const answer = NodesAnswer.parse((await adminRequest(running[0]!, 'GET', '/nodes')).body);
    const list = [...(answer.self ? [answer.self] : []), ...answer.peers];
    nodes = () => list;
  }
  return routeCommand(argv, nodes ? { nodes } : {});
}

export async function main(argv: readonly string[], out: Out = (t) => process.stdout.write(t), err: Out = (t) => process.stderr.write(t)): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    if (cmd === 'node' && sub === 'start') return await nodeStart(rest, out);
    if (cmd === 'node' && sub === 'drain') return await nodeDrain(rest, out);
    if (cmd === 'nodes') return await nodes(argv.slice(1), out);
    if (cmd === 'cluster-key') return await clusterKey(argv.slice(1), out);
    if (cmd === 'route') return await route(argv.slice(1));
    if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      out(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command: ${argv.slice(0, cmd === 'node' ? 2 : 1).join(' ')}`);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`meshmeet: ${e.message}\n\n${cmd === 'node' && sub === 'start' ? NODE_START_USAGE : USAGE}\n`);
      return 2;
    }
    err(`meshmeet: ${e instanceof ClusterKeyError ? e.message : (e as Error).message}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.MESHMEET_CLI === '1') {
  process.exitCode = await main(process.argv.slice(2));
}
