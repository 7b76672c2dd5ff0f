/**
 * RTP as the gateway needs it: parse and build packets (RFC 3550) with the one-byte header extension (RFC 8285) that
 * carries the audio level (RFC 6464), RFC 4733 telephone-events (DTMF), and a minimal RTCP receiver report.
 */
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
  /** One-byte header extensions by id. */
  extensions: Map<number, Buffer>;
}

/** RTCP packet types 200-204 share the port under rtcp-mux; RTP payload types never fall there (RFC 5761). */
export function isRtcp(buf: Buffer): boolean {
  return buf.length >= 8 && buf[1]! >= 200 && buf[1]! <= 204;
}

export function parseRtp(buf: Buffer): RtpPacket | null {
  if (buf.length < 12 || buf[0]! >> 6 !== 2 || isRtcp(buf)) return null;
  const cc = buf[0]! & 0x0f;
  let off = 12 + cc * 4;
  const extensions = new Map<number, Buffer>();
  if (buf[0]! & 0x10) {
    if (buf.length < off + 4) return null;
    const profile = buf.readUInt16BE(off);
    const words = buf.readUInt16BE(off + 2);
    const end = off + 4 + words * 4;
    if (end > buf.length) return null;
    if (profile === 0xbede) {
      for (let i = off + 4; i < end;) {
        const b = buf[i]!;
        if (b === 0) { i++; continue; }
        const id = b >> 4;
        const len = (b & 0x0f) + 1;
        if (id === 15 || i + 1 + len > end) break;
        extensions.set(id, buf.subarray(i + 1, i + 1 + len));
        i += 1 + len;
      }
    }
    off = end;
  }
  let endPayload = buf.length;
  if (buf[0]! & 0x20) endPayload -= buf[buf.length - 1]!;
  if (endPayload < off) return null;
  return {
    payloadType: buf[1]! & 0x7f,
    marker: (buf[1]! & 0x80) !== 0,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(off, endPayload),
    extensions,
  };
}

export interface BuildRtp {
  payloadType: number;
  marker?: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer | Uint8Array;
  /** RFC 6464 audio level in the one-byte extension `id`: 0 (loudest) .. 127 dBov (silence). */
  audioLevel?: { id: number; level: number; voice: boolean };
}

export function buildRtp(p: BuildRtp): Buffer {
  const ext = p.audioLevel ? 8 : 0;
  const buf = Buffer.allocUnsafe(12 + ext + p.payload.length);
  buf[0] = 0x80 | (ext ? 0x10 : 0);
  buf[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  buf.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  buf.writeUInt32BE(p.timestamp >>> 0, 4);
  buf.writeUInt32BE(p.ssrc >>> 0, 8);
  if (p.audioLevel) {
    buf.writeUInt16BE(0xbede, 12);
    buf.writeUInt16BE(1, 14);
    buf[16] = (p.audioLevel.id << 4) | 0; // length 1
    buf[17] = (p.audioLevel.voice ? 0x80 : 0) | Math.max(0, Math.min(127, Math.round(p.audioLevel.level)));
    buf[18] = 0;
    buf[19] = 0;
  }
  buf.set(p.payload, 12 + ext);
  return buf;
}

/** The RFC 6464 level (dBov, 0 loudest, 127 silent) in a packet, or 127 without the extension. */
export function audioLevelOf(p: RtpPacket, id: number | null): number {
  const e = id === null ? undefined : p.extensions.get(id);
  return e && e.length >= 1 ? e[0]! & 0x7f : 127;
}

/** RFC 6464 level of 16-bit PCM: -dBov of its RMS, clamped to 0..127. */
export function levelOfPcm(pcm: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  const rms = Math.sqrt(sum / Math.max(1, pcm.length)) / 32768;
  if (rms <= 0) return 127;
  return Math.max(0, Math.min(127, Math.round(-20 * Math.log10(rms))));
}

/** An empty RTCP receiver report: what the gateway sends first so that a comedia transport learns its address. */
export function rtcpReceiverReport(ssrc: number): Buffer {
  const b = Buffer.alloc(8);
  b[0] = 0x80;
  b[1] = 201;
  b.writeUInt16BE(1, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  return b;
}

const DTMF_EVENTS = '0123456789*#ABCD';

/**
 * RFC 4733 telephone-events to digits. A digit counts once, at the first packet of its event; its end packets (sent
 * three times) are ignored; the same recording replayed (same timestamp) counts again once its previous copy ended.
 */
export class DtmfDetector {
  private timestamp: number | null = null;
  private ended = false;

  push(p: RtpPacket): string | null {
    if (p.payload.length < 4) return null;
    const event = p.payload[0]!;
    const end = (p.payload[1]! & 0x80) !== 0;
    if (event >= DTMF_EVENTS.length) return null;
    const fresh = p.timestamp !== this.timestamp || (this.ended && !end);
    if (!fresh) {
      if (end) this.ended = true;
      return null;
    }
    this.timestamp = p.timestamp;
    this.ended = end;
    return DTMF_EVENTS[event]!;
  }
}
