/** Test harness: a real edge node (real mediasoup workers) on free ports, with a dev signing key in a temp dir. */
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { types as mediasoupTypes } from 'mediasoup';
import pino from 'pino';
import {
  EdgeNode, loadConfig, loadDevKeys, loadMediasoup, mintJoinToken, type DevKeys, type EdgeConfigInput, type MeshLink, type MintOptions, type SelfDescription,
} from '../../edge-node/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_ROOT = path.join(ROOT, 'web', 'dist');

async function udpFree(port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
async function tcpFree(port: number): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A base port from which `count` consecutive ports are free for both UDP and TCP. */
export async function freePortBase(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = (await udpFree(p)) && (await tcpFree(p));
    if (ok) return base;
  }
  throw new Error('no free port range for media');
}

export interface TestEdge {
  node: EdgeNode;
  keys: DevKeys;
  url: string;
  wsUrl: string;
  token: (o: Partial<MintOptions> & { meetingId: string; participantId: string }) => Promise<string>;
  stop: () => Promise<void>;
}

export interface StartEdgeExtras {
  /** Signing keys shared with other nodes of the test (a cluster trusts one issuer); default: fresh ones. */
  keys?: DevKeys;
  /** Joins the node to a mesh: called with the node's self-description. */
  mesh?: (describe: () => SelfDescription) => MeshLink;
}

export async function startEdge(overrides: Partial<EdgeConfigInput> = {}, extras: StartEdgeExtras = {}): Promise<TestEdge> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-test-'));
  const keys = extras.keys ?? await loadDevKeys(dir);
  const workers = Number(overrides.workers ?? 1);
  const config = loadConfig({}, {
    jwks: keys.jwksPath,
    httpPort: 0,
    workers,
    rtcBasePort: await freePortBase(workers),
    webRoot: WEB_ROOT,
    nodeId: 'test',
    ...overrides,
  });
  let node: EdgeNode | null = null;
  const mesh = extras.mesh?.(() => node!.describe());
  node = new EdgeNode({ config, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), mesh });
  await node.start();
  const url = node.url;
  return {
    node,
    keys,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    token: (o) => mintJoinToken(keys, { name: o.participantId, ...o }),
    stop: async () => {
      await node.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until a check is truthy (lives in bench/lib/system.ts, shared with the bench). */
export { until as waitFor } from '../../bench/lib/system.js';

/**
 * What really lives in this process's mediasoup workers, seen through mediasoup's public observer API (no reaching
 * into the node's internals): workers (with their process ids), producers and consumers by id, live objects whose
 * `paused` and `preferredLayers` are mediasoup's own. Call before starting the edge node whose objects you watch.
 */
export interface MediasoupWatch {
  workers: mediasoupTypes.Worker[];
  producers: Map<string, mediasoupTypes.Producer>;
  consumers: Map<string, mediasoupTypes.Consumer>;
}

export async function watchMediasoup(): Promise<MediasoupWatch> {
  const mediasoup = await loadMediasoup();
  const w: MediasoupWatch = { workers: [], producers: new Map(), consumers: new Map() };
  mediasoup.observer.on('newworker', (worker) => {
    w.workers.push(worker);
    worker.observer.on('newrouter', (router) => router.observer.on('newtransport', (transport) => {
      transport.observer.on('newproducer', (p) => w.producers.set(p.id, p));
      transport.observer.on('newconsumer', (c) => w.consumers.set(c.id, c));
    }));
  });
  return w;
}
