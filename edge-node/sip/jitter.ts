/**
 * A jitter buffer for one incoming audio stream (20 ms frames): holds `depth` frames before it starts playing, then
 * gives one frame per tick in sequence order. A frame still missing when its turn comes is reported lost (the caller
 * conceals it); late and duplicate packets are dropped; a long gap or an overflow starts it over.
 */
export interface JitterFrame {
  payload: Buffer;
  /** RFC 6464 dBov of this frame (127: silent or unknown). */
  level: number;
}

const seqLess = (a: number, b: number) => a !== b && ((b - a) & 0xffff) < 0x8000;

export class JitterBuffer {
  private readonly frames = new Map<number, JitterFrame>();
  private next: number | null = null;
  private playing = false;
  private misses = 0;
  /** The level of the newest frame that arrived, for choosing whom to mix before decoding. */
  latestLevel = 127;
  lost = 0;
  late = 0;

  constructor(private readonly depth = 3, private readonly capacity = 50) {}

  push(seq: number, frame: JitterFrame): void {
    this.latestLevel = frame.level;
    if (this.next !== null && seqLess(seq, this.next)) {
      this.late++;
      return;
    }
    if (this.next === null) this.next = seq;
    if (this.frames.size >= this.capacity) this.reset(seq);
    this.frames.set(seq, frame);
    if (!this.playing && this.frames.size >= this.depth) this.playing = true;
  }

  /** The next frame; `null` for a lost one (conceal it); `undefined` while buffering or idle. */
  pop(): JitterFrame | null | undefined {
    if (!this.playing || this.next === null) return undefined;
    const f = this.frames.get(this.next);
    this.frames.delete(this.next);
    this.next = (this.next + 1) & 0xffff;
    if (f) {
      this.misses = 0;
      return f;
    }
    this.lost++;
    // Nothing for a while (the speaker paused or left): stop and buffer again when packets return.
    if (++this.misses > 10 || this.frames.size === 0 && this.misses > 3) {
      this.playing = false;
      this.misses = 0;
      this.next = this.frames.size ? Math.min(...this.frames.keys()) : null;
    }
    return null;
  }

  get buffered(): number {
    return this.frames.size;
  }

  private reset(seq: number): void {
    this.frames.clear();
    this.next = seq;
    this.playing = false;
  }
}
