/**
 * Receives RTP and counts it without decoding: packets, bytes, loss (after retransmission), jitter (RFC 3550),
 * VP8 keyframes, frames and freezes. Answers as a browser would: receiver reports every second, NACK for gaps
 * (up to three tries), PLI when a video stream starts without a keyframe or loses a packet for good, and
 * transport-wide congestion control feedback every 100 ms.
 */
import {
  GenericNack,
  PictureLossIndication,
  RtcpPayloadSpecificFeedback,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSrPacket,
  RtcpTransportLayerFeedback,
  type RtcpPacket,
  type RtpPacket,
} from 'werift';
import { randomSsrc } from './sender.js';
import { rawRtcp, type BotTransport } from './transport.js';

export interface ReceiveTotals {
  streams: number;
  packets: number;
  bytes: number;
  expected: number;
  lost: number;
  duplicates: number;
  /** Packets that came after the receiver had given up on them (received all the same, not lost). */
  late: number;
  /** Packets without payload (padding only: the SFU's bandwidth probes), included in `packets`. */
  padding: number;
  lostAudio: number;
  lostVideo: number;
  nacksSent: number;
  plisSent: number;
  keyframes: number;
  frames: number;
  freezes: number;
  freezeMs: number;
  /** Mean over streams of the current interarrival jitter, ms. */
  jitterMs: number;
}

/** Per label (e.g. a publisher): [RTP timestamp, arrival time (performance.now(), ms)] of packets that came in order. */
export type Arrivals = Record<string, [number, number][]>;

/** Arrivals kept per label (the newest). */
const ARRIVALS_KEPT = 3000;

interface Stream {
  ssrc: number;
  kind: 'audio' | 'video';
  clockRate: number;
  baseSeq: number;
  cycles: number;
  maxSeq: number;
  received: number;
  bytes: number;
  duplicates: number;
  late: number;
  padding: number;
  gaveUp: Set<number>;
  transit: number | null;
  jitter: number;
  missing: Map<number, { since: number; tries: number; lastNack: number }>;
  keyframes: number;
  frames: number;
  lastFrameAt: number;
  avgFrameMs: number;
  freezes: number;
  freezeMs: number;
  gotKeyframe: boolean;
  lastPli: number;
  lsr: number;
  lsrAt: number;
  lastRrExpected: number;
  lastRrReceived: number;
  // per-interval loss for receiver reports
}

const MAX_TRIES = 3;
const GIVE_UP_MS = 1000;

export class MediaReceiver {
  readonly ssrc = randomSsrc();
  private readonly streams = new Map<number, Stream>();
  private readonly twcc: { seq: number; at: number }[] = [];
  private twccUnwrap = { last: -1, cycles: 0 };
  private fbCount = 0;
  private nacksSent = 0;
  private plisSent = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Payload types of video (VP8) streams; everything else counts as audio. */
  private readonly videoPts = new Set<number>();

  private twccExtId: number | undefined;
  /** Streams whose arrivals are logged, by SSRC: their label and log. */
  private readonly arrivalLogs = new Map<number, { label: string; log: [number, number][] }>();

  constructor(
    private readonly transport: BotTransport,
    twccExtId: number | undefined,
  ) {
    this.timers.push(setInterval(() => this.sendReports(), 1000));
    this.timers.push(setInterval(() => this.nackTick(), 20));
    if (twccExtId) this.setTwccExtension(twccExtId);
  }

  /** The transport-wide sequence number extension id of incoming packets; starts the feedback (once). */
  setTwccExtension(id: number): void {
    if (this.twccExtId) return;
    this.twccExtId = id;
    this.timers.push(setInterval(() => this.sendTwcc(), 100));
  }

  /** Logs the arrival time of every in-order packet of stream `ssrc` under `label` (bounded: the newest are kept). */
  logArrivals(ssrc: number, label: string): void {
    this.arrivalLogs.set(ssrc, { label, log: [] });
  }

  /** The logged arrivals by label. */
  arrivals(): Arrivals {
    const out: Arrivals = {};
    for (const { label, log } of this.arrivalLogs.values()) (out[label] ??= []).push(...log);
    return out;
  }

  setVideoPayloadTypes(pts: number[]): void {
    for (const pt of pts) this.videoPts.add(pt);
  }

  handleRtp(p: RtpPacket): void {
    const now = performance.now();
    const h = p.header;
    if (this.twccExtId) {
      const e = h.extensions.find((x) => x.id === this.twccExtId);
      if (e && e.payload.length >= 2) this.twcc.push({ seq: e.payload.readUInt16BE(0), at: now });
    }
    let s = this.streams.get(h.ssrc);
    const video = this.videoPts.has(h.payloadType);
    if (!s) {
      s = {
        ssrc: h.ssrc, kind: video ? 'video' : 'audio', clockRate: video ? 90000 : 48000, baseSeq: h.sequenceNumber, cycles: 0,
        maxSeq: h.sequenceNumber, received: 0, bytes: 0, duplicates: 0, late: 0, padding: 0, gaveUp: new Set(), transit: null, jitter: 0, missing: new Map(), keyframes: 0,
        frames: 0, lastFrameAt: 0, avgFrameMs: 0, freezes: 0, freezeMs: 0, gotKeyframe: false, lastPli: 0, lsr: 0, lsrAt: 0,
        lastRrExpected: 0, lastRrReceived: 0,
      };
      this.streams.set(h.ssrc, s);
    }
    const seq = h.sequenceNumber;
    const delta = (seq - s.maxSeq + 0x10000) & 0xffff;
    if (s.received > 0 && delta === 0) {
      s.duplicates++;
      return;
    }
    if (delta < 0x8000) {
      // in order (or a jump forward): everything skipped is missing
      if (seq < s.maxSeq && delta > 0) s.cycles += 0x10000;
      for (let i = 1; i < delta && i < 512; i++) s.missing.set((s.maxSeq + i) & 0xffff, { since: now, tries: 0, lastNack: 0 });
      if (s.received > 0 || delta > 0) s.maxSeq = seq;
      const a = this.arrivalLogs.get(h.ssrc);
      if (a) {
        a.log.push([h.timestamp, now]);
        if (a.log.length > ARRIVALS_KEPT * 1.5) a.log.splice(0, a.log.length - ARRIVALS_KEPT);
      }
    } else if (s.missing.has(seq)) {
      s.missing.delete(seq);
    } else if (s.gaveUp.delete(seq)) {
      // after the receiver gave up on it (a retransmission that waited in a starved bot's socket): received, as in
      // RFC 3550's cumulative loss and a browser's packetsLost, which go down again when a late packet arrives
      s.late++;
    } else {
      s.duplicates++;
      return;
    }
    s.received++;
    s.bytes += p.payload.length;
    if (p.payload.length === 0) s.padding++;
    // RFC 3550 interarrival jitter, in timestamp units
    const arrival = (now / 1000) * s.clockRate;
    const transit = arrival - h.timestamp;
    if (s.transit !== null) {
      let d = Math.abs(transit - s.transit);
      if (d > s.clockRate) d = 0; // timestamp jump (stream restart): ignore
      s.jitter += (d - s.jitter) / 16;
    }
    s.transit = transit;
    if (s.kind === 'video') this.countVideo(s, p, now);
  }

  private countVideo(s: Stream, p: RtpPacket, now: number): void {
    const d = p.payload;
    if (d.length < 2) return;
    // VP8 payload descriptor: skip the optional bytes to reach the VP8 payload header
    let off = 1;
    const x = (d[0]! & 0x80) !== 0;
    const start = (d[0]! & 0x10) !== 0 && (d[0]! & 0x07) === 0;
    if (x) {
      const ext = d[1]!;
      off = 2;
      if (ext & 0x80) off += d[off]! & 0x80 ? 2 : 1;
      if (ext & 0x40) off += 1;
      if (ext & 0x30) off += 1;
    }
    if (start && off < d.length) {
      const key = (d[off]! & 0x01) === 0;
      if (key) {
        s.keyframes++;
        s.gotKeyframe = true;
      } else if (!s.gotKeyframe) {
        this.pli(s, now);
      }
    }
    if (p.header.marker) {
      s.frames++;
      if (s.lastFrameAt > 0) {
        const gap = now - s.lastFrameAt;
        // WebRTC's freeze: a frame interval over max(3 x average, average + 150 ms)
        if (s.frames > 10 && gap > Math.max(3 * s.avgFrameMs, s.avgFrameMs + 150)) {
          s.freezes++;
          s.freezeMs += gap;
        }
        s.avgFrameMs = s.avgFrameMs === 0 ? gap : s.avgFrameMs * 0.95 + gap * 0.05;
      }
      s.lastFrameAt = now;
    }
  }

  handleRtcp(p: RtcpPacket): void {
    if (p instanceof RtcpSrPacket) {
      const s = this.streams.get(p.ssrc);
      if (s) {
        s.lsr = Number((p.senderInfo.ntpTimestamp >> 16n) & 0xffffffffn);
        s.lsrAt = performance.now();
      }
    }
  }

  private pli(s: Stream, now: number): void {
    if (now - s.lastPli < 500) return;
    s.lastPli = now;
    this.plisSent++;
    this.transport.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: this.ssrc, mediaSsrc: s.ssrc }) })]);
  }

  private nackTick(): void {
    const now = performance.now();
    const out: RtcpPacket[] = [];
    for (const s of this.streams.values()) {
      if (s.missing.size === 0) continue;
      const lost: number[] = [];
      let gaveUp = false;
      for (const [seq, m] of s.missing) {
        if (now - m.since > GIVE_UP_MS || m.tries >= MAX_TRIES && now - m.lastNack > 200) {
          s.missing.delete(seq);
          if (s.gaveUp.size > 2048) s.gaveUp.clear();
          s.gaveUp.add(seq);
          gaveUp = true;
          continue;
        }
        if (m.tries < MAX_TRIES && now - m.since >= 5 && now - m.lastNack >= 50) {
          m.tries++;
          m.lastNack = now;
          lost.push(seq);
        }
      }
      if (lost.length) {
        this.nacksSent++;
        out.push(new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: this.ssrc, mediaSourceSsrc: s.ssrc, lost }) }));
      }
      if (gaveUp && s.kind === 'video') this.pli(s, now);
    }
    this.transport.sendRtcp(out);
  }

  private sendReports(): void {
    const now = performance.now();
    const reports = [...this.streams.values()].map((s) => {
      const expected = s.cycles + s.maxSeq - s.baseSeq + 1;
      const expInt = expected - s.lastRrExpected;
      const recInt = s.received - s.lastRrReceived;
      s.lastRrExpected = expected;
      s.lastRrReceived = s.received;
      const lostInt = expInt - recInt;
      return new RtcpReceiverInfo({
        ssrc: s.ssrc,
        fractionLost: expInt > 0 && lostInt > 0 ? Math.min(255, Math.floor((lostInt * 256) / expInt)) : 0,
        packetsLost: Math.max(0, Math.min(0x7fffff, expected - s.received)),
        highestSequence: (s.cycles + s.maxSeq) >>> 0,
        jitter: Math.floor(s.jitter),
        lsr: s.lsr,
        dlsr: s.lsr ? Math.floor(((now - s.lsrAt) / 1000) * 65536) : 0,
      });
    });
    const packets: RtcpPacket[] = [];
    for (let i = 0; i < reports.length; i += 31) packets.push(new RtcpRrPacket({ ssrc: this.ssrc, reports: reports.slice(i, i + 31) }));
    this.transport.sendRtcp(packets);
  }

  /** Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01), run-length chunks only. */
  private sendTwcc(): void {
    if (this.twcc.length === 0) return;
    const arrivals = this.twcc.splice(0).map((e) => {
      if (this.twccUnwrap.last >= 0) {
        const d = (e.seq - this.twccUnwrap.last + 0x10000) & 0xffff;
        if (d < 0x8000 && e.seq < this.twccUnwrap.last) this.twccUnwrap.cycles += 0x10000;
      }
      if (this.twccUnwrap.last < 0 || ((e.seq - this.twccUnwrap.last + 0x10000) & 0xffff) < 0x8000) this.twccUnwrap.last = e.seq;
      return { seq: this.twccUnwrap.cycles + e.seq, at: e.at };
    }).sort((a, b) => a.seq - b.seq);
    const base = arrivals[0]!.seq;
    const last = arrivals.at(-1)!.seq;
    if (last - base > 4000) return; // a wild jump: drop this window
    const refTime = Math.floor(arrivals[0]!.at / 64);
    const byseq = new Map(arrivals.map((a) => [a.seq, a.at]));
    const statuses: number[] = [];
    const deltas: number[] = [];
    let prev = refTime * 64;
    for (let q = base; q <= last; q++) {
      const at = byseq.get(q);
      if (at === undefined) {
        statuses.push(0);
        continue;
      }
      const d = Math.round((at - prev) * 4); // 250 us units
      prev = at;
      if (d >= 0 && d <= 255) statuses.push(1);
      else statuses.push(2);
      deltas.push(Math.max(-32768, Math.min(32767, d)));
    }
    const chunks: number[] = [];
    for (let i = 0; i < statuses.length;) {
      let j = i;
      while (j < statuses.length && statuses[j] === statuses[i] && j - i < 8191) j++;
      chunks.push((statuses[i]! << 13) | (j - i));
      i = j;
    }
    let deltaBytes = 0;
    statuses.forEach((st) => { if (st === 1) deltaBytes += 1; else if (st === 2) deltaBytes += 2; });
    const bodyLen = 8 + 8 + chunks.length * 2 + deltaBytes;
    const len = Math.ceil((4 + bodyLen) / 4) * 4;
    const b = Buffer.alloc(len);
    b[0] = 0x80 | 15;
    b[1] = 205;
    b.writeUInt16BE(len / 4 - 1, 2);
    b.writeUInt32BE(this.ssrc, 4);
    b.writeUInt32BE(0, 8);
    b.writeUInt16BE(base & 0xffff, 12);
    b.writeUInt16BE(statuses.length, 14);
    b.writeUIntBE(refTime & 0xffffff, 16, 3);
    b[19] = this.fbCount++ & 0xff;
    let o = 20;
    for (const c of chunks) { b.writeUInt16BE(c, o); o += 2; }
    let di = 0;
    for (const st of statuses) {
      if (st === 1) b[o++] = deltas[di++]!;
      else if (st === 2) { b.writeInt16BE(deltas[di++]!, o); o += 2; }
    }
    if (len > 4 + bodyLen) b[0]! |= 0x20; // padding
    if (len > 4 + bodyLen) b[len - 1] = len - (4 + bodyLen);
    this.transport.sendRtcp([rawRtcp(b)]);
  }

  totals(): ReceiveTotals {
    const t: ReceiveTotals = { streams: 0, packets: 0, bytes: 0, expected: 0, lost: 0, duplicates: 0, late: 0, padding: 0, lostAudio: 0, lostVideo: 0, nacksSent: this.nacksSent, plisSent: this.plisSent,
      keyframes: 0, frames: 0, freezes: 0, freezeMs: 0, jitterMs: 0 };
    let jitter = 0;
    const now = performance.now();
    for (const s of this.streams.values()) {
      t.streams++;
      t.packets += s.received;
      t.bytes += s.bytes;
      const expected = s.cycles + s.maxSeq - s.baseSeq + 1;
      t.expected += expected;
      // still waiting for a retransmission (younger than the give-up time): not counted as lost yet
      let pending = 0;
      for (const m of s.missing.values()) if (now - m.since <= GIVE_UP_MS) pending++;
      const lost = Math.max(0, expected - s.received - pending);
      t.lost += lost;
      if (s.kind === 'audio') t.lostAudio += lost;
      else t.lostVideo += lost;
      t.duplicates += s.duplicates;
      t.late += s.late;
      t.padding += s.padding;
      t.keyframes += s.keyframes;
      t.frames += s.frames;
      t.freezes += s.freezes;
      t.freezeMs += s.freezeMs;
      jitter += (s.jitter / s.clockRate) * 1000;
    }
    t.jitterMs = t.streams ? jitter / t.streams : 0;
    return t;
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }
}
