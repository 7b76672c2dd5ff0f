/**
 * The mesh's media side, on this machine, over the real mesh (GossipMesh: libp2p over TCP on loopback):
 * 1. Failover: a participant (real Chromium, camera and mic) on node C, watched by a participant on node A. C is
 *    killed with SIGKILL; the time until the watcher decodes the participant's video again (it reconnected to A,
 *    republished, the new producer reached the watcher). Repeated `--kills` times, a fresh node C each time.
 * 2. Pipe bytes: a sender (Chromium) on node A; subscribers on node B grow 1 -> 20; bytes per second through A's pipe
 *    transport to B at each step (must stay flat: one pipe consumer per producer, whatever the subscribers). The
 *    subscribers are signalling clients that consume (real consumers on B's router); they do not open DTLS, so
 *    B's own WebRTC output is not part of this measure.
 *
 *   npm run bench:mesh -- [--kills 3] [--window 5] [--out bench/results/mesh.json]
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { mintJoinToken } from '../edge-node/index.js';
import { generateClusterKey } from '../edge-node/src/mesh/cluster-key.js';
import { launchBrowser } from './lib/browser.js';
import { ROOT, waitFor } from '../tests/helpers/edge.js';
import { spawnMeshEdge, startMeshEdge, type ChildEdge } from '../tests/helpers/mesh-edge.js';
import { joinAs } from '../tests/helpers/ws-client.js';
import { buildWeb } from '../web/build.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '3' },
    window: { type: 'string', default: '5' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/mesh.json') },
  },
});
const kills = Number(values.kills);
const windowS = Number(values.window);
if (!Number.isInteger(kills) || kills < 1 || kills > 20) throw new Error('--kills must be 1..20');
if (!(windowS >= 1 && windowS <= 60)) throw new Error('--window must be 1..60 seconds');

const MEETING = 'bench-mesh';
const key = generateClusterKey();
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-bench-mesh-'));
const keyFile = path.join(dir, 'cluster.key');
await fs.writeFile(keyFile, key);

await buildWeb();
const a = await startMeshEdge({ nodeId: 'node-a', clusterKey: key });
const b = await startMeshEdge({ nodeId: 'node-b', clusterKey: key, join: a.gossip.multiaddrs(), keys: a.keys });
const browser = await launchBrowser();
const children: ChildEdge[] = [];
const token = (participantId: string) => mintJoinToken(a.keys, { meetingId: MEETING, participantId, name: participantId });

async function open(participantId: string, nodeUrl: string, others: string[], media = true): Promise<Page> {
  const page = await browser.context.newPage();
  const ws = (u: string) => u.replace(/^http/, 'ws');
  const nodes = others.map(ws).join(',');
  await page.goto(`${nodeUrl}/?meeting=${MEETING}${media ? '' : '&media=none'}#token=${await token(participantId)}&node=${encodeURIComponent(ws(nodeUrl))}${nodes ? `&nodes=${encodeURIComponent(nodes)}` : ''}`);
  await page.evaluate(() => window.meshmeet.joined);
  return page;
}

/** The viewer's camera consumers of `from`: id and frames decoded (a move to another node makes a new consumer). */
async function cameraConsumers(viewer: Page, from: string): Promise<Array<{ consumerId: string; framesDecoded: number }>> {
  return viewer.evaluate(async (id) => {
    const c = window.meshmeet.client();
    if (!c) return [];
    return (await c.inboundStats()).filter((s) => s.participantId === id && s.source === 'camera').map((s) => ({ consumerId: s.consumerId, framesDecoded: s.framesDecoded }));
  }, from);
}

try {
  await waitFor('node-a and node-b to see each other', () => a.gossip.peer('node-b') && b.gossip.peer('node-a'), 30_000);
  // The watcher is on node-b; the mover comes back on node-a: its new video reaches the watcher through a pipe.
  const watcher = await open('watcher', b.url, [a.url], false);

  // 1. Failover.
  const failover: Array<{ killToVideoMs: number; killToReconnectedMs: number | null }> = [];
  for (let i = 0; i < kills; i++) {
    const c = await spawnMeshEdge({ nodeId: `node-c${i}`, keyFile, join: a.gossip.multiaddrs(), jwksPath: a.keys.jwksPath });
    children.push(c);
    await waitFor(`node-c${i} in the view`, () => a.gossip.peer(`node-c${i}`), 30_000);
    const mover = await open(`mover-${i}`, c.url, [a.url, b.url]);
    await mover.evaluate(() => {
      const w = window as unknown as { reconnectedAt?: number };
      window.meshmeet.client()!.on('reconnected', () => (w.reconnectedAt = Date.now()));
    });
    await waitFor('the watcher decoding the mover\'s video', async () => (await cameraConsumers(watcher, `mover-${i}`)).some((x) => x.framesDecoded > 10), 60_000, 100);
    const old = new Set((await cameraConsumers(watcher, `mover-${i}`)).map((x) => x.consumerId));
    const killedAt = Date.now();
    await c.kill();
    // Video is back when a consumer made after the kill (through the mover's new node) has decoded a frame.
    await waitFor('the mover\'s video back at the watcher', async () =>
      (await cameraConsumers(watcher, `mover-${i}`)).some((x) => !old.has(x.consumerId) && x.framesDecoded > 0), 120_000, 50);
    const killToVideoMs = Date.now() - killedAt;
    const reconnectedAt = await mover.evaluate(() => (window as unknown as { reconnectedAt?: number }).reconnectedAt ?? null);
    failover.push({ killToVideoMs, killToReconnectedMs: reconnectedAt ? reconnectedAt - killedAt : null });
    console.log(`kill ${i + 1}/${kills}: kill -> video again at the watcher ${killToVideoMs} ms (kill -> mover rejoined ${reconnectedAt ? reconnectedAt - killedAt : '?'} ms)`);
    await mover.close();
  }

  // 2. Pipe bytes between node-a and node-b as subscribers on node-b grow.
  const sender = await open('sender', a.url, []);
  void sender;
  const producers = await waitFor('the sender\'s producers in node-b\'s view', () => {
    const shard = b.gossip.shards(MEETING).find((s) => s.nodeId === 'node-a');
    const list = shard?.producers.filter((p) => p.participantId === 'sender') ?? [];
    return list.length === 2 ? list : null;
  }, 30_000);
  const subscribers = [];
  const steps = [1, 2, 5, 10, 20];
  const pipeBytes: Array<{ subscribers: number; pipeBytesPerSecond: number; pipeConsumers: number }> = [];
  for (const n of steps) {
    while (subscribers.length < n) {
      const s = await joinAs(b.wsUrl, MEETING, await token(`sub-${subscribers.length}`));
      const t = (await s.request('createTransport', { direction: 'recv' })).id;
      for (const p of producers) {
        const consumed = await s.request('consume', { transportId: t, producerId: p.id });
        await s.request('resumeConsumer', { consumerId: consumed.consumerId });
      }
      subscribers.push(s);
    }
    await new Promise((r) => setTimeout(r, 2000));
    const mm = a.node.meshMeeting(MEETING)!;
    const first = await mm.pipeBytes();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, windowS * 1000));
    const second = await mm.pipeBytes();
    const rate = Math.round(((second.sent - first.sent) * 1000) / (Date.now() - t0));
    const pipeConsumers = mm.pipeCounts().outbound['node-b'] ?? 0;
    pipeBytes.push({ subscribers: n, pipeBytesPerSecond: rate, pipeConsumers });
    console.log(`subscribers on node-b: ${String(n).padStart(2)}  pipe node-a -> node-b: ${(rate / 1000).toFixed(1)} kB/s  pipe consumers: ${pipeConsumers}`);
  }
  for (const s of subscribers) s.close();

  const sortedKill = failover.map((f) => f.killToVideoMs).sort((x, y) => x - y);
  const rates = pipeBytes.map((p) => p.pipeBytesPerSecond);
  const report = {
    bench: 'mesh',
    date: new Date().toISOString(),
    machine: { cores: os.availableParallelism(), node: process.version },
    failover: { kills, killToVideoMs: { min: sortedKill[0], median: sortedKill[Math.floor(sortedKill.length / 2)], max: sortedKill.at(-1) }, samples: failover },
    pipeBytes: { windowSeconds: windowS, steps: pipeBytes, maxOverMin: Math.max(...rates) / Math.max(1, Math.min(...rates)) },
  };
  await fs.mkdir(path.dirname(values.out!), { recursive: true });
  await fs.writeFile(values.out!, JSON.stringify(report, null, 2));
  console.log(`\nkill a participant's node -> its video again at the others (${kills} kills): median ${report.failover.killToVideoMs.median} ms, max ${report.failover.killToVideoMs.max} ms`);
  console.log(`pipe bytes/s from 1 to 20 subscribers on the remote node: max/min ${report.pipeBytes.maxOverMin.toFixed(2)}`);
  console.log(`report: ${path.relative(process.cwd(), values.out!)}`);
} finally {
  await browser.close();
  for (const c of children) await c.kill();
  await b.stop();
  await a.stop();
  await fs.rm(dir, { recursive: true, force: true });
}
process.exit(0);
