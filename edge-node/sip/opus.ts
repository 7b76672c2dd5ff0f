/**
 * Opus for the gateway: libopus compiled to WebAssembly (the npm `opusscript` package's build; no native addon, no
 * install script). Its own wrapper keeps typed-array views on the WebAssembly memory that go stale ("detached") as
 * soon as another instance makes the memory grow, so with many calls it fails; this one reads the module's current
 * heap on every call instead. The handler's ABI (from opusscript's C++ glue): `_encode` takes the PCM's little-endian
 * bytes one per 16-bit slot and packs them in place; `_decode` writes the decoded samples' bytes the same way, one per 16-bit slot.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const MAX_FRAME_SAMPLES = 2880; // 120 ms at 24 kHz, mono: more than any frame the gateway handles
const MAX_PACKET_BYTES = 1275;
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_COMPLEXITY = 4010;

interface Handler {
  _encode(input: number, maxBytes: number, output: number, frameSize: number): number;
  _decode(input: number, bytes: number, output: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  delete(): void;
}
interface Native {
  OpusScriptHandler: new (rate: number, channels: number, application: number) => Handler;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
}

let native: Native | null = null;
const mod = (): Native => (native ??= (require('opusscript/build/opusscript_native_wasm.js') as () => Native)());

/** One mono Opus encoder and decoder at `rate` Hz (8000 for G.711 calls). */
export class OpusCodec {
  private readonly handler: Handler;
  private readonly pcmPtr: number;
  private readonly opusPtr: number;
  private closed = false;

  constructor(readonly rate: 8000 | 12000 | 16000 | 24000 | 48000 = 8000, complexity?: number) {
    const m = mod();
    this.handler = new m.OpusScriptHandler(rate, 1, OPUS_APPLICATION_VOIP);
    this.pcmPtr = m._malloc(MAX_FRAME_SAMPLES * 8); // room for the byte-per-slot input layout and decode scratch
    this.opusPtr = m._malloc(MAX_PACKET_BYTES);
    if (complexity !== undefined) this.handler._encoder_ctl(OPUS_SET_COMPLEXITY, complexity);
  }

  /** Encodes one frame (e.g. 160 samples = 20 ms at 8 kHz). */
  encode(pcm: Int16Array): Buffer {
    if (pcm.length > MAX_FRAME_SAMPLES) throw new Error('frame too long');
    const slots = new Uint16Array(mod().HEAPU8.buffer, this.pcmPtr, pcm.length * 2);
    for (let i = 0; i < pcm.length; i++) {
      const v = pcm[i]! & 0xffff;
      slots[2 * i] = v & 0xff;
      slots[2 * i + 1] = v >> 8;
    }
    const len = this.handler._encode(this.pcmPtr, pcm.length * 2, this.opusPtr, pcm.length);
    if (len < 0) throw new Error(`opus encode error ${len}`);
    return Buffer.from(mod().HEAPU8.subarray(this.opusPtr, this.opusPtr + len));
  }

  /** Decodes one packet into PCM samples (at most `maxSamples`). */
  decode(packet: Uint8Array, maxSamples: number): Int16Array {
    if (packet.length === 0 || packet.length > MAX_PACKET_BYTES) throw new Error('bad opus packet size');
    const m = mod();
    m.HEAPU8.set(packet, this.opusPtr);
    const n = this.handler._decode(this.opusPtr, packet.length, this.pcmPtr);
    if (n < 0) throw new Error(`opus decode error ${n}`);
    const count = Math.min(n, maxSamples);
    const slots = new Uint16Array(mod().HEAPU8.buffer, this.pcmPtr, count * 2);
    const out = new Int16Array(count);
    for (let i = 0; i < count; i++) out[i] = slots[2 * i]! | (slots[2 * i + 1]! << 8);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const m = mod();
    this.handler.delete();
    m._free(this.pcmPtr);
    m._free(this.opusPtr);
  }
}
