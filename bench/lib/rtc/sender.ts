/**
 * Sends pre-encoded media as RTP the way a browser would: VP8 simulcast (three SSRCs, RTP payload descriptor with
 * picture id, TL0PICIDX and TID), Opus in 20 ms packets, transport-wide sequence numbers, sender reports every
 * second; answers NACK from a packet history and PLI/FIR with the next keyframe. Never encodes anything.
 */
import crypto from 'node:crypto';
import {
  GenericNack,
  PictureLossIndication,
  RtcpRrPacket,
  RtcpPayloadSpecificFeedback,
  RtcpSenderInfo,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
  RtpHeader,
  type RtcpPacket,
} from 'werift';
import type { BenchMedia, VideoLayer } from '../media.js';
import type { BotTransport } from './transport.js';

/** RTP header extension ids the sender writes (whatever the SFU negotiated; absent: not written). */
export interface SendExtensions {
  mid?: number;
  rid?: number;
  twcc?: number;
}
export interface StreamSpec {
  ssrc: number;
  payloadType: number;
  mid: string;
  rid?: string;
}

const MAX_PAYLOAD = 1180;
const HISTORY = 1024;

export function randomSsrc(): number {
  return crypto.randomBytes(4).readUInt32BE(0) >>> 1 || 1;
}

/** Seconds since 1900 as a 64-bit NTP timestamp. */
function ntpNow(): bigint {
  const ms = Date.now() + 2_208_988_800_000;
  const sec = BigInt(Math.floor(ms / 1000));
  const frac = BigInt(Math.floor(((ms % 1000) / 1000) * 2 ** 32));
  return (sec << 32n) | frac;
}

interface Sent {
  header: RtpHeader;
  payload: Buffer;
}

/** One RTP stream: sequence numbers, timestamps, history, counters. */
class RtpStream {
  seq = crypto.randomInt(0, 65536);
  tsBase = crypto.randomInt(0, 2 ** 31);
  packets = 0;
  octets = 0;
  lastTs = 0;
  retransmitted = 0;
  /** Cumulative loss the SFU reports for this stream in its receiver reports (what it lost on the way in). */
  lostAtSfu = 0;
  readonly history: (Sent | undefined)[] = new Array(HISTORY);
  constructor(readonly spec: StreamSpec, readonly clockRate: number) {}
}

export class MediaSender {
  private readonly video: { stream: RtpStream; layer: VideoLayer; index: number; keyframeWanted: boolean; pictureId: number; tl0: number }[] = [];
  private audio: { stream: RtpStream; index: number } | null = null;
  private readonly startedAt = performance.now();
  private frame = 0;
  private audioPacket = 0;
  keyframesSent = 0;
  nacksReceived = 0;
  plisReceived = 0;
  private srTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly transport: BotTransport,
    private readonly media: BenchMedia,
    private readonly ext: SendExtensions,
  ) {}

  addVideo(specs: StreamSpec[]): void {
    specs.forEach((spec, i) => {
      const layer = this.media.layers[i]!;
      this.video.push({ stream: new RtpStream(spec, 90000), layer, index: 0, keyframeWanted: false, pictureId: crypto.randomInt(0, 0x7fff), tl0: 0 });
    });
  }
  addAudio(spec: StreamSpec): void {
    this.audio = { stream: new RtpStream(spec, 48000), index: crypto.randomInt(0, this.media.audio.length) };
  }

  get streams(): RtpStream[] {
    return [...this.video.map((v) => v.stream), ...(this.audio ? [this.audio.stream] : [])];
  }

  /** Sends whatever is due by now (frames at the clip's rate, audio every 20 ms); skips ahead after a long stall. */
  tick(now = performance.now()): void {
    const elapsed = now - this.startedAt;
    const frameDue = Math.floor((elapsed * this.media.fps) / 1000);
    if (frameDue - this.frame > 10) this.frame = frameDue - 1;
    while (this.frame < frameDue) {
      this.frame++;
      for (const v of this.video) this.sendFrame(v);
    }
    if (this.audio) {
      const due = Math.floor(elapsed / 20);
      if (due - this.audioPacket > 10) this.audioPacket = due - 1;
      while (this.audioPacket < due) {
        this.audioPacket++;
        const a = this.audio;
        const payload = this.media.audio[a.index++ % this.media.audio.length]!;
        this.send(a.stream, payload, (this.audioPacket * 960) >>> 0, true);
      }
    }
    if (!this.srTimer) this.srTimer = setInterval(() => this.sendReports(), 1000);
  }

  private sendFrame(v: (typeof this.video)[number]): void {
    const frames = v.layer.frames;
    if (v.keyframeWanted) {
      let k = v.index % frames.length;
      while (!frames[k]!.key) k = (k + 1) % frames.length;
      v.index = k;
      v.keyframeWanted = false;
    }
    const f = frames[v.index % frames.length]!;
    v.index = (v.index + 1) % frames.length;
    if (f.key) {
      this.keyframesSent++;
      v.tl0 = (v.tl0 + 1) & 0xff;
    }
    v.pictureId = (v.pictureId + 1) & 0x7fff;
    const ts = (this.frame * (90000 / this.media.fps)) >>> 0;
    // VP8 payload descriptor (RFC 7741): X, S on the first packet, PID 0; I (15-bit picture id), L (TL0PICIDX), T (TID 0, Y).
    for (let off = 0; off < f.data.length; off += MAX_PAYLOAD) {
      const chunk = f.data.subarray(off, off + MAX_PAYLOAD);
      const d = Buffer.allocUnsafe(6 + chunk.length);
      d[0] = 0x80 | (off === 0 ? 0x10 : 0);
      d[1] = 0xe0;
      d[2] = 0x80 | (v.pictureId >> 8);
      d[3] = v.pictureId & 0xff;
      d[4] = v.tl0;
      d[5] = 0x20;
      chunk.copy(d, 6);
      this.send(v.stream, d, ts, off + MAX_PAYLOAD >= f.data.length);
    }
  }

  private send(s: RtpStream, payload: Buffer, ts: number, marker: boolean): void {
    s.seq = (s.seq + 1) & 0xffff;
    s.lastTs = (s.tsBase + ts) >>> 0;
    const header = new RtpHeader({
      payloadType: s.spec.payloadType, sequenceNumber: s.seq, timestamp: s.lastTs, ssrc: s.spec.ssrc, marker,
    });
    this.writeExtensions(header, s.spec);
    s.history[s.seq % HISTORY] = { header, payload };
    s.packets++;
    s.octets += payload.length;
    this.transport.sendRtp(header, payload);
  }

  private writeExtensions(header: RtpHeader, spec: StreamSpec): void {
    const exts: { id: number; payload: Buffer }[] = [];
    if (this.ext.mid) exts.push({ id: this.ext.mid, payload: Buffer.from(spec.mid) });
    if (this.ext.rid && spec.rid) exts.push({ id: this.ext.rid, payload: Buffer.from(spec.rid) });
    if (this.ext.twcc) {
      const b = Buffer.allocUnsafe(2);
      b.writeUInt16BE(this.transport.nextTwccSeq());
      exts.push({ id: this.ext.twcc, payload: b });
    }
    if (exts.length) {
      header.extension = true;
      header.extensions = exts.sort((a, b) => a.id - b.id);
    }
  }

  /** RTCP from the SFU about what we send. */
  handleRtcp(p: RtcpPacket): void {
    if (p instanceof RtcpRrPacket) {
      for (const r of p.reports) {
        const s = this.streams.find((x) => x.spec.ssrc === r.ssrc);
        if (s) s.lostAtSfu = Math.max(0, r.packetsLost);
      }
    } else if (p instanceof RtcpTransportLayerFeedback && p.feedback instanceof GenericNack) {
      const s = this.streams.find((x) => x.spec.ssrc === p.feedback.mediaSourceSsrc);
      if (!s) return;
      this.nacksReceived++;
      for (const seq of (p.feedback as GenericNack).lost) {
        const h = s.history[seq % HISTORY];
        if (!h || h.header.sequenceNumber !== seq) continue;
        s.retransmitted++;
        this.writeExtensions(h.header, s.spec);
        this.transport.sendRtp(h.header, h.payload);
      }
    } else if (p instanceof RtcpPayloadSpecificFeedback) {
      const fb = p.feedback;
      // PLI names the media SSRC; FIR lists its entries (werift does not export the FIR class: read its shape)
      const fir = (fb as { fir?: { ssrc: number }[] }).fir;
      const ssrcs = fb instanceof PictureLossIndication ? [fb.mediaSsrc] : Array.isArray(fir) ? fir.map((e) => e.ssrc) : [];
      for (const ssrc of ssrcs) {
        const v = this.video.find((x) => x.stream.spec.ssrc === ssrc);
        if (v) {
          this.plisReceived++;
          v.keyframeWanted = true;
        }
      }
    }
  }

  private sendReports(): void {
    const ntp = ntpNow();
    this.transport.sendRtcp(this.streams.filter((s) => s.packets > 0).map((s) => new RtcpSrPacket({
      ssrc: s.spec.ssrc,
      senderInfo: new RtcpSenderInfo({ ntpTimestamp: ntp, rtpTimestamp: s.lastTs, packetCount: s.packets, octetCount: s.octets }),
    })));
  }

  stats(): { packets: number; bytes: number; retransmitted: number; keyframes: number; nacks: number; plis: number; audioLostAtSfu: number } {
    let packets = 0, bytes = 0, retransmitted = 0;
    for (const s of this.streams) {
      packets += s.packets;
      bytes += s.octets;
      retransmitted += s.retransmitted;
    }
    return { packets, bytes, retransmitted, keyframes: this.keyframesSent, nacks: this.nacksReceived, plis: this.plisReceived,
      audioLostAtSfu: this.audio?.stream.lostAtSfu ?? 0 };
  }

  stop(): void {
    if (this.srTimer) clearInterval(this.srTimer);
    this.srTimer = null;
  }
}
