/**
 * Where the mediasoup worker binary is. npm here never runs mediasoup's postinstall (it would download from GitHub),
 * so scripts/build-mediasoup-worker.sh builds it into a cache keyed by version; mediasoup reads
 * MEDIASOUP_WORKER_BIN when it is first imported, so this must run before that import.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

/** The checksum of our worker patches, as scripts/build-mediasoup-worker.sh computes it (name order, concatenated). */
function patchesId(): string {
  const dir = path.resolve(import.meta.dirname, '../../scripts/mediasoup-worker-patches');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.patch')).sort();
  const hash = createHash('sha256');
  for (const f of files) hash.update(fs.readFileSync(path.join(dir, f)));
  return hash.digest('hex').slice(0, 10);
}

export function defaultWorkerBin(): string {
  const require = createRequire(import.meta.url);
  const { version } = require('mediasoup/package.json') as { version: string };
  const cache = process.env.MESHMEET_CACHE ?? path.join(os.homedir(), '.cache', 'meshmeet');
  // the cache key of scripts/build-mediasoup-worker.sh (an OpenSSL-backed libsrtp 2.5.0, and our patches)
  return path.join(cache, `mediasoup-${version}-srtp2.5.0-openssl-p${patchesId()}`, 'mediasoup-worker');
}

/** Sets MEDIASOUP_WORKER_BIN (unless already set) and imports mediasoup. */
export async function loadMediasoup(): Promise<typeof import('mediasoup')> {
  if (!process.env.MEDIASOUP_WORKER_BIN) process.env.MEDIASOUP_WORKER_BIN = defaultWorkerBin();
  const bin = process.env.MEDIASOUP_WORKER_BIN;
  if (!fs.existsSync(bin)) {
    throw new Error(`mediasoup worker binary not found at ${bin}: run 'bash scripts/build-mediasoup-worker.sh'`);
  }
  return import('mediasoup');
}
