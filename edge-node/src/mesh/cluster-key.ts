/**
 * The cluster key: a libp2p private-network pre-shared key (the go-ipfs "swarm.key" format, 95 bytes of text:
 * `/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits). Only nodes holding the same key can open a connection.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n';
const KEY_TEXT = /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n([0-9a-f]{64})\s*$/;

export class ClusterKeyError extends Error {
  override name = 'ClusterKeyError';
}

/** A new random cluster key, as the bytes of its text form. */
export function generateClusterKey(): Uint8Array {
  return new TextEncoder().encode(HEADER + randomBytes(32).toString('hex'));
}

/** Checks a key's text form and returns it normalised (no trailing whitespace), or throws ClusterKeyError. */
export function parseClusterKey(bytes: Uint8Array | string): Uint8Array {
  const text = typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes);
  const m = KEY_TEXT.exec(text);
  if (!m) throw new ClusterKeyError('not a cluster key: expected "/key/swarm/psk/1.0.0/", "/base16/" and 64 hex digits on three lines (make one with `meshmeet cluster-key`)');
  return new TextEncoder().encode(HEADER + m[1]);
}

export async function readClusterKey(file: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new ClusterKeyError(`cannot read cluster key file ${file}: ${(err as Error).message}`);
  }
  return parseClusterKey(bytes);
}

/** Writes a new key to `file` (mode 0600; refuses to overwrite an existing file). */
export async function writeClusterKey(file: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, generateClusterKey(), { mode: 0o600, flag: 'wx' });
}
