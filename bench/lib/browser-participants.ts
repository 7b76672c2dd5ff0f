/**
 * Real headless Chromium participants in a bench run (`--browsers N`): a quality cross-check beside the bots, which
 * count packets but never decode. N pages in one Debian Chromium join the bots' room on the SFU under test, view
 * only (no camera: encoding 720p simulcast in software would cost the shared machine more than the SFU does), and
 * each receives at most `maxVideo` of the bots' video streams (and their audio). Once a second the bench reads every
 * page's RTCPeerConnection.getStats() (inbound-rtp video): frames decoded, frame rate, freezes, loss, jitter, the
 * resolution received; plus the CPU of the Chromium processes.
 *
 * How each SFU is joined, with its own client:
 * - meshmeet: our real web client (web/dist, served by the edge node itself), on a token link with `&media=none&video=N`;
 * - livekit: the npm package livekit-client, bundled by esbuild into the page at setup (no internet), adaptive
 *   stream on thumbnail-sized elements (160x90);
 * - janus: the VideoRoom over its JSON API from the bench (as Janus' own janus.js does from a page), subscribing as
 *   a subscriber to the first N publishers' feeds at Janus' default simulcast target; the page only answers the offer.
 * Every page's peer connections are recorded by an init script, so the same stats code reads all three.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { loadDevKeys, mintJoinToken } from '../../edge-node/index.js';
import { CHROMIUM, launchBrowser, type TestBrowser } from './browser.js';
import { janusRoomId, JanusApi } from './sfu/janus.js';
import { livekitToken } from './sfu/livekit.js';
import type { SfuServer } from './sfu/types.js';
import { cpuSeconds, processTree, until } from './system.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** One page's inbound video stream, as getStats reports it (cumulative counters). */
export interface InboundVideo {
  key: string;
  packetsReceived: number;
  packetsLost: number;
  framesDecoded: number;
  framesPerSecond: number | null;
  freezeCount: number;
  totalFreezesDuration: number;
  jitter: number;
  frameWidth: number | null;
  frameHeight: number | null;
}

/** The rates every browser figure has, over an interval or a run. */
interface BrowserRates {
  framesDecodedPerS: number;
  /** Decoded frames per second per receiving stream. */
  fpsPerStream: number;
  /** Mean of getStats' framesPerSecond over the streams. */
  frameRate: number;
  freezes: number;
  freezeSeconds: number;
  lossPct: number;
  jitterMs: number;
  cpuCores: number;
}

/** What the browsers saw over one interval (rates per second; freezes counted in the interval). */
export interface BrowserPoint extends BrowserRates {
  /** Pages joined. */
  browsers: number;
  /** Video streams whose packets grew in the interval, over all pages. */
  streams: number;
  /** The most common resolution received (WxH), or '-' before the first frame. */
  resolution: string;
}

/** The browsers' part of one SFU run. */
export interface BrowserFigures extends BrowserRates {
  browsers: number;
  joined: number;
  maxVideo: number;
  client: string;
  /** The most video streams received at once. */
  streams: number;
  framesDecoded: number;
  resolutions: string[];
  failures: string[];
}

/** Wraps RTCPeerConnection in every page so the bench can read the stats of every connection, whatever made it. */
const RECORD_PCS = `(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || window.__benchPcs) return;
  const pcs = [];
  window.__benchPcs = pcs;
  window.RTCPeerConnection = class extends Native { constructor(...a) { super(...a); pcs.push(this); } };
})();`;

/**
 * Every page's inbound video counters, read by a script given as text: tsx would wrap the inner functions of a
 * compiled callback in a helper that does not exist in the page.
 */
const READ_INBOUND = `(async () => {
  const pcs = (window.__benchPcs || []).filter((pc) => pc.connectionState !== 'closed');
  const reports = await Promise.all(pcs.map((pc) => pc.getStats()));
  const out = [];
  const num = (s, k) => (typeof s[k] === 'number' ? s[k] : null);
  reports.forEach((r, i) => r.forEach((s) => {
    // mediasoup-client's 'probator' receives the server's bandwidth probes (padding, never frames): not a stream
    if (s.type !== 'inbound-rtp' || s.kind !== 'video' || s.mid === 'probator' || s.trackIdentifier === 'probator') return;
    out.push({
      key: i + ':' + s.id, packetsReceived: num(s, 'packetsReceived') || 0, packetsLost: num(s, 'packetsLost') || 0,
      framesDecoded: num(s, 'framesDecoded') || 0, framesPerSecond: num(s, 'framesPerSecond'), freezeCount: num(s, 'freezeCount') || 0,
      totalFreezesDuration: num(s, 'totalFreezesDuration') || 0, jitter: num(s, 'jitter') || 0,
      frameWidth: num(s, 'frameWidth'), frameHeight: num(s, 'frameHeight'),
    });
  }));
  return out;
})()`;

const readInbound = (page: Page): Promise<InboundVideo[]> => page.evaluate(READ_INBOUND) as Promise<InboundVideo[]>;

/** One interval's figures from two readings of every page (pure). */
export function browserPoint(prev: Map<string, InboundVideo>, now: InboundVideo[], seconds: number, browsers: number, cpuCores: number): BrowserPoint {
  let streams = 0, frames = 0, freezes = 0, freezeSeconds = 0, rx = 0, lost = 0, fpsSum = 0, fpsN = 0, jitterSum = 0;
  const res = new Map<string, number>();
  for (const s of now) {
    const p = prev.get(s.key);
    const dRx = s.packetsReceived - (p?.packetsReceived ?? 0);
    if (dRx <= 0) continue;
    streams++;
    rx += dRx;
    lost += Math.max(0, s.packetsLost - (p?.packetsLost ?? 0));
    frames += s.framesDecoded - (p?.framesDecoded ?? 0);
    freezes += s.freezeCount - (p?.freezeCount ?? 0);
    freezeSeconds += s.totalFreezesDuration - (p?.totalFreezesDuration ?? 0);
    jitterSum += s.jitter;
    if (s.framesPerSecond !== null) {
      fpsSum += s.framesPerSecond;
      fpsN++;
    }
    if (s.frameWidth && s.frameHeight) res.set(`${s.frameWidth}x${s.frameHeight}`, (res.get(`${s.frameWidth}x${s.frameHeight}`) ?? 0) + 1);
  }
  const framesDecodedPerS = frames / seconds;
  return {
    browsers, streams, framesDecodedPerS,
    fpsPerStream: streams ? framesDecodedPerS / streams : 0,
    frameRate: fpsN ? fpsSum / fpsN : 0,
    freezes, freezeSeconds,
    lossPct: rx + lost > 0 ? (lost / (rx + lost)) * 100 : 0,
    jitterMs: streams ? (jitterSum / streams) * 1000 : 0,
    resolution: [...res.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-',
    cpuCores,
  };
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/** The browsers' figures over the measured points (pure). */
export function browserSummary(points: BrowserPoint[], base: { browsers: number; joined: number; maxVideo: number; client: string; failures: string[] }): BrowserFigures {
  const seconds = points.length;
  const framesDecoded = points.reduce((a, p) => a + p.framesDecodedPerS, 0);
  const streams = Math.max(0, ...points.map((p) => p.streams));
  const weight = points.reduce((a, p) => a + p.streams, 0);
  return {
    ...base,
    streams,
    framesDecoded: Math.round(framesDecoded),
    framesDecodedPerS: seconds ? framesDecoded / seconds : 0,
    fpsPerStream: weight ? points.reduce((a, p) => a + p.fpsPerStream * p.streams, 0) / weight : 0,
    frameRate: weight ? points.reduce((a, p) => a + p.frameRate * p.streams, 0) / weight : 0,
    freezes: points.reduce((a, p) => a + p.freezes, 0),
    freezeSeconds: points.reduce((a, p) => a + p.freezeSeconds, 0),
    lossPct: weight ? points.reduce((a, p) => a + p.lossPct * p.streams, 0) / weight : 0,
    jitterMs: weight ? points.reduce((a, p) => a + p.jitterMs * p.streams, 0) / weight : 0,
    resolutions: [...new Set(points.map((p) => p.resolution).filter((r) => r !== '-'))],
    cpuCores: mean(points.map((p) => p.cpuCores)),
  };
}

/** Joins one page to `room` on `sfu`; resolves once joined, with a function that leaves. */
type Joiner = (page: Page, sfu: SfuServer, room: string, identity: string, maxVideo: number) => Promise<() => Promise<void>>;

const BLANK = '<!doctype html><html><head><meta charset="utf-8"><title>bench browser</title></head><body style="margin:0"></body></html>';

const joinMeshmeet: Joiner = async (page, sfu, room, identity, maxVideo) => {
  const keys = await loadDevKeys(String(sfu.connect.extra.keysDir));
  const token = await mintJoinToken(keys, { meetingId: room, participantId: identity, name: identity, role: 'participant' });
  const http = sfu.connect.url.replace(/^ws/, 'http');
  await page.goto(`${http}/?meeting=${encodeURIComponent(room)}&media=none#token=${encodeURIComponent(token)}&video=${maxVideo}`);
  await page.evaluate(() => window.meshmeet.joined);
  return async () => {
    await page.evaluate(() => window.meshmeet.client()?.leave()).catch(() => undefined);
  };
};

let livekitBundle: Promise<string> | null = null;
/** livekit-client and the page's few lines as one script, built once per run. */
function livekitScript(): Promise<string> {
  livekitBundle ??= (async () => {
    const esbuild = await import('esbuild');
    const out = await esbuild.build({
      entryPoints: [path.join(import.meta.dirname, 'pages', 'livekit-page.ts')],
      bundle: true, format: 'iife', target: 'es2022', platform: 'browser', write: false, minify: true, logLevel: 'error',
    });
    return out.outputFiles[0]!.text;
  })();
  return livekitBundle;
}

const joinLivekit: Joiner = async (page, sfu, room, identity, maxVideo) => {
  const script = await livekitScript();
  await page.setContent(BLANK);
  await page.addScriptTag({ content: script });
  const token = await livekitToken(identity, room);
  await page.evaluate(([url, t, n]) => window.benchLivekitJoin(url, t, n), [sfu.connect.url, token, maxVideo] as const);
  return async () => {
    await page.evaluate(() => window.benchLivekitRoom?.disconnect()).catch(() => undefined);
  };
};

/** The page's side of a Janus subscription: answers the offer (with its candidates, after gathering) and shows the tracks. */
async function answerInPage(page: Page, offerSdp: string): Promise<string> {
  return page.evaluate(`(async () => {
    const pc = new RTCPeerConnection();
    pc.ontrack = (e) => {
      if (e.track.kind !== 'video') return;
      const v = document.createElement('video');
      Object.assign(v, { muted: true, autoplay: true, playsInline: true, srcObject: new MediaStream([e.track]) });
      v.style.width = '320px';
      document.body.append(v);
    };
    await pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(offerSdp)} });
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      setTimeout(resolve, 5000);
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
    });
    return pc.localDescription.sdp;
  })()`) as Promise<string>;
}

const joinJanus: Joiner = async (page, sfu, room, identity, maxVideo) => {
  await page.setContent(BLANK);
  const api = new JanusApi(sfu.connect.url);
  await api.start();
  try {
    const id = janusRoomId(room);
    const handle = await api.attach();
    const list = await api.sync(handle, { request: 'listparticipants', room: id }) as { participants?: { id: number; publisher: boolean }[] };
    const feeds = (list.participants ?? []).filter((p) => p.publisher).slice(0, maxVideo).map((p) => p.id);
    if (feeds.length === 0) throw new Error('Janus: no publisher in the room to subscribe to');
    const e = await api.request(handle, { request: 'join', ptype: 'subscriber', room: id, streams: feeds.map((feed) => ({ feed })), private_id: 0 }, undefined, 'attached');
    if (!e.jsep?.sdp) throw new Error('Janus: the subscription gave no offer');
    const answer = await answerInPage(page, e.jsep.sdp as string);
    await api.request(handle, { request: 'start' }, { type: 'answer', sdp: answer }, 'any');
    // Janus' default simulcast target (substream 2): Janus reads rids as ordered high to low, and the bots offer them
    // low to high (q;h;f), so this is their 320x180 layer, what a gallery thumbnail gets from the other SFUs
  } catch (err) {
    await api.close();
    throw err;
  }
  return () => api.close();
};

const JOINERS: Record<SfuServer['kind'], { join: Joiner; client: string }> = {
  meshmeet: { join: joinMeshmeet, client: 'MeshMeet web client (web/dist)' },
  livekit: { join: joinLivekit, client: 'livekit-client 2.23.0' },
  janus: { join: joinJanus, client: 'Janus VideoRoom JSON API + RTCPeerConnection' },
};

export class BrowserParticipants {
  private readonly pages: { page: Page; leave: (() => Promise<void>) | null }[] = [];
  private prev = new Map<string, InboundVideo>();
  private prevCpu = 0;
  private prevAt = 0;
  readonly failures: string[] = [];
  private joinedCount = 0;

  private constructor(private readonly browser: TestBrowser, private readonly sfu: SfuServer, readonly count: number, readonly maxVideo: number) {}

  /** Launches one Chromium for `count` participant pages (none when count is 0). */
  static async launch(sfu: SfuServer, count: number, maxVideo: number): Promise<BrowserParticipants | null> {
    if (count === 0) return null;
    if (!fs.existsSync(CHROMIUM)) throw new Error(`--browsers: Chromium is missing at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH; --browsers 0 runs without)`);
    if (sfu.kind === 'meshmeet' && !fs.existsSync(path.join(ROOT, 'web/dist/app.js'))) {
      throw new Error('the web client is not built: run `npx tsx web/build.ts` (needed by --browsers on meshmeet)');
    }
    // loopback candidates: the SFUs listen on 127.0.0.1, and a run in a network namespace has no other interface
    const browser = await launchBrowser(['--allow-loopback-in-peer-connection'], { viewport: { width: 640, height: 360 } });
    await browser.context.addInitScript({ content: RECORD_PCS });
    return new BrowserParticipants(browser, sfu, count, maxVideo);
  }

  get client(): string {
    return JOINERS[this.sfu.kind].client;
  }

  get joined(): number {
    return this.joinedCount;
  }

  /** Joins every page to `room` (after the bots, so there is something to receive); a page that fails is a failure in the results. */
  async join(room: string): Promise<void> {
    const { join } = JOINERS[this.sfu.kind];
    for (let i = 0; i < this.count; i++) {
      const page = await this.browser.context.newPage();
      const entry: { page: Page; leave: (() => Promise<void>) | null } = { page, leave: null };
      this.pages.push(entry);
      try {
        entry.leave = await Promise.race([
          join(page, this.sfu, room, `browser${i}`, this.maxVideo),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no join in 60 s')), 60_000)),
        ]);
        this.joinedCount++;
      } catch (err) {
        this.failures.push(`${this.sfu.kind}: browser${i} could not join: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    // wait (bounded) for the first decoded frame, so that the measured seconds see media flowing
    await until('a browser to decode video', async () => (await this.readAll()).some((s) => s.framesDecoded > 0), 20_000, 250).catch(() => undefined);
  }

  private chromiumCpu(): number {
    let s = 0;
    for (const pid of processTree(process.pid)) {
      try {
        if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.browser.userDataDir)) s += cpuSeconds(pid);
      } catch { /* gone */ }
    }
    return s;
  }

  private async readAll(): Promise<InboundVideo[]> {
    const all = await Promise.all(this.pages.map((p, i) => readInbound(p.page).then((xs) => xs.map((x) => ({ ...x, key: `${i}/${x.key}` }))).catch(() => [])));
    return all.flat();
  }

  /** A point over the time since the last call (null on the first call). */
  async point(): Promise<BrowserPoint | null> {
    const now = await this.readAll();
    const at = performance.now();
    const cpu = this.chromiumCpu();
    const first = this.prevAt === 0;
    const p = first ? null : browserPoint(this.prev, now, (at - this.prevAt) / 1000, this.joinedCount, (cpu - this.prevCpu) / ((at - this.prevAt) / 1000));
    this.prev = new Map(now.map((s) => [s.key, s]));
    this.prevAt = at;
    this.prevCpu = cpu;
    return p;
  }

  summary(points: BrowserPoint[]): BrowserFigures {
    return browserSummary(points, { browsers: this.count, joined: this.joinedCount, maxVideo: this.maxVideo, client: this.client, failures: this.failures });
  }

  async close(): Promise<void> {
    for (const p of this.pages) await p.leave?.().catch(() => undefined);
    await this.browser.close();
  }
}

/** The browser-quality table: one row per SFU run. */
export const BROWSER_COLUMNS = ['sfu', 'browsers', 'streams', 'frames decoded/s', 'fps per stream', 'frame rate', 'freezes', 'freeze s', 'loss %', 'jitter ms', 'resolution', 'Chromium cores'];
export const browserRow = (label: string, f: BrowserFigures): (string | number | null)[] => [
  label, `${f.joined}/${f.browsers}`, f.streams, f.framesDecodedPerS, f.fpsPerStream, f.frameRate, f.freezes, f.freezeSeconds, f.lossPct, f.jitterMs,
  f.resolutions.join(' ') || '-', f.cpuCores,
];
