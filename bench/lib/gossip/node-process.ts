/**
 * A gossip node process: hosts several real `GossipMesh` nodes (libp2p over TCP on loopback, cluster key, signed
 * gossipsub), driven by the gossip bench over IPC. Reports when its nodes see a watched node come up or go down (with
 * the time each observer saw it), the size of every view, and its counters: records and payload bytes per topic,
 * socket bytes, CPU, event loop delay. Exits on `stop` or when the bench goes away.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GossipMesh, mesh as meshProtocol } from '../../../edge-node/index.js';
import { benchNodeDescription } from './describe.js';
import type { FromNodes, NodesStats, ToNodes } from './protocol.js';

const key = Buffer.from(process.env.BENCH_CLUSTER_KEY ?? '', 'base64');
const TOPIC_NAMES = new Map<string, string>(Object.entries(meshProtocol.TOPICS).map(([k, v]) => [v, k]));
const meshes: GossipMesh[] = [];
const watched = new Set<string>();
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

interface Counters { msgs: Record<string, number>; bytes: Record<string, number> }
const counters = new Map<GossipMesh, Counters>();
let base = { cpu: process.cpuUsage(), io: socketIo(), msgs: {} as Record<string, number>, bytes: {} as Record<string, number>, dropped: {} as Record<string, number>, published: 0 };

const send = (m: FromNodes): void => {
  process.send?.(m);
};

/** Bytes read and written through read/write system calls (sockets, and the IPC pipe: small), or null off Linux. */
function socketIo(): { read: number; wrote: number } | null {
  try {
    const io = fs.readFileSync('/proc/self/io', 'utf8');
    const get = (k: string) => Number(io.match(new RegExp(`^${k}: (\\d+)`, 'm'))?.[1] ?? NaN);
    return { read: get('rchar'), wrote: get('wchar') };
  } catch {
    return null;
  }
}

function add(into: Record<string, number>, from: Record<string, number>, sign = 1): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + sign * v;
}

function totals() {
  const msgs: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  const dropped: Record<string, number> = {};
  let published = 0;
  for (const m of meshes) {
    const c = counters.get(m)!;
    add(msgs, c.msgs);
    add(bytes, c.bytes);
    const s = m.stats();
    add(dropped, s.dropped);
    published += s.published;
  }
  return { msgs, bytes, dropped, published };
}

/**
 * Every copy of a gossip message that reaches the node (a record arrives once from each mesh peer that forwards it),
 * and how many gossipsub found to be duplicates: counted around gossipsub's own check (an internal method; when a
 * gossipsub version has none, the counts stay absent).
 */
function countCopies(m: GossipMesh, c: Counters): void {
  const pubsub = m.libp2p.services.pubsub as unknown as { validateReceivedMessage?: (...a: unknown[]) => Promise<{ code: string }> };
  const inner = pubsub.validateReceivedMessage;
  if (typeof inner !== 'function') return;
  pubsub.validateReceivedMessage = async (...args: unknown[]) => {
    const r = await inner.apply(pubsub, args);
    c.msgs['(copies)'] = (c.msgs['(copies)'] ?? 0) + 1;
    if (r.code === 'duplicate') c.msgs['(duplicates)'] = (c.msgs['(duplicates)'] ?? 0) + 1;
    return r;
  };
}

async function startNode(nodeId: string, seeds: string[]): Promise<GossipMesh> {
  const m = await GossipMesh.start({
    clusterKey: key, nodeId, describe: () => benchNodeDescription(nodeId), join: seeds,
    ...(process.env.BENCH_FAST_DUPLICATES === '0' ? { fastDuplicates: false } : {}),
  });
  const c: Counters = { msgs: {}, bytes: {} };
  counters.set(m, c);
  countCopies(m, c);
  m.libp2p.services.pubsub.addEventListener('message', (evt) => {
    const topic = TOPIC_NAMES.get(evt.detail.topic) ?? evt.detail.topic;
    c.msgs[topic] = (c.msgs[topic] ?? 0) + 1;
    c.bytes[topic] = (c.bytes[topic] ?? 0) + evt.detail.data.length;
  });
  m.on('nodeUp', (info) => {
    if (watched.has(info.nodeId)) send({ ev: 'up', observer: nodeId, nodeId: info.nodeId, at: Date.now() });
  });
  m.on('nodeDown', (id) => {
    if (watched.has(id)) send({ ev: 'down', observer: nodeId, nodeId: id, at: Date.now() });
  });
  meshes.push(m);
  return m;
}

async function handle(msg: ToNodes): Promise<void> {
  switch (msg.cmd) {
    case 'start': {
      const addrs: Record<string, string> = {};
      const failed: Record<string, string> = {};
      await Promise.all(msg.ids.map(async (nodeId, i) => {
        try {
          const m = await startNode(nodeId, msg.seeds[i] ?? []);
          addrs[nodeId] = m.multiaddrs()[0]!;
        } catch (err) {
          failed[nodeId] = (err as Error).message;
        }
      }));
      return send({ ev: 'started', addrs, failed });
    }
    case 'watch':
      watched.add(msg.nodeId);
      return;
    case 'views':
      return send({ ev: 'views', counts: Object.fromEntries(meshes.map((m) => [m.nodeId, m.peers().length])) });
    case 'stats': {
      const cpu = process.cpuUsage(base.cpu);
      const io = socketIo();
      const now = totals();
      const delta = (a: Record<string, number>, b: Record<string, number>) => {
        const out = { ...a };
        add(out, b, -1);
        return out;
      };
      const stats: NodesStats = {
        nodes: meshes.length,
        cpuMs: (cpu.user + cpu.system) / 1000,
        receivedByTopic: delta(now.msgs, base.msgs),
        receivedBytesByTopic: delta(now.bytes, base.bytes),
        dropped: delta(now.dropped, base.dropped),
        published: now.published - base.published,
        wroteBytes: io && base.io ? io.wrote - base.io.wrote : null,
        readBytes: io && base.io ? io.read - base.io.read : null,
        connections: meshes.reduce((a, m) => a + m.libp2p.getConnections().length, 0),
        eventLoopP99Ms: loop.percentile(99) / 1e6,
        rssMiB: process.memoryUsage().rss / 2 ** 20,
      };
      if (msg.reset) {
        base = { cpu: process.cpuUsage(), io, ...now };
        loop.reset();
      }
      return send({ ev: 'stats', ...stats });
    }
    case 'stop':
      await Promise.race([Promise.all(meshes.map((m) => m.stop())), new Promise((r) => setTimeout(r, 10_000))]);
      send({ ev: 'stopped' });
      process.exit(0);
  }
}

process.on('message', (m: ToNodes) => {
  handle(m).catch((err: Error) => send({ ev: 'error', message: err.message }));
});
process.on('disconnect', () => process.exit(0));
send({ ev: 'ready' });
