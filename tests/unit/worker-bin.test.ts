/**
 * The node finds the worker the build script made: defaultWorkerBin() (used when MEDIASOUP_WORKER_BIN is unset, as
 * for `meshmeet node start`) computes the same cache key as scripts/build-mediasoup-worker.sh, patches included.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { defaultWorkerBin } from '../../edge-node/src/worker-bin.js';

test('defaultWorkerBin is the binary the build script prints (cached build)', { timeout: 3_600_000 }, () => {
  const root = path.resolve(import.meta.dirname, '../..');
  const out = execFileSync('bash', [path.join(root, 'scripts/build-mediasoup-worker.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  assert.equal(defaultWorkerBin(), out.trim().split('\n').pop());
});
