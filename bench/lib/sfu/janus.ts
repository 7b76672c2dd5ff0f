/**
 * Janus 1.1.2 VideoRoom (Debian's `janus`) as a peer: started from a config folder generated in the run's temp dir
 * (HTTP transport on 127.0.0.1 only, ICE on the loopback interface only, RTP ports in the media range, only the
 * VideoRoom plugin). Bots speak its JSON API over HTTP (long-poll for events): every bot joins the room as a
 * publisher (viewers publish nothing, as in Janus' own demos) to hear of feeds, publishes with a simulcast offer
 * when it publishes, and subscribes to every other feed on a second handle, answering Janus' offers.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXT, OFFER_EXT_IDS, PT, parseSdp, publishOffer, receiveAnswer } from '../rtc/sdp.js';
import { randomSsrc } from '../rtc/sender.js';
import { BotParts } from './parts.js';
import { freePorts, portRange, processTree, startProcess, until } from '../system.js';
import type { BotSession, ConnectInfo, JoinOptions, SfuClient, SfuServer } from './types.js';

const run = promisify(execFile);
const LIB = '/usr/lib/x86_64-linux-gnu/janus';

/** A stable numeric VideoRoom id for a room name. */
export function janusRoomId(room: string): number {
  let h = 7;
  for (const c of room) h = (h * 31 + c.charCodeAt(0)) % 2_000_000_000;
  return h + 1000;
}

/** `janus -V` prints the version and exits 1: look for the version line instead of the exit code. */
async function janusVersion(): Promise<string | null> {
  try {
    const { stdout } = await run('janus', ['-V']);
    return stdout;
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? '');
    return /Janus version/.test(out) ? out : null;
  }
}

async function ensureJanus(): Promise<string> {
  if (await janusVersion()) return 'janus';
  if (process.getuid?.() === 0) {
    try {
      await run('apt-get', ['install', '-y', '-q', 'janus'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 10 * 60_000 });
      if (await janusVersion()) return 'janus';
      throw new Error('janus -V shows no version after the install');
    } catch (err) {
      throw new Error(`Janus is missing and 'apt-get install -y janus' failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error("Janus is missing: install Debian's package with 'apt-get install -y janus' (1.1.2 on Debian 12)");
}

/** The JSON API over HTTP: one session, handles, a long-poll loop dispatching events to waiters. */
export class JanusApi {
  session = 0;
  private closed = false;
  private readonly waiters: { match: (e: any) => boolean; resolve: (e: any) => void }[] = [];
  private readonly listeners: ((e: any) => void)[] = [];

  constructor(private readonly base: string) {}

  async post(pathPart: string, body: Record<string, unknown>): Promise<any> {
    const res = await fetch(`${this.base}${pathPart}`, { method: 'POST', body: JSON.stringify({ ...body, transaction: randomUUID() }) });
    const j = (await res.json()) as any;
    if (j.janus === 'error') throw new Error(`Janus: ${j.error?.code} ${j.error?.reason}`);
    return j;
  }

  async start(): Promise<void> {
    this.session = (await this.post('/janus', { janus: 'create' })).data.id;
    void this.poll();
  }

  private async poll(): Promise<void> {
    while (!this.closed) {
      try {
        const res = await fetch(`${this.base}/janus/${this.session}?maxev=20&rid=${Date.now()}`);
        const body = (await res.json()) as any;
        for (const e of Array.isArray(body) ? body : [body]) this.dispatch(e);
      } catch {
        if (!this.closed) await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private dispatch(e: any): void {
    for (const l of this.listeners) l(e);
    const i = this.waiters.findIndex((w) => w.match(e));
    if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(e);
  }

  on(fn: (e: any) => void): void {
    this.listeners.push(fn);
  }

  wait(what: string, match: (e: any) => boolean, ms = 30_000): Promise<any> {
    return new Promise((resolve, reject) => {
      const w = { match, resolve: (e: any) => { clearTimeout(t); resolve(e); } };
      const t = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`Janus: no ${what} in ${ms} ms`));
      }, ms);
      this.waiters.push(w);
    });
  }

  async attach(): Promise<number> {
    return (await this.post(`/janus/${this.session}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).data.id;
  }

  /** A plugin request answered synchronously (create, ...). */
  async sync(handle: number, body: Record<string, unknown>): Promise<any> {
    const j = await this.post(`/janus/${this.session}/${handle}`, { janus: 'message', body });
    const data = j.plugindata?.data;
    if (data?.error) throw new Error(`Janus VideoRoom: ${data.error_code} ${data.error}`);
    return data;
  }

  /** A plugin request answered by an asynchronous event on `handle` (join, publish, start, ...). */
  async request(handle: number, body: Record<string, unknown>, jsep?: { type: string; sdp: string }, expect = 'event'): Promise<any> {
    const event = this.wait(`${String(body.request)} answer`, (e) => e.sender === handle && e.janus === 'event' && e.plugindata?.data &&
      (e.plugindata.data.error || expect === 'any' || e.plugindata.data.videoroom === expect || (expect === 'event' && e.plugindata.data.videoroom === 'event')));
    await this.post(`/janus/${this.session}/${handle}`, { janus: 'message', body, ...(jsep ? { jsep } : {}) });
    const e = await event;
    if (e.plugindata.data.error) throw new Error(`Janus VideoRoom ${String(body.request)}: ${e.plugindata.data.error_code} ${e.plugindata.data.error}`);
    return e;
  }

  async trickleDone(handle: number): Promise<void> {
    await this.post(`/janus/${this.session}/${handle}`, { janus: 'trickle', candidate: { completed: true } }).catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.session) await this.post(`/janus/${this.session}`, { janus: 'destroy' }).catch(() => undefined);
  }
}

export async function startJanus(o: { workDir: string }): Promise<SfuServer> {
  const bin = await ensureJanus();
  const dir = path.join(o.workDir, 'janus');
  await fs.mkdir(dir, { recursive: true });
  const port = await freePorts('http', 1);
  const [lo, hi] = portRange('peer');
  const rtpRange = `${lo}-${hi}`;
  const plugins = (await fs.readdir(`${LIB}/plugins`)).filter((f) => f.endsWith('.so') && f !== 'libjanus_videoroom.so');
  const transports = (await fs.readdir(`${LIB}/transports`)).filter((f) => f.endsWith('.so') && f !== 'libjanus_http.so');
  await fs.writeFile(path.join(dir, 'janus.jcfg'), `general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  debug_level = ${process.env.BENCH_JANUS_DEBUG ?? 3}
  session_timeout = 120
  protected_folders = ["/bin", "/boot", "/dev", "/etc", "/initrd", "/lib", "/lib32", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var"]
}
plugins: { disable = "${plugins.join(',')}" }
transports: { disable = "${transports.join(',')}" }
events: { broadcast = false }
loggers: { disable = "libjanus_jsonlog.so" }
media: { rtp_port_range = "${rtpRange}" }
nat: {
  ice_enforce_list = "127.0.0.1"
  ignore_mdns = true
  full_trickle = false
}
`);
  await fs.writeFile(path.join(dir, 'janus.transport.http.jcfg'), `general: {
  json = "compact"
  base_path = "/janus"
  http = true
  port = ${port}
  ip = "127.0.0.1"
  https = false
}
admin: { admin_http = false }
cors: { }
`);
  await fs.writeFile(path.join(dir, 'janus.plugin.videoroom.jcfg'), 'general: { }\n');
  const logFile = path.join(o.workDir, 'janus.log');
  const proc = startProcess(bin, ['-C', path.join(dir, 'janus.jcfg'), '-F', dir, '-o'], { logFile });
  const url = `http://127.0.0.1:${port}`;
  try {
    await until('Janus to answer', async () => {
      if (proc.child.exitCode !== null) throw new Error(`janus exited (${proc.child.exitCode}); see ${logFile}`);
      return (await fetch(`${url}/janus/info`)).ok;
    }, 30_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const admin = new JanusApi(url);
  await admin.start();
  const adminHandle = await admin.attach();
  const rooms = new Set<number>();
  return {
    kind: 'janus',
    connect: { kind: 'janus', url, extra: {} },
    pids: () => processTree(proc.child.pid!),
    mediaCpuSeconds: async () => null,
    prepareRoom: async (room, maxPublishers) => {
      const id = janusRoomId(room);
      if (rooms.has(id)) return;
      await admin.sync(adminHandle, {
        request: 'create', room: id, publishers: Math.max(maxPublishers, 2), audiocodec: 'opus', videocodec: 'vp8', bitrate: 0,
        fir_freq: 0, notify_joining: false, transport_wide_cc_ext: true, permanent: false,
      });
      rooms.add(id);
    },
    describe: () => ({ server: 'janus 1.1.2 VideoRoom (Debian)', config: dir, rtpPorts: rtpRange, log: logFile }),
    stop: async () => {
      await admin.close();
      await proc.stop();
    },
  };
}

export class JanusClient implements SfuClient {
  constructor(private readonly info: ConnectInfo) {}

  async join(o: JoinOptions): Promise<BotSession> {
    const api = new JanusApi(this.info.url);
    const bot = new BotParts(() => api.close());
    try {
      await api.start();
      const room = janusRoomId(o.room);
      const pub = await api.attach();
      const joined = await api.request(pub, { request: 'join', ptype: 'publisher', room, display: o.identity }, undefined, 'joined');
      const myId = joined.plugindata.data.id as number;
      const joinedAt = performance.now();

      if (o.subscribe) {
        const sub = await api.attach();
        const t = await bot.transport(false);
        const rx = bot.receive(t);
        const feeds = new Set<number>();
        let started = false;
        let connecting: Promise<void> | null = null;
        let chain = Promise.resolve();
        const answer = async (sdp: string): Promise<void> => {
          const offer = parseSdp(sdp);
          const twcc = offer.media.find((m) => m.kind === 'video')?.extmap.get(EXT.twcc);
          if (twcc) rx.setTwccExtension(twcc);
          rx.setVideoPayloadTypes(offer.media.filter((m) => m.kind === 'video').flatMap((m) => m.payloads.filter((p) => /^vp8\//i.test(p.codec)).map((p) => p.pt)));
          await api.request(sub, { request: 'start' }, { type: 'answer', sdp: receiveAnswer(t.local, offer) }, 'any');
          if (!connecting) {
            t.controlling = offer.transport.ice.iceLite ?? false;
            connecting = t.connect(offer.transport);
          }
        };
        const addFeeds = (list: { id: number }[]): void => {
          const fresh = list.map((p) => p.id).filter((id) => id !== myId && !feeds.has(id));
          if (fresh.length === 0) return;
          fresh.forEach((id) => feeds.add(id));
          chain = chain.then(async () => {
            const streams = fresh.map((feed) => ({ feed }));
            const e = started
              ? await api.request(sub, { request: 'subscribe', streams }, undefined, 'updated')
              : await api.request(sub, { request: 'join', ptype: 'subscriber', room, streams, private_id: 0 }, undefined, 'attached');
            started = true;
            if (e.jsep?.sdp) await answer(e.jsep.sdp);
          }).catch(() => undefined);
        };
        api.on((e) => {
          if (e.sender === pub && Array.isArray(e.plugindata?.data?.publishers)) addFeeds(e.plugindata.data.publishers);
        });
        addFeeds(joined.plugindata.data.publishers ?? []);
        if (feeds.size > 0) {
          await chain;
          if (!connecting) throw new Error('Janus: subscription gave no offer');
          await connecting;
        }
      }
      if (o.publish) {
        const t = await bot.transport(true);
        const rids = o.media.layers.map((l) => l.rid);
        const audioSsrc = randomSsrc();
        const streamId = randomUUID();
        const offer = publishOffer(t.local, { streamId, audioTrackId: randomUUID(), videoTrackId: randomUUID(), rids, audioSsrc });
        const e = await api.request(pub, { request: 'publish', audio: true, video: true, data: false }, { type: 'offer', sdp: offer });
        await api.trickleDone(pub);
        if (!e.jsep?.sdp) throw new Error('Janus: publish gave no answer');
        const remote = parseSdp(e.jsep.sdp);
        if (process.env.BENCH_DEBUG) process.stderr.write(`[janus] ${o.identity} publish answer:\n${e.jsep.sdp}\n`);
        const tx = bot.send(t, o.media, OFFER_EXT_IDS);
        tx.addAudio({ ssrc: audioSsrc, payloadType: PT.opus, mid: '0' });
        tx.addVideo(rids.map((rid) => ({ ssrc: randomSsrc(), payloadType: PT.vp8, mid: '1', rid })));
        await t.connect(remote.transport);
      }
      return bot.session(joinedAt);
    } catch (err) {
      await bot.close();
      throw err;
    }
  }
}
