/**
 * Where the mediasoup worker binary is. npm here never runs mediasoup's postinstall (it would download from GitHub),
 * so scripts/build-mediasoup-worker.sh builds it into a cache keyed by version; mediasoup reads
 * MEDIASOUP_WORKER_BIN when it is first imported, so this must run before that import.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

export function defaultWorkerBin(): string {
  const require = createRequire(import.meta.url);
  const { version } = require('mediasoup/package.json') as { version: string };
  const cache = process.env.MESHMEET_CACHE ?? path.join(os.homedir(), '.cache', 'meshmeet');
  // the cache key of scripts/build-mediasoup-worker.sh (worker linked with an OpenSSL-backed libsrtp 2.5.0)
  return path.join(cache, `mediasoup-${version}-srtp2.5.0-openssl`, 'mediasoup-worker');
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
