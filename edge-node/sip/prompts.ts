/**
 * The voice prompts callers hear, spoken once by Debian's espeak-ng into WAV files (at setup, or at the gateway's
 * first start) and kept as 8 kHz 16-bit PCM in memory.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PROMPT_TEXTS = {
  welcome: 'Welcome to MeshMeet. Please enter the meeting I D, followed by the pound key.',
  passcode: 'Please enter the meeting passcode, followed by the pound key.',
  badPin: 'That meeting I D is not valid. Please try again.',
  badPasscode: 'That passcode is not correct. Please try again.',
  waiting: 'Please wait. The host will let you in soon.',
  joined: 'You are now in the meeting.',
  refused: 'Sorry, you cannot join this meeting now.',
  muted: 'A host muted you.',
  goodbye: 'Goodbye.',
} as const;
export type PromptName = keyof typeof PROMPT_TEXTS;
export type Prompts = Record<PromptName, Int16Array>;

export const DEFAULT_PROMPT_DIR = path.join(os.homedir(), '.cache', 'meshmeet', 'prompts');

/** Speaks every missing prompt into `dir` with espeak-ng (bounded: one process per prompt, 30 s each). */
export async function makePrompts(dir = DEFAULT_PROMPT_DIR): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(PROMPT_TEXTS)) {
    const file = path.join(dir, `${name}.wav`);
    if (await fs.stat(file).then((s) => s.size > 44, () => false)) continue;
    try {
      await run('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', `${file}.tmp`, text], { timeout: 30_000 });
    } catch (err) {
      throw new Error(`cannot make the voice prompts with espeak-ng (apt-get install espeak-ng): ${(err as Error).message}`);
    }
    await fs.rename(`${file}.tmp`, file);
  }
}

export async function loadPrompts(dir = DEFAULT_PROMPT_DIR): Promise<Prompts> {
  await makePrompts(dir);
  const out: Partial<Prompts> = {};
  for (const name of Object.keys(PROMPT_TEXTS) as PromptName[]) {
    out[name] = wavTo8k(await fs.readFile(path.join(dir, `${name}.wav`)));
  }
  return out as Prompts;
}

/** A mono 16-bit PCM WAV at any rate, resampled to 8 kHz (averaging over each output sample's span, then linear). */
export function wavTo8k(wav: Buffer): Int16Array {
  if (wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let rate = 0, channels = 1, bits = 16;
  let data: Buffer | null = null;
  for (let off = 12; off + 8 <= wav.length;) {
    const id = wav.toString('ascii', off, off + 4);
    // espeak-ng writes 0x7fffffff sizes when it streams; clamp to what is there.
    const size = Math.min(wav.readUInt32LE(off + 4), wav.length - off - 8);
    if (id === 'fmt ') {
      channels = wav.readUInt16LE(off + 10);
      rate = wav.readUInt32LE(off + 12);
      bits = wav.readUInt16LE(off + 22);
    } else if (id === 'data') data = wav.subarray(off + 8, off + 8 + size);
    off += 8 + size + (size & 1);
  }
  if (!data || !rate || bits !== 16 || channels !== 1) throw new Error('expected mono 16-bit PCM WAV');
  const n = Math.floor(data.length / 2);
  const src = new Int16Array(n);
  for (let i = 0; i < n; i++) src[i] = data.readInt16LE(i * 2);
  const ratio = rate / 8000;
  const out = new Int16Array(Math.floor(n / ratio));
  for (let i = 0; i < out.length; i++) {
    const from = Math.floor(i * ratio);
    const to = Math.min(n, Math.max(from + 1, Math.floor((i + 1) * ratio)));
    let s = 0;
    for (let j = from; j < to; j++) s += src[j]!;
    out[i] = Math.round(s / (to - from));
  }
  return out;
}
