/**
 * Meeting-to-phone mixing decisions and arithmetic, pure: which speakers to mix (the loudest few by RFC 6464 audio
 * level, to bound decoding CPU whatever the meeting's size) and the clipped sum of their frames.
 */

/** At most `n` stream ids, loudest (lowest dBov) first; silent streams (127) and those above `floor` dBov are left out. */
export function pickLoudest(levels: ReadonlyArray<{ id: string; level: number }>, n: number, floor = 127): string[] {
  return levels
    .filter((s) => s.level < floor)
    .sort((a, b) => a.level - b.level || (a.id < b.id ? -1 : 1))
    .slice(0, Math.max(0, n))
    .map((s) => s.id);
}

/** Sums frames of equal length into a new frame, saturating at the 16-bit range. */
export function mixFrames(frames: ReadonlyArray<Int16Array>, length: number): Int16Array {
  const out = new Int16Array(length);
  if (frames.length === 1) {
    out.set(frames[0]!.subarray(0, length));
    return out;
  }
  for (let i = 0; i < length; i++) {
    let s = 0;
    for (const f of frames) s += f[i] ?? 0;
    out[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
  }
  return out;
}

/** Packet loss concealment by waveform repetition: the last good frame, halved in level each time it is reused. */
export function concealFrame(last: Int16Array, repeats: number): Int16Array {
  const gain = Math.pow(0.5, repeats);
  const out = new Int16Array(last.length);
  for (let i = 0; i < last.length; i++) out[i] = Math.round(last[i]! * gain);
  return out;
}
