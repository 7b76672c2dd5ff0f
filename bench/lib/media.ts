/**
 * The media every bot sends, encoded ONCE at bench setup with Debian's ffmpeg (libvpx, libopus) and cached: VP8 in
 * three simulcast resolutions (IVF files) and Opus in 20 ms packets (Ogg). Bots only packetize these frames into RTP;
 * no bot ever encodes or decodes.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface VideoFrame {
  data: Buffer;
  key: boolean;
}
export interface VideoLayer {
  rid: string;
  width: number;
  height: number;
  kbps: number;
  frames: VideoFrame[];
}
export interface BenchMedia {
  fps: number;
  /** Lowest resolution first (rid q, h, f). */
  layers: VideoLayer[];
  /** Opus packets of 20 ms each. */
  audio: Buffer[];
}

export const MEDIA_SPEC = {
  seconds: 10,
  fps: 30,
  keyframeEvery: 60,
  layers: [
    { rid: 'q', width: 320, height: 180, kbps: 150 },
    { rid: 'h', width: 640, height: 360, kbps: 500 },
    { rid: 'f', width: 1280, height: 720, kbps: 1200 },
  ],
  audioKbps: 32,
} as const;

function cacheDir(): string {
  const root = process.env.MESHMEET_CACHE ?? path.join(os.homedir(), '.cache', 'meshmeet');
  const s = MEDIA_SPEC;
  return path.join(root, `bench-media-v1-${s.seconds}s-${s.fps}fps-${s.layers.map((l) => `${l.height}p${l.kbps}k`).join('-')}`);
}

/** Encodes the clip if it is not cached yet. Throws a clear error when ffmpeg is missing. */
export async function ensureMediaFiles(): Promise<string> {
  const dir = cacheDir();
  const done = path.join(dir, 'done');
  try {
    await fs.access(done);
    return dir;
  } catch { /* encode below */ }
  try {
    await run('ffmpeg', ['-version']);
  } catch {
    throw new Error('ffmpeg is missing: install it with `apt-get install -y ffmpeg` (Debian 12 ships 5.1 with libvpx and libopus)');
  }
  await fs.mkdir(dir, { recursive: true });
  const s = MEDIA_SPEC;
  const split = s.layers.map((_, i) => `[s${i}]`).join('');
  const filter = `[0:v]split=${s.layers.length}${split};` + s.layers.map((l, i) => `[s${i}]scale=${l.width}:${l.height}[v${i}]`).join(';');
  const args = ['-y', '-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${s.fps}:duration=${s.seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:beep_factor=4:duration=${s.seconds}:sample_rate=48000`, '-filter_complex', filter];
  s.layers.forEach((l, i) => {
    args.push('-map', `[v${i}]`, '-c:v', 'libvpx', '-b:v', `${l.kbps}k`, '-deadline', 'realtime', '-cpu-used', '8', '-g', String(s.keyframeEvery),
      '-keyint_min', String(s.keyframeEvery), '-auto-alt-ref', '0', '-lag-in-frames', '0', '-error-resilient', '1', '-f', 'ivf', path.join(dir, `${l.rid}.ivf`));
  });
  args.push('-map', '1:a', '-c:a', 'libopus', '-b:a', `${s.audioKbps}k`, '-frame_duration', '20', '-application', 'voip', '-ac', '2',
    '-f', 'ogg', path.join(dir, 'audio.ogg'));
  await run('ffmpeg', args, { maxBuffer: 16 * 1024 * 1024 });
  await fs.writeFile(done, new Date().toISOString());
  return dir;
}

/** Frames of an IVF file (32-byte file header, then 12-byte frame headers). VP8 keyframe: bit 0 of byte 0 is 0. */
export function parseIvf(buf: Buffer): VideoFrame[] {
  if (buf.subarray(0, 4).toString('latin1') !== 'DKIF') throw new Error('not an IVF file');
  const headerLen = buf.readUInt16LE(6);
  const frames: VideoFrame[] = [];
  let off = headerLen;
  while (off + 12 <= buf.length) {
    const size = buf.readUInt32LE(off);
    const data = buf.subarray(off + 12, off + 12 + size);
    if (data.length < size) break;
    frames.push({ data, key: (data[0]! & 1) === 0 });
    off += 12 + size;
  }
  return frames;
}

/** Packets of an Ogg stream, the two Opus header packets (OpusHead, OpusTags) left out. */
export function parseOggOpus(buf: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let pending: Buffer[] = [];
  let off = 0;
  while (off + 27 <= buf.length) {
    if (buf.subarray(off, off + 4).toString('latin1') !== 'OggS') throw new Error(`bad Ogg page at ${off}`);
    const segments = buf[off + 26]!;
    const table = buf.subarray(off + 27, off + 27 + segments);
    let data = off + 27 + segments;
    for (const lace of table) {
      pending.push(buf.subarray(data, data + lace));
      data += lace;
      if (lace < 255) {
        packets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    off = data;
  }
  return packets.filter((p) => !p.subarray(0, 8).toString('latin1').startsWith('Opus'));
}

export async function loadMedia(): Promise<BenchMedia> {
  const dir = await ensureMediaFiles();
  const layers: VideoLayer[] = [];
  for (const l of MEDIA_SPEC.layers) {
    const frames = parseIvf(await fs.readFile(path.join(dir, `${l.rid}.ivf`)));
    if (!frames[0]?.key) throw new Error(`${l.rid}.ivf does not start with a keyframe`);
    layers.push({ ...l, frames });
  }
  const audio = parseOggOpus(await fs.readFile(path.join(dir, 'audio.ogg')));
  if (audio.length === 0) throw new Error('no Opus packets in audio.ogg');
  return { fps: MEDIA_SPEC.fps, layers, audio };
}
