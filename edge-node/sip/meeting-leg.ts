/**
 * The gateway's side of one phone caller in a meeting: the signalling WebSocket to the edge node (the caller's join
 * token, role `phone`), and two plain RTP transports on the node (comedia, RTP/RTCP mux): `send` carries the caller's
 * voice as Opus with audio levels, `recv` brings every other participant's audio, one consumer per producer, into a
 * jitter buffer per speaker. Plain RTP between gateway and node (no ICE, no DTLS) is cheap and simple; it is meant
 * for a gateway beside the node (same host or private network), like the pipe transports between nodes.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import WebSocket from 'ws';
import {
  PROTOCOL_VERSION, Requests, Responses, ResponseEnvelope, parseEvent,
  type EventData, type EventName, type Method, type RequestData, type ResponseData,
} from '../protocol/signalling.js';
import { JitterBuffer } from './jitter.js';
import { audioLevelOf, buildRtp, isRtcp, parseRtp, rtcpReceiverReport } from './rtp.js';

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const REQUEST_TIMEOUT_MS = 10_000;

export interface RemoteStream {
  producerId: string;
  participantId: string;
  consumerId: string;
  ssrc: number;
  levelExtId: number | null;
  jitter: JitterBuffer;
}

type LegEvents = {
  /** The node closed the signalling socket: removed (4410), meeting ended (4411), node shutdown, ... */
  closed: [code: number, reason: string];
  streamsChanged: [];
  hostAction: [action: string];
};

export interface MeetingLegOptions {
  nodeUrl: string;
  meetingId: string;
  token: string;
  /** Local address for the RTP sockets towards the node. */
  bindIp: string;
  muted: boolean;
  log: Logger;
}

export class MeetingLeg extends EventEmitter<LegEvents> {
  readonly streams = new Map<number, RemoteStream>();
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; method: Method; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private sendSock: dgram.Socket | null = null;
  private recvSock: dgram.Socket | null = null;
  private sendTarget: { ip: string; port: number } | null = null;
  private recvTransportId: string | null = null;
  private producerId: string | null = null;
  private readonly ssrc = randomInt(1, 0xffffffff);
  private seq = randomInt(0, 0xffff);
  private timestamp = randomInt(0, 0xffffffff);
  private opusPt = 100;
  private levelExtId = 1;
  private keepalive: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(private readonly ws: WebSocket, private readonly o: MeetingLegOptions) {
    super();
  }

  /** Connects, joins, opens both transports, produces the caller's audio and consumes everyone's. */
  static async open(o: MeetingLegOptions): Promise<MeetingLeg> {
    const base = o.nodeUrl.replace(/^http/, 'ws').replace(/\/$/, '');
    const ws = new WebSocket(`${base}/ws/${encodeURIComponent(o.meetingId)}?token=${encodeURIComponent(o.token)}`);
    const leg = new MeetingLeg(ws, o);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', (code, reason) => reject(new Error(`node closed the connection: ${code} ${reason.toString()}`)));
    });
    ws.removeAllListeners();
    ws.on('message', (data) => leg.onMessage(data.toString()));
    ws.on('error', (err) => o.log.debug({ err }, 'signalling socket error'));
    ws.on('close', (code, reason) => leg.onClosed(code, reason.toString()));
    try {
      await leg.setup();
    } catch (err) {
      leg.close();
      throw err;
    }
    return leg;
  }

  private async setup(): Promise<void> {
    const { rtpCapabilities } = await this.request('getRouterRtpCapabilities', {});
    const caps = rtpCapabilities as { codecs?: Array<Record<string, unknown>>; headerExtensions?: Array<Record<string, unknown>> };
    const opus = caps.codecs?.find((c) => String(c.mimeType).toLowerCase() === 'audio/opus');
    if (!opus) throw new Error('the node offers no Opus');
    this.opusPt = Number(opus.preferredPayloadType);
    const ext = caps.headerExtensions?.find((e) => e.uri === AUDIO_LEVEL_URI && e.kind === 'audio');
    this.levelExtId = Number(ext?.preferredId ?? 1);
    const joined = await this.request('join', {
      protocolVersion: PROTOCOL_VERSION,
      rtpCapabilities: {
        codecs: [{ ...opus, rtcpFeedback: [] }],
        headerExtensions: ext ? [{ ...ext, direction: 'sendrecv' }] : [],
      },
    });
    this.recvSock = await bindUdp(this.o.bindIp);
    this.recvSock.on('message', (buf) => this.onRtp(buf));
    const recv = await this.request('createPlainTransport', { direction: 'recv' });
    this.recvTransportId = recv.id;
    // comedia: the node sends to wherever our first packet came from.
    const latch = () => this.recvSock?.send(rtcpReceiverReport(this.ssrc), recv.port, recv.ip);
    latch();
    this.keepalive = setInterval(latch, 5000);

    this.sendSock = await bindUdp(this.o.bindIp);
    const send = await this.request('createPlainTransport', { direction: 'send' });
    this.sendTarget = { ip: send.ip, port: send.port };
    const produced = await this.request('produce', {
      transportId: send.id,
      kind: 'audio',
      source: 'mic',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: this.opusPt, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
        headerExtensions: ext ? [{ uri: AUDIO_LEVEL_URI, id: this.levelExtId }] : [],
        encodings: [{ ssrc: this.ssrc }],
        rtcp: { cname: `phone-${this.ssrc}`, reducedSize: true },
      },
    });
    this.producerId = produced.producerId;
    if (this.o.muted) await this.request('pauseProducer', { producerId: this.producerId });
    for (const p of joined.producers) if (p.kind === 'audio') await this.consume(p.id);
  }

  /** Sends one 20 ms Opus frame of the caller's voice with its level. */
  sendOpus(payload: Buffer, level: number): void {
    if (!this.sendSock || !this.sendTarget || this.closed) return;
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + 960) >>> 0;
    const pkt = buildRtp({
      payloadType: this.opusPt, sequenceNumber: this.seq, timestamp: this.timestamp, ssrc: this.ssrc, payload,
      audioLevel: { id: this.levelExtId, level, voice: level < 127 },
    });
    this.sendSock.send(pkt, this.sendTarget.port, this.sendTarget.ip);
  }

  private async consume(producerId: string): Promise<void> {
    if (!this.recvTransportId || this.closed) return;
    const c = await this.request('consume', { transportId: this.recvTransportId, producerId });
    const params = c.rtpParameters as { encodings?: Array<{ ssrc?: number }>; headerExtensions?: Array<{ uri: string; id: number }> };
    const ssrc = params.encodings?.[0]?.ssrc;
    if (!ssrc) throw new Error('consumer without an SSRC');
    this.streams.set(ssrc, {
      producerId, participantId: c.participantId, consumerId: c.consumerId, ssrc,
      levelExtId: params.headerExtensions?.find((e) => e.uri === AUDIO_LEVEL_URI)?.id ?? null,
      jitter: new JitterBuffer(),
    });
    await this.request('resumeConsumer', { consumerId: c.consumerId });
    this.emit('streamsChanged');
  }

  private dropConsumer(consumerId: string): void {
    for (const [ssrc, s] of this.streams) if (s.consumerId === consumerId) this.streams.delete(ssrc);
    this.emit('streamsChanged');
  }

  private onRtp(buf: Buffer): void {
    if (isRtcp(buf)) return;
    const p = parseRtp(buf);
    const s = p && this.streams.get(p.ssrc);
    if (!p || !s) return;
    s.jitter.push(p.sequenceNumber, { payload: Buffer.from(p.payload), level: audioLevelOf(p, s.levelExtId) });
  }

  private onEvent<E extends EventName>(event: E, data: EventData<E>): void {
    switch (event) {
      case 'newProducer': {
        const d = data as EventData<'newProducer'>;
        if (d.kind === 'audio') this.consume(d.id).catch((err) => this.o.log.warn({ err }, 'consume failed'));
        break;
      }
      case 'consumerClosed':
        this.dropConsumer((data as EventData<'consumerClosed'>).consumerId);
        break;
      case 'hostAction':
        this.emit('hostAction', (data as EventData<'hostAction'>).action);
        break;
      default:
        break;
    }
  }

  private onMessage(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    if (json && typeof json === 'object' && 'event' in json) {
      try {
        const e = parseEvent(json);
        this.onEvent(e.event, e.data);
      } catch (err) {
        this.o.log.debug({ err }, 'unknown event');
      }
      return;
    }
    const res = ResponseEnvelope.safeParse(json);
    if (!res.success || typeof res.data.id !== 'number') return;
    const p = this.pending.get(res.data.id);
    if (!p) return;
    this.pending.delete(res.data.id);
    clearTimeout(p.timer);
    if (!res.data.ok) p.reject(new Error(`${p.method}: ${res.data.error.code}: ${res.data.error.message}`));
    else {
      const parsed = Responses[p.method].safeParse(res.data.data);
      if (parsed.success) p.resolve(parsed.data);
      else p.reject(new Error(`${p.method}: malformed response`));
    }
  }

  request<M extends Method>(method: M, data: RequestData<M>): Promise<ResponseData<M>> {
    Requests[method].parse(data);
    return new Promise((resolve, reject) => {
      if (this.closed || this.ws.readyState !== WebSocket.OPEN) return reject(new Error('signalling closed'));
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, method, timer });
      this.ws.send(JSON.stringify({ id, method, data }));
    });
  }

  private onClosed(code: number, reason: string): void {
    const wasOpen = !this.closed;
    this.close();
    if (wasOpen) this.emit('closed', code, reason);
  }

  /** Leaves (best effort) and closes sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepalive) clearInterval(this.keepalive);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('signalling closed'));
    }
    this.pending.clear();
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ id: this.nextId++, method: 'leave', data: {} }));
      this.ws.close(1000, 'call ended');
    } else if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    this.sendSock?.close();
    this.recvSock?.close();
    this.sendSock = this.recvSock = null;
    this.streams.clear();
  }
}

function bindUdp(ip: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, ip, () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      resolve(s);
    });
  });
}
