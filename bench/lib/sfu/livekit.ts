/**
 * LiveKit server 1.8.3 as a peer: built by ../shared/peers/build-livekit.sh (Go; cached), run single-node with
 * `--dev --bind 127.0.0.1` and a generated config (loopback-only ICE on one UDP port in the media range), keys
 * devkey/secret. Bots speak its signalling (protobuf over WebSocket at /rtc, messages from @livekit/protocol):
 * AddTrackRequest + an SDP offer on the publisher connection, answers to the server's offers on the subscriber one,
 * trickle, ping.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as jose from 'jose';
import WebSocket from 'ws';
import {
  AddTrackRequest,
  SessionDescription,
  SignalRequest,
  SignalResponse,
  SignalTarget,
  TrackSource,
  TrackType,
  TrickleRequest,
  VideoLayer,
  VideoQuality,
} from '@livekit/protocol';
import { OFFER_EXT_IDS, EXT, PT, parseCandidate, parseSdp, publishOffer, receiveAnswer } from '../rtc/sdp.js';
import { randomSsrc } from '../rtc/sender.js';
import type { BotTransport, IceCandidateInfo } from '../rtc/transport.js';
import { BotParts } from './parts.js';
import { freePorts, processTree, startProcess, until } from '../system.js';
import type { BotSession, ConnectInfo, JoinOptions, SfuClient, SfuServer } from './types.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const API_KEY = 'devkey';
const API_SECRET = 'secret';
const run = promisify(execFile);
const debug = (line: string): void => {
  if (process.env.BENCH_DEBUG) process.stderr.write(`[livekit] ${line}\n`);
};

/** The peers folder beside the repository (../shared/peers), or LIVEKIT_BUILD_SCRIPT. */
function buildScript(): string {
  return process.env.LIVEKIT_BUILD_SCRIPT ?? path.resolve(ROOT, '..', '..', 'shared', 'peers', 'build-livekit.sh');
}

export async function livekitBinary(): Promise<string> {
  if (process.env.LIVEKIT_BIN) return process.env.LIVEKIT_BIN;
  const candidates = [buildScript(), path.resolve(ROOT, '..', 'shared', 'peers', 'build-livekit.sh')];
  for (const script of candidates) {
    try {
      await fs.access(script);
    } catch {
      continue;
    }
    try {
      const { stdout } = await run('bash', [script], { maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 });
      return stdout.trim().split('\n').at(-1)!;
    } catch (err) {
      throw new Error(`LiveKit could not be built with ${script}: ${(err as Error).message.split('\n').slice(-3).join(' ')}`);
    }
  }
  throw new Error(`LiveKit is missing: no build script at ${candidates.join(' or ')} (set LIVEKIT_BIN to a livekit-server 1.8.3 binary)`);
}

export async function startLivekit(o: { workDir: string }): Promise<SfuServer> {
  const bin = await livekitBinary();
  const port = await freePorts('http', 1);
  const udp = await freePorts('peer', 2);
  const config = path.join(o.workDir, 'livekit.yaml');
  await fs.writeFile(config, [
    `port: ${port}`,
    'bind_addresses: ["127.0.0.1"]',
    'rtc:',
    `  udp_port: ${udp}`,
    `  tcp_port: ${udp + 1}`,
    '  node_ip: 127.0.0.1',
    '  use_external_ip: false',
    '  enable_loopback_candidate: true',
    '  interfaces: { includes: ["lo"] }',
    '  ips: { includes: ["127.0.0.1/32"] }',
    `keys: { ${API_KEY}: ${API_SECRET} }`,
    `logging: { level: ${process.env.BENCH_LIVEKIT_LOG ?? 'warn'} }`,
    'turn: { enabled: false }',
    '',
  ].join('\n'));
  const logFile = path.join(o.workDir, 'livekit.log');
  const proc = startProcess(bin, ['--dev', '--bind', '127.0.0.1', '--config', config], { logFile });
  const url = `http://127.0.0.1:${port}`;
  try {
    await until('LiveKit to answer', async () => {
      if (proc.child.exitCode !== null) throw new Error(`livekit-server exited (${proc.child.exitCode}); see ${logFile}`);
      return (await fetch(url)).ok;
    }, 30_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    kind: 'livekit',
    connect: { kind: 'livekit', url: url.replace(/^http/, 'ws'), extra: {} },
    pids: () => processTree(proc.child.pid!),
    mediaCpuSeconds: async () => null,
    prepareRoom: async () => undefined,
    describe: () => ({ server: 'livekit-server 1.8.3', binary: bin, config, log: logFile }),
    stop: proc.stop,
  };
}

export async function livekitToken(identity: string, room: string): Promise<string> {
  return new jose.SignJWT({ name: identity, video: { room, roomJoin: true, canPublish: true, canSubscribe: true } })
    .setProtectedHeader({ alg: 'HS256' }).setIssuer(API_KEY).setSubject(identity).setNotBefore(Math.floor(Date.now() / 1000) - 10)
    .setExpirationTime('2h').sign(new TextEncoder().encode(API_SECRET));
}

export class LivekitClient implements SfuClient {
  constructor(private readonly info: ConnectInfo) {}

  async join(o: JoinOptions): Promise<BotSession> {
    const token = await livekitToken(o.identity, o.room);
    const ws = new WebSocket(`${this.info.url}/rtc?access_token=${encodeURIComponent(token)}&auto_subscribe=${o.subscribe ? 1 : 0}&sdk=js&version=2.5.0&protocol=15`);
    ws.binaryType = 'nodebuffer';
    let ping: NodeJS.Timeout | null = null;
    const waiters = new Map<string, (r: SignalResponse) => void>();
    const trickles: Record<number, IceCandidateInfo[]> = { [SignalTarget.PUBLISHER]: [], [SignalTarget.SUBSCRIBER]: [] };
    let onOffer: ((sdp: string) => void) | null = null;
    const early: string[] = [];
    const sendReq = (message: SignalRequest['message']): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(new SignalRequest({ message }).toBinary());
    };
    const wait = (what: string, ms = 30_000): Promise<SignalResponse> => new Promise((resolve, reject) => {
      const t = setTimeout(() => { waiters.delete(what); reject(new Error(`LiveKit: no ${what} in ${ms} ms`)); }, ms);
      waiters.set(what, (r) => { clearTimeout(t); resolve(r); });
    });
    const closed = new Promise<never>((_, reject) => {
      ws.once('close', (code, reason) => reject(new Error(`LiveKit signalling closed (${code} ${reason.toString()})`)));
      ws.once('error', (err) => reject(new Error(`LiveKit signalling: ${err.message}`)));
    });
    closed.catch(() => undefined);
    ws.on('message', (data: Buffer) => {
      const r = SignalResponse.fromBinary(new Uint8Array(data));
      const m = r.message;
      if (m.case === 'trickle') {
        const init = JSON.parse(m.value.candidateInit) as { candidate?: string };
        const c = init.candidate ? parseCandidate(init.candidate) : null;
        if (c) trickles[m.value.target]!.push(c);
      } else if (m.case === 'offer') {
        if (onOffer) onOffer(m.value.sdp);
        else early.push(m.value.sdp);
      } else if (m.case && waiters.has(m.case)) {
        waiters.get(m.case)!(r);
        waiters.delete(m.case);
      }
    });
    const bot = new BotParts(() => {
      if (ping) clearInterval(ping);
      sendReq({ case: 'leave', value: {} as never });
      ws.close();
    });
    /** Waits for a loopback candidate from the server's trickle (or the SDP), then connects. */
    const connect = async (t: BotTransport, remote: ReturnType<typeof parseSdp>, target: SignalTarget): Promise<void> => {
      const cands = await until('a loopback ICE candidate from LiveKit', () => {
        const all = [...remote.transport.candidates, ...trickles[target]!];
        return all.some((c) => c.ip.startsWith('127.') && c.protocol === 'udp') ? all : null;
      }, 15_000, 50);
      await t.connect({ ...remote.transport, candidates: cands });
      if (remote.media.some((m) => m.kind === 'application' && m.port !== 0)) await t.startSctp();
    };
    try {
      const joinMsg = await Promise.race([wait('join'), closed]);
      const join = joinMsg.message.value as { pingInterval: number };
      ping = setInterval(() => sendReq({ case: 'ping', value: BigInt(Date.now()) }), Math.max(1, join.pingInterval || 5) * 1000);
      const joinedAt = performance.now();
      // Every LiveKit client keeps its subscriber connection up (with its data channels): a participant without it
      // never becomes active. A bot that does not subscribe joins with auto_subscribe=0 and so receives nothing on it.
      {
        const t = await bot.transport(false);
        let connected: Promise<void> | null = null;
        const rx = bot.receive(t);
        const answer = (sdp: string): void => {
          const offer = parseSdp(sdp);
          debug(`${o.identity}: subscriber offer: ${offer.media.map((m) => `${m.mid}:${m.kind}:${m.direction}:${m.port}`).join(' ')}`);
          const twcc = offer.media.find((m) => m.kind === 'video')?.extmap.get(EXT.twcc);
          if (twcc) rx.setTwccExtension(twcc);
          rx.setVideoPayloadTypes(offer.media.filter((m) => m.kind === 'video').flatMap((m) => m.payloads.filter((p) => /^vp8\//i.test(p.codec)).map((p) => p.pt)));
          sendReq({ case: 'answer', value: new SessionDescription({ type: 'answer', sdp: receiveAnswer(t.local, offer) }) });
          if (!connected) {
            t.controlling = offer.transport.ice.iceLite ?? false;
            connected = connect(t, offer, SignalTarget.SUBSCRIBER);
            connected.then(() => debug(`${o.identity}: subscriber connected`), (err: Error) => debug(`${o.identity}: subscriber: ${err.message}`));
          }
        };
        onOffer = answer;
        for (const sdp of early.splice(0)) answer(sdp);
        // joined means connected, as for the other SFUs: the server's first offer comes right after the join
        await Promise.race([until('LiveKit\'s subscriber offer', () => connected !== null, 15_000, 20), closed]);
        await Promise.race([connected, closed]);
      }
      if (o.publish) {
        const t = await bot.transport(true);
        const streamId = randomUUID();
        const audioCid = randomUUID();
        const videoCid = randomUUID();
        const rids = o.media.layers.map((l) => l.rid);
        const quality = [VideoQuality.LOW, VideoQuality.MEDIUM, VideoQuality.HIGH];
        sendReq({ case: 'addTrack', value: new AddTrackRequest({ cid: audioCid, name: 'mic', type: TrackType.AUDIO, source: TrackSource.MICROPHONE }) });
        await wait('trackPublished');
        sendReq({
          case: 'addTrack',
          value: new AddTrackRequest({
            cid: videoCid, name: 'camera', type: TrackType.VIDEO, source: TrackSource.CAMERA, width: 1280, height: 720,
            layers: o.media.layers.map((l, i) => new VideoLayer({ quality: quality[i], width: l.width, height: l.height, bitrate: l.kbps * 1000 })),
          }),
        });
        await wait('trackPublished');
        const audioSsrc = randomSsrc();
        const offer = publishOffer(t.local, { streamId, audioTrackId: audioCid, videoTrackId: videoCid, rids, audioSsrc });
        sendReq({ case: 'offer', value: new SessionDescription({ type: 'offer', sdp: offer }) });
        const ans = await Promise.race([wait('answer'), closed]);
        const remote = parseSdp((ans.message.value as SessionDescription).sdp);
        const tx = bot.send(t, o.media, OFFER_EXT_IDS);
        tx.addAudio({ ssrc: audioSsrc, payloadType: PT.opus, mid: '0' });
        tx.addVideo(rids.map((rid) => ({ ssrc: randomSsrc(), payloadType: PT.vp8, mid: '1', rid })));
        await Promise.race([connect(t, remote, SignalTarget.PUBLISHER), closed]);
      }
      return bot.session(joinedAt);
    } catch (err) {
      await bot.close();
      throw err;
    }
  }
}
