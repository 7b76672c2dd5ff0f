/**
 * End to end over the real mesh: edge nodes joined by GossipMesh (libp2p over TCP on loopback, cluster key),
 * participants in real headless Chromium on different nodes.
 * - they see and hear each other; pipe consumers = producers x remote nodes with subscribers, and stay so as more
 *   subscribers join on the same remote node;
 * - pause, resume and close cross the pipe;
 * - a participant's node is killed (SIGKILL, a child process): it reconnects to another node, keeps its camera, and
 *   the others see it again;
 * - a node drains: its participants move, and the others' media from them resumes within seconds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { mintJoinToken } from '../../edge-node/index.js';
import { generateClusterKey } from '../../edge-node/src/mesh/cluster-key.js';
import { launchBrowser, pageStats, type TestBrowser } from '../helpers/browser.js';
import { waitFor } from '../helpers/edge.js';
import { spawnMeshEdge, startMeshEdge, type ChildEdge, type MeshEdge } from '../helpers/mesh-edge.js';

type Stat = { participantId: string; source: string; kind: string; paused: boolean; packetsReceived: number; framesDecoded: number };

const MEETING = 'e2e-mesh';
const key = generateClusterKey();
let dir: string;
let a: MeshEdge;
let b: MeshEdge;
let c: ChildEdge | null = null;
let browser: TestBrowser;
const pages = new Map<string, Page>();

const stats = (page: Page): Promise<Stat[]> => pageStats(page);

/** Sum of a counter over `from`'s tracks of `source` (a move gives a new consumer: the sum keeps growing). */
async function counter(viewer: string, from: string, source: string): Promise<number> {
  const metric = source === 'mic' ? 'packetsReceived' : 'framesDecoded';
  return (await stats(pages.get(viewer)!)).filter((s) => s.participantId === from && s.source === source).reduce((n, s) => n + s[metric], 0);
}

async function waitForFlowing(viewer: string, from: string, source: 'mic' | 'camera', timeoutMs = 60_000): Promise<void> {
  const first = await waitFor(`${viewer} receiving ${from}'s ${source}`, async () => {
    const s = (await stats(pages.get(viewer)!)).find((x) => x.participantId === from && x.source === source);
    return s && (source === 'mic' ? s.packetsReceived : s.framesDecoded) > 0 ? s : null;
  }, timeoutMs);
  const metric = source === 'mic' ? 'packetsReceived' : 'framesDecoded';
  await waitFor(`${viewer}'s ${metric} of ${from}'s ${source} to grow`, async () => {
    const s = (await stats(pages.get(viewer)!)).find((x) => x.participantId === from && x.source === source);
    return s && s[metric] > first[metric];
  }, 30_000);
}

async function joinPage(participantId: string, nodeUrl: string, others: string[] = []): Promise<Page> {
  const token = await mintJoinToken(a.keys, { meetingId: MEETING, participantId, name: `Name ${participantId}` });
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[${participantId}] page error:`, err.message));
  page.on('console', (m) => m.type() === 'warning' && console.log(`[${participantId}] ${m.text()}`));
  const ws = nodeUrl.replace(/^http/, 'ws');
  const nodes = others.map((u) => u.replace(/^http/, 'ws')).join(',');
  await page.goto(`${nodeUrl}/?meeting=${MEETING}#token=${token}&node=${encodeURIComponent(ws)}${nodes ? `&nodes=${encodeURIComponent(nodes)}` : ''}`);
  await page.evaluate(() => window.meshmeet.joined);
  pages.set(participantId, page);
  return page;
}

const counts = (edge: MeshEdge) => edge.node.meshMeeting(MEETING)?.pipeCounts() ?? { outbound: {}, inbound: {} };

describe('a meeting across real nodes in Chromium', { timeout: 600_000 }, () => {
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-e2e-mesh-'));
    a = await startMeshEdge({ nodeId: 'node-a', clusterKey: key, config: { region: 'eu-west' } });
    b = await startMeshEdge({ nodeId: 'node-b', clusterKey: key, join: a.gossip.multiaddrs(), keys: a.keys, config: { region: 'us-east' } });
    await waitFor('the two nodes to see each other', () => a.gossip.peer('node-b') && b.gossip.peer('node-a'), 30_000);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await c?.kill();
    await b?.stop();
    await a?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('participants on two nodes see and hear each other; one pipe consumer per (producer, remote node)', async () => {
    await joinPage('alice', a.url, [b.url]);
    await joinPage('bob', b.url, [a.url]);
    await joinPage('carol', b.url, [a.url]);
    for (const viewer of ['alice', 'bob', 'carol']) {
      for (const from of ['alice', 'bob', 'carol']) {
        if (from === viewer) continue;
        await waitForFlowing(viewer, from, 'mic');
        await waitForFlowing(viewer, from, 'camera');
      }
    }
    // alice's 2 producers piped once to node-b (bob and carol share them); bob's and carol's 4 piped to node-a.
    assert.deepEqual(counts(a).outbound, { 'node-b': 2 });
    assert.deepEqual(counts(b).outbound, { 'node-a': 4 });
    assert.deepEqual(counts(b).inbound, { 'node-a': 2 });

    await joinPage('dave', b.url, [a.url]);
    await waitForFlowing('dave', 'alice', 'camera');
    await waitForFlowing('alice', 'dave', 'camera');
    assert.deepEqual(counts(a).outbound, { 'node-b': 2 }, 'a third subscriber on node-b adds no pipe consumer');
    assert.deepEqual(counts(b).outbound, { 'node-a': 6 });
  });

  test('pause, resume and close cross the pipe', async () => {
    const alice = pages.get('alice')!;
    const pausedAtBob = async () => (await stats(pages.get('bob')!)).find((s) => s.participantId === 'alice' && s.source === 'camera')?.paused;
    await alice.evaluate(() => window.meshmeet.client()!.setPaused('camera', true));
    await waitFor('bob to see alice\'s camera paused', async () => (await pausedAtBob()) === true);
    await alice.evaluate(() => window.meshmeet.client()!.setPaused('camera', false));
    await waitFor('bob to see alice\'s camera resumed', async () => (await pausedAtBob()) === false);
    await waitForFlowing('bob', 'alice', 'camera');
    await alice.evaluate(() => window.meshmeet.client()!.unpublish('camera'));
    await waitFor('bob and carol to drop alice\'s camera', async () => {
      for (const v of ['bob', 'carol']) {
        if ((await stats(pages.get(v)!)).some((s) => s.participantId === 'alice' && s.source === 'camera')) return false;
      }
      return true;
    });
    await waitFor('the camera pipe consumer closed', () => counts(a).outbound['node-b'] === 1);
    // Back on camera for the next tests.
    await alice.evaluate(async () => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true });
      await window.meshmeet.publish('camera', stream.getVideoTracks()[0]!);
    });
    await waitForFlowing('bob', 'alice', 'camera');
  });

  test('a participant whose node is killed comes back through another node, visible to the others', async () => {
    const keyFile = path.join(dir, 'cluster.key');
    await fs.writeFile(keyFile, key);
    c = await spawnMeshEdge({ nodeId: 'node-c', keyFile, join: a.gossip.multiaddrs(), jwksPath: a.keys.jwksPath });
    await waitFor('node-c in the view', () => a.gossip.peer('node-c') && b.gossip.peer('node-c'), 30_000);
    await joinPage('erin', c.url, [a.url, b.url]);
    await waitForFlowing('alice', 'erin', 'camera');
    await waitForFlowing('bob', 'erin', 'camera');
    const before = await counter('alice', 'erin', 'camera');
    const dead = c.wsUrl;
    await c.kill();
    c = null;
    await waitFor('erin reconnected to another node', () => pages.get('erin')!.evaluate((deadUrl) => {
      const cl = window.meshmeet.client();
      return !!cl && cl.nodeUrl !== deadUrl && cl.local.has('camera') && cl.signalling.closed === null;
    }, dead), 60_000);
    await waitFor('alice to see erin again', async () => (await counter('alice', 'erin', 'camera')) > before, 60_000);
    await waitForFlowing('alice', 'erin', 'camera');
    await waitForFlowing('bob', 'erin', 'camera');
    await waitForFlowing('erin', 'alice', 'camera');
  });

  test('a node drains: its participants move, and media from them resumes within seconds', async () => {
    // Sample alice's view of bob's camera while node-b drains; record the longest stretch without a new frame.
    let last = await counter('alice', 'bob', 'camera');
    let lastAt = Date.now();
    let longest = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const n = await counter('alice', 'bob', 'camera').catch(() => last);
        const now = Date.now();
        if (n !== last) {
          longest = Math.max(longest, now - lastAt);
          last = n;
          lastAt = now;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await b.node.drain(60_000);
    for (const id of ['bob', 'carol', 'dave']) {
      await waitFor(`${id} on another node`, () => pages.get(id)!.evaluate(() => window.meshmeet.client()?.signalling.closed === null), 60_000);
    }
    await waitForFlowing('alice', 'bob', 'camera');
    await waitForFlowing('bob', 'alice', 'camera');
    sampling = false;
    await sampler;
    longest = Math.max(longest, Date.now() - lastAt);
    console.log(`drain: longest gap in bob's video at alice: ${longest} ms`);
    assert.ok(longest < 15_000, `bob's video stopped for ${longest} ms`);
  });
});
