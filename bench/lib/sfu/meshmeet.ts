/**
 * Our edge node: started as its own process (`edge-node/src/main.ts`, real mediasoup workers), joined over its
 * signalling protocol (the zod schemas of edge-node/protocol, through edge-node/index.ts) with dev join tokens.
 * mediasoup takes ICE/DTLS/RTP parameters directly, so no SDP is involved: the bot is ICE-controlling against
 * mediasoup's ICE-lite, DTLS client, and declares its simulcast streams by SSRC.
 */
import path from 'node:path';
import WebSocket from 'ws';
import { loadDevKeys, mintJoinToken, signalling, type DevKeys } from '../../../edge-node/index.js';
import { randomSsrc } from '../rtc/sender.js';
import type { BotTransport, IceCandidateInfo } from '../rtc/transport.js';
import { BotParts } from './parts.js';
import { cpuSeconds, freePorts, processTree, startProcess, until } from '../system.js';
import type { BotSession, ConnectInfo, JoinOptions, SfuClient, SfuServer } from './types.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const TWCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';

export interface MeshmeetServerOptions {
  workDir: string;
  workers: number;
  workerBin?: string;
  label?: string;
  env?: Record<string, string>;
}

export async function startMeshmeet(o: MeshmeetServerOptions): Promise<SfuServer> {
  const keysDir = path.join(o.workDir, 'keys');
  const keys = await loadDevKeys(keysDir);
  const httpPort = await freePorts('http', 1);
  const rtcBase = await freePorts('media', o.workers);
  const env = {
    ...process.env,
    EDGE_JWKS: keys.jwksPath, EDGE_HTTP_HOST: '127.0.0.1', EDGE_HTTP_PORT: String(httpPort), EDGE_WORKERS: String(o.workers),
    EDGE_RTC_LISTEN_IP: '127.0.0.1', EDGE_RTC_BASE_PORT: String(rtcBase), EDGE_LOG_LEVEL: 'warn', EDGE_NODE_ID: o.label ?? 'bench',
    EDGE_WEB_ROOT: path.join(ROOT, 'web/dist'), // the web client, for --browsers
    ...(o.workerBin ? { MEDIASOUP_WORKER_BIN: o.workerBin } : {}),
    ...o.env,
  };
  const logFile = path.join(o.workDir, `${o.label ?? 'meshmeet'}.log`);
  // BENCH_EDGE_NODE_FLAGS: extra Node flags for the edge node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (written when it stops)
  const nodeFlags = (process.env.BENCH_EDGE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const proc = startProcess(process.execPath, [...nodeFlags, '--import', 'tsx', path.join(ROOT, 'edge-node/src/main.ts')], { env, cwd: ROOT, logFile });
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    await until('the edge node to be healthy', async () => {
      if (proc.child.exitCode !== null) throw new Error(`edge node exited (${proc.child.exitCode}); see ${logFile}`);
      return (await fetch(`${url}/healthz`)).ok;
    }, 60_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const serverTimings = async () => {
    try {
      const text = await (await fetch(`${url}/metrics`)).text();
      return { ...histogramMeans(text, 'edge_connection_setup_seconds'), ...histogramMeans(text, 'edge_signalling_request_seconds') };
    } catch {
      return null;
    }
  };
  return {
    kind: 'meshmeet',
    serverTimings,
    connect: { kind: 'meshmeet', url: url.replace(/^http/, 'ws'), extra: { keysDir } },
    pids: () => processTree(proc.child.pid!),
    mediaCpuSeconds: () => metricSum(url, 'edge_worker_cpu_seconds'),
    prepareRoom: async () => undefined,
    describe: () => ({ server: 'meshmeet edge node (mediasoup 3.12.16)', workers: o.workers, workerBin: env.MEDIASOUP_WORKER_BIN ?? 'default cache', log: logFile, ...(o.env ? { env: o.env } : {}) }),
    stop: proc.stop,
  };
}

/**
 * Count and mean (ms) of each series of a Prometheus histogram in exposition text, keyed by its label values joined
 * with spaces (e.g. `join handled`).
 */
export function histogramMeans(text: string, name: string): Record<string, { count: number; meanMs: number }> {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  const re = new RegExp(`^${name}_(sum|count)\\{([^}]*)\\} ([\\d.e+-]+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const key = [...m[2]!.matchAll(/\w+="([^"]*)"/g)].map((l) => l[1]).join(' ');
    (m[1] === 'sum' ? sums : counts).set(key, Number(m[3]));
  }
  const out: Record<string, { count: number; meanMs: number }> = {};
  for (const [key, count] of counts) if (count > 0) out[key] = { count, meanMs: ((sums.get(key) ?? 0) / count) * 1000 };
  return out;
}

/** The sum of a metric's samples on a node's /metrics (those whose labels contain `labels`), or null when unreachable. */
export async function metricSum(baseUrl: string, name: string, labels = ''): Promise<number | null> {
  try {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    let sum = 0;
    for (const m of text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} ([\\d.e+-]+)$`, 'gm'))) if (m[1]!.includes(labels)) sum += Number(m[2]);
    return sum;
  } catch {
    return null;
  }
}

/** The bot side: a minimal signalling client on the protocol's own schemas. */
class Signalling {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: string }>();
  private readonly handlers = new Map<string, (data: unknown) => void>();
  readonly opened: Promise<void>;
  constructor(private readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', (code, reason) => reject(new Error(`signalling closed (${code} ${reason.toString()})`)));
    });
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as Record<string, unknown>;
      if ('event' in msg) {
        const ev = signalling.parseEvent(msg);
        this.handlers.get(ev.event)?.(ev.data);
        return;
      }
      const env = signalling.ResponseEnvelope.parse(msg);
      const p = this.pending.get(Number(env.id));
      if (!p) return;
      this.pending.delete(Number(env.id));
      if (env.ok) p.resolve(signalling.Responses[p.method as signalling.Method].parse(env.data));
      else p.reject(new Error(`${p.method}: ${env.error.code}: ${env.error.message}`));
    });
    ws.on('close', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`signalling closed (${code})`));
      this.pending.clear();
    });
  }
  on<E extends signalling.EventName>(event: E, fn: (d: signalling.EventData<E>) => void): void {
    this.handlers.set(event, fn as (d: unknown) => void);
  }
  async request<M extends signalling.Method>(method: M, data: signalling.RequestData<M>): Promise<signalling.ResponseData<M>> {
    await this.opened;
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in 30 s`));
      }, 30_000);
      this.pending.set(id, {
        method,
        resolve: (v) => { clearTimeout(t); resolve(v as signalling.ResponseData<M>); },
        reject: (e) => { clearTimeout(t); reject(e); },
      });
      this.ws.send(JSON.stringify({ id, method, data }));
    });
  }
  close(): void {
    this.ws.close();
  }
}

type Obj = Record<string, any>;

function remoteOf(info: { iceParameters: Obj; iceCandidates: Obj[]; dtlsParameters: Obj }) {
  return {
    ice: { usernameFragment: info.iceParameters.usernameFragment, password: info.iceParameters.password, iceLite: true },
    candidates: info.iceCandidates.map((c): IceCandidateInfo => ({
      foundation: String(c.foundation), priority: c.priority, ip: c.ip ?? c.address, port: c.port, protocol: c.protocol, type: c.type,
    })),
    fingerprints: (info.dtlsParameters.fingerprints as Obj[]).map((f) => ({ algorithm: f.algorithm, value: f.value })),
    remoteDtlsRole: 'server' as const,
  };
}

export class MeshmeetClient implements SfuClient {
  private keys: Promise<DevKeys>;
  constructor(private readonly info: ConnectInfo) {
    this.keys = loadDevKeys(String(info.extra.keysDir));
  }

  async join(o: JoinOptions): Promise<BotSession> {
    const token = await mintJoinToken(await this.keys, { meetingId: o.room, participantId: o.identity, name: o.identity, role: 'participant' });
    const nodes = (this.info.extra.nodes ?? {}) as Record<string, string>;
    if (o.node && !nodes[o.node]) throw new Error(`no node '${o.node}' in this mesh (${Object.keys(nodes).join(', ') || 'a single node'})`);
    const base = o.node ? nodes[o.node]! : this.info.url;
    const ws = new WebSocket(`${base}/ws/${encodeURIComponent(o.room)}?token=${encodeURIComponent(token)}`);
    const sig = new Signalling(ws);
    const bot = new BotParts(() => sig.close());
    bot.mark('token');
    try {
      await sig.opened;
      bot.mark('socket open');
      const { rtpCapabilities } = await sig.request('getRouterRtpCapabilities', {});
      bot.mark('capabilities');
      // what the bot can receive: Opus and VP8, no RTX (retransmissions come on the media SSRC), every header extension
      const caps = {
        codecs: (rtpCapabilities.codecs as Obj[]).filter((c) => /^(audio\/opus|video\/VP8)$/i.test(c.mimeType)),
        headerExtensions: rtpCapabilities.headerExtensions as Obj[],
      };
      const twccId = (caps.headerExtensions.find((e) => e.uri === TWCC_URI && e.kind === 'video') as Obj | undefined)?.preferredId as number | undefined;
      // Both transports come with the join answer; the bot's ICE agents are made meanwhile.
      const directions = [...(o.subscribe ? ['recv' as const] : []), ...(o.publish ? ['send' as const] : [])];
      const local = new Map(directions.map((d) => [d, bot.transport(true)]));
      for (const t of local.values()) t.catch(() => undefined); // awaited below; a failure is the join's
      const joined = await sig.request('join', { protocolVersion: signalling.PROTOCOL_VERSION, rtpCapabilities: caps, transports: directions });
      const joinedAt = performance.now();
      bot.mark('join');

      const open = async (direction: 'send' | 'recv'): Promise<{ id: string; t: BotTransport }> => {
        const info = joined.transports?.find((x) => x.direction === direction) ?? await sig.request('createTransport', { direction });
        const t = await local.get(direction)!;
        // connectTransport travels while ICE runs; DTLS starts once the node has the bot's fingerprint
        const taken = sig.request('connectTransport', { transportId: info.id, dtlsParameters: { role: 'client', fingerprints: t.local.fingerprints } });
        taken.catch(() => undefined);
        await t.connect(remoteOf(info), undefined, taken);
        return { id: info.id, t };
      };
      // both transports at once: their ICE and DTLS handshakes overlap
      const [recv, send] = await Promise.all([o.subscribe ? open('recv') : null, o.publish ? open('send') : null]);
      bot.mark('transports connected');

      // existing producers consumed while publishing: the requests are pipelined (the node answers them in order)
      const consuming = (async () => {
        if (!recv) return;
        const rx = bot.receive(recv.t, twccId);
        const consumed = new Set<string>();
        const consume = async (producerId: string, participantId: string): Promise<void> => {
          if (participantId === o.identity || consumed.has(producerId)) return;
          consumed.add(producerId);
          const c = await sig.request('consume', { transportId: recv.id, producerId });
          rx.setVideoPayloadTypes((c.rtpParameters.codecs as Obj[]).filter((x) => /^video\/VP8$/i.test(x.mimeType)).map((x) => x.payloadType));
          // audio arrivals are logged by publisher (the cross-region bench compares them between subscribers)
          const ssrc = (c.rtpParameters.encodings as Obj[] | undefined)?.[0]?.ssrc as number | undefined;
          if (c.kind === 'audio' && ssrc !== undefined) rx.logArrivals(ssrc, participantId);
          await sig.request('resumeConsumer', { consumerId: c.consumerId });
        };
        sig.on('newProducer', (p) => { consume(p.id, p.participantId).catch(() => undefined); });
        await Promise.all(joined.producers.map((p) => consume(p.id, p.participantId)));
      })();
      const producing = (async () => {
        if (!send) return;
        const tx = bot.send(send.t, o.media, { mid: 1, twcc: 3 });
        const headerExtensions = [{ uri: MID_URI, id: 1 }, { uri: TWCC_URI, id: 3 }];
        const audioSsrc = randomSsrc();
        tx.addAudio({ ssrc: audioSsrc, payloadType: 111, mid: '0' });
        const videoSsrcs = o.media.layers.map(() => randomSsrc());
        tx.addVideo(videoSsrcs.map((ssrc) => ({ ssrc, payloadType: 96, mid: '1' })));
        const audio = sig.request('produce', {
          transportId: send.id, kind: 'audio', source: 'mic',
          rtpParameters: {
            mid: '0',
            codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [{ type: 'transport-cc' }] }],
            encodings: [{ ssrc: audioSsrc }], headerExtensions, rtcp: { cname: o.identity },
          },
        });
        const video = sig.request('produce', {
          transportId: send.id, kind: 'video', source: 'camera',
          rtpParameters: {
            mid: '1',
            codecs: [{
              mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {},
              rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'transport-cc' }],
            }],
            encodings: videoSsrcs.map((ssrc, i) => ({ ssrc, scalabilityMode: 'L1T1', maxBitrate: o.media.layers[i]!.kbps * 1000 * 1.5 })),
            headerExtensions, rtcp: { cname: o.identity },
          },
        });
        await Promise.all([audio, video]);
      })();
      await Promise.all([consuming, producing]);
      bot.mark('consume and produce');
      return bot.session(joinedAt);
    } catch (err) {
      await bot.close();
      throw err;
    }
  }
}
