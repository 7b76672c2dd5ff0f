/**
 * One phone call: the caller's RTP (G.711 and RFC 4733 DTMF), the voice menu (meeting ID, passcode, waiting room),
 * and, once admitted, the bridge to the meeting: caller -> G.711 decode -> Opus encode (with audio levels) -> node;
 * node -> per-speaker jitter buffer -> Opus decode of the loudest few -> mix -> G.711 -> caller, with concealment of
 * lost frames. The gateway drives `tick()` every 20 ms.
 */
import type dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { PhoneControlClient } from './control-client.js';
import { decodeG711, encodeG711, G711_PAYLOAD_TYPES, type G711 } from './g711.js';
import { MeetingLeg } from './meeting-leg.js';
import { concealFrame, mixFrames, pickLoudest } from './mix.js';
import { OpusCodec } from './opus.js';
import type { PromptName, Prompts } from './prompts.js';
import { buildRtp, DtmfDetector, levelOfPcm, parseRtp } from './rtp.js';

export const FRAME = 160; // 20 ms at 8 kHz
const MAX_TRIES = 3;
const WAIT_POLL_MS = 2000;
const MAX_DIGITS = 16;

export type CallState = 'pin' | 'passcode' | 'joining' | 'waiting' | 'meeting' | 'ended';

export interface CallDeps {
  control: PhoneControlClient;
  prompts: Prompts;
  log: Logger;
  /** Local address for RTP towards the edge node. */
  nodeBindIp: string;
  /** How many speakers a caller hears at once (the loudest). */
  mixSpeakers: number;
  /** Opus encoder complexity 0-10 (CPU per call against quality). */
  opusComplexity: number;
  onJoinedAudio?: (ms: number) => void;
}

type CallEvents = { hangup: [reason: string]; state: [CallState] };

export class PhoneCall extends EventEmitter<CallEvents> {
  state: CallState = 'pin';
  meetingId: string | null = null;
  participantId: string | null = null;
  /** ms from the caller's last menu digit to the first meeting audio sent to them. */
  joinToAudioMs: number | null = null;
  packetsToCaller = 0;
  packetsFromCaller = 0;
  private digits = '';
  private pin = '';
  private tries = 0;
  private readonly dtmf = new DtmfDetector();
  private playing: Int16Array[] = [];
  private playPos = 0;
  private hangupAfterPrompt: string | null = null;
  private callerPcm = new Int16Array(0);
  private leg: MeetingLeg | null = null;
  private encoder: OpusCodec | null = null;
  private readonly decoders = new Map<number, { dec: OpusCodec; last: Int16Array | null; repeats: number }>();
  private lastDigitAt = 0;
  private waitTimer: NodeJS.Timeout | null = null;
  private waitPolls = 0;
  private seq = randomInt(0, 0xffff);
  private timestamp = randomInt(0, 0xffffffff);
  private readonly ssrc = randomInt(1, 0xffffffff);
  private first = true;

  constructor(
    readonly callId: string,
    readonly caller: string,
    private readonly sock: dgram.Socket,
    private readonly remote: { ip: string; port: number },
    private readonly codec: G711,
    private readonly dtmfPayloadType: number | null,
    private readonly deps: CallDeps,
  ) {
    super();
    sock.on('message', (buf) => this.onPacket(buf));
  }

  start(): void {
    this.play('welcome');
  }

  private setState(s: CallState): void {
    this.state = s;
    this.emit('state', s);
  }

  private play(...names: PromptName[]): void {
    this.playing = names.map((n) => this.deps.prompts[n]);
    this.playPos = 0;
  }

  private finish(reason: string, ...names: PromptName[]): void {
    this.play(...names, 'goodbye');
    this.hangupAfterPrompt = reason;
  }

  private onPacket(buf: Buffer): void {
    const p = parseRtp(buf);
    if (!p || this.state === 'ended') return;
    this.packetsFromCaller++;
    if (this.dtmfPayloadType !== null && p.payloadType === this.dtmfPayloadType) {
      const d = this.dtmf.push(p);
      if (d) this.onDigit(d);
      return;
    }
    if (p.payloadType !== G711_PAYLOAD_TYPES[this.codec] || this.state !== 'meeting' || !this.leg) return;
    const pcm = decodeG711(this.codec, p.payload);
    const joined = new Int16Array(this.callerPcm.length + pcm.length);
    joined.set(this.callerPcm);
    joined.set(pcm, this.callerPcm.length);
    let off = 0;
    for (; off + FRAME <= joined.length; off += FRAME) {
      const frame = joined.subarray(off, off + FRAME);
      this.leg.sendOpus(this.encoder!.encode(frame), levelOfPcm(frame));
    }
    this.callerPcm = joined.slice(off);
  }

  private onDigit(d: string): void {
    if (this.state !== 'pin' && this.state !== 'passcode') return;
    if (this.hangupAfterPrompt) return;
    this.playing = []; // barge-in: a key press stops the prompt
    if (d !== '#') {
      if (this.digits.length < MAX_DIGITS && /\d/.test(d)) this.digits += d;
      return;
    }
    this.lastDigitAt = performance.now();
    const typed = this.digits;
    this.digits = '';
    if (this.state === 'pin') void this.submitPin(typed);
    else void this.submitPasscode(typed);
  }

  private async submitPin(pin: string): Promise<void> {
    const r = pin.length >= 4 ? await this.deps.control.lookup(pin) : { ok: false as const, status: 404, code: 'not_found' };
    if (this.state === 'ended') return;
    if (!r.ok) {
      if (r.status !== 404) return this.finish(`lookup failed: ${r.code}`, 'refused');
      if (++this.tries >= MAX_TRIES) return this.finish('wrong meeting ID', 'badPin');
      return this.play('badPin');
    }
    this.pin = pin;
    this.meetingId = r.data.meetingId;
    this.tries = 0;
    if (r.data.needsPasscode) {
      this.setState('passcode');
      this.play('passcode');
    } else await this.join('');
  }

  private async submitPasscode(passcode: string): Promise<void> {
    await this.join(passcode);
  }

  private async join(passcode: string): Promise<void> {
    if (this.state !== 'waiting') this.setState('joining');
    const r = await this.deps.control.join({ pin: this.pin, passcode, caller: this.caller, ...(this.participantId ? { participantId: this.participantId } : {}) });
    if ((this.state as CallState) === 'ended') return;
    if (!r.ok) {
      if (r.code === 'wrong_passcode') {
        if (++this.tries >= MAX_TRIES) return this.finish('wrong passcode', 'badPasscode');
        this.setState('passcode');
        return this.play('badPasscode');
      }
      return this.finish(`refused: ${r.code}`, 'refused');
    }
    const a = r.data;
    this.participantId = a.participantId;
    if (a.status === 'waiting') {
      if (this.state !== 'waiting') {
        this.setState('waiting');
        this.play('waiting');
      } else if (this.playing.length === 0 && ++this.waitPolls % 5 === 0) this.play('waiting');
      this.waitTimer = setTimeout(() => void this.join(passcode), WAIT_POLL_MS);
      return;
    }
    const admittedMs = Math.round(performance.now() - this.lastDigitAt);
    try {
      const leg = await MeetingLeg.open({
        nodeUrl: a.nodeUrl, meetingId: a.meetingId, token: a.token, bindIp: this.deps.nodeBindIp, muted: a.muteOnEntry,
        log: this.deps.log,
      });
      if ((this.state as CallState) === 'ended') return leg.close();
      this.leg = leg;
      this.encoder = new OpusCodec(8000, this.deps.opusComplexity);
      leg.on('closed', (code, reason) => {
        this.deps.log.info({ call: this.callId, code, reason }, 'the node closed the meeting leg');
        this.finish(`meeting leg closed: ${code}`);
      });
      leg.on('hostAction', (action) => action === 'mute' && this.play('muted'));
      this.setState('meeting');
      this.play('joined');
      this.deps.log.info({ call: this.callId, admittedMs, inMeetingMs: Math.round(performance.now() - this.lastDigitAt) }, 'caller in the meeting');
    } catch (err) {
      this.deps.log.warn({ err, call: this.callId }, 'cannot join the meeting');
      this.finish('node unreachable', 'refused');
    }
  }

  /** One 20 ms frame to the caller: the prompt playing and, in the meeting, the mix of the loudest speakers. */
  tick(): void {
    if (this.state === 'ended') return;
    let frame = this.meetingFrame();
    const prompt = this.promptFrame();
    if (prompt) frame = frame ? mixFrames([frame, prompt], FRAME) : prompt;
    else if (this.hangupAfterPrompt && this.playing.length === 0) {
      const reason = this.hangupAfterPrompt;
      this.hangupAfterPrompt = null;
      this.emit('hangup', reason);
      return;
    }
    this.send(frame ?? new Int16Array(FRAME));
  }

  private promptFrame(): Int16Array | null {
    while (this.playing.length) {
      const cur = this.playing[0]!;
      if (this.playPos < cur.length) {
        const out = new Int16Array(FRAME);
        out.set(cur.subarray(this.playPos, this.playPos + FRAME));
        this.playPos += FRAME;
        return out;
      }
      this.playing.shift();
      this.playPos = 0;
    }
    return null;
  }

  private meetingFrame(): Int16Array | null {
    const leg = this.leg;
    if (!leg || this.state !== 'meeting') return null;
    const chosen = new Set(pickLoudest([...leg.streams.values()].map((s) => ({ id: String(s.ssrc), level: s.jitter.latestLevel })), this.deps.mixSpeakers));
    const frames: Int16Array[] = [];
    for (const s of leg.streams.values()) {
      const f = s.jitter.pop(); // every buffer advances each tick, mixed or not
      if (!chosen.has(String(s.ssrc)) || f === undefined) continue;
      let d = this.decoders.get(s.ssrc);
      if (!d) this.decoders.set(s.ssrc, (d = { dec: new OpusCodec(8000), last: null, repeats: 0 }));
      if (f === null) {
        if (d.last && d.repeats < 3) frames.push(concealFrame(d.last, ++d.repeats));
        continue;
      }
      try {
        const samples = d.dec.decode(f.payload, FRAME);
        d.last = samples;
        d.repeats = 0;
        if (f.level < 127) frames.push(samples);
      } catch {
        // A corrupt packet: conceal it like a lost one.
        if (d.last && d.repeats < 3) frames.push(concealFrame(d.last, ++d.repeats));
      }
    }
    for (const ssrc of this.decoders.keys()) {
      if (!leg.streams.has(ssrc)) {
        this.decoders.get(ssrc)!.dec.close();
        this.decoders.delete(ssrc);
      }
    }
    if (!frames.length) return null;
    const mixed = mixFrames(frames, FRAME);
    if (this.joinToAudioMs === null && levelOfPcm(mixed) < 90) {
      this.joinToAudioMs = Math.round(performance.now() - this.lastDigitAt);
      this.deps.onJoinedAudio?.(this.joinToAudioMs);
      this.deps.log.info({ call: this.callId, ms: this.joinToAudioMs }, 'caller hears the meeting');
    }
    return mixed;
  }

  private send(pcm: Int16Array): void {
    this.seq = (this.seq + 1) & 0xffff;
    this.timestamp = (this.timestamp + FRAME) >>> 0;
    const pkt = buildRtp({
      payloadType: G711_PAYLOAD_TYPES[this.codec], marker: this.first, sequenceNumber: this.seq, timestamp: this.timestamp,
      ssrc: this.ssrc, payload: encodeG711(this.codec, pcm),
    });
    this.first = false;
    this.packetsToCaller++;
    this.sock.send(pkt, this.remote.port, this.remote.ip);
  }

  /** Ends the call's media and its meeting leg (the gateway handles SIP), and tells the control plane. Idempotent. */
  close(): void {
    if (this.state === 'ended') return;
    this.setState('ended');
    if (this.participantId && this.pin) {
      void this.deps.control.leave({ pin: this.pin, participantId: this.participantId }).catch(() => false);
    }
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.leg?.close();
    this.leg = null;
    this.encoder?.close();
    this.encoder = null;
    for (const d of this.decoders.values()) d.dec.close();
    this.decoders.clear();
    this.sock.close();
  }
}
