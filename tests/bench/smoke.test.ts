/**
 * Smoke of the bench harness (not a benchmark): a tiny `meeting` on our node for a few seconds, through the same
 * entry point as `npm run bench`, checking that real bots connect, media flows both ways, and the figures and the
 * report come out; with one real Chromium participant (our web client), which must decode the bots' video.
 * Independent of LiveKit and Janus.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runScenario } from '../../bench/run.js';

const out = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-smoke-'));
after(() => fs.rm(out, { recursive: true, force: true }));

test('a tiny meeting runs end to end and writes figures and the report', { timeout: 240_000 }, async () => {
  const { report, dir } = await runScenario(['meeting', '--participants', '2', '--seconds', '3', '--warmup', '2', '--processes', '1',
    '--browsers', '1', '--browser-video', '1', '--out', out, '--quiet', 'true']);
  assert.deepEqual(report.failures, [], 'no bot failed to connect');
  const fig = report.figures.meshmeet as { joined: number; participants: number; summary: Record<string, number>; keyframesReceived: number; points: unknown[] };
  assert.equal(fig.joined, 2);
  assert.ok(fig.points.length >= 2, 'one point a second');
  // two participants each receive the other's audio and video: well over 50 packets/s in all
  assert.ok(fig.summary.rxPps! > 50, `bots received ${fig.summary.rxPps} packets/s`);
  assert.ok(fig.summary.txPps! > 50, `bots sent ${fig.summary.txPps} packets/s`);
  assert.ok(fig.keyframesReceived > 0, 'keyframes arrived');
  assert.ok(fig.summary.sfuCpuCores! > 0, 'the SFU used CPU');
  assert.ok(Number.isFinite(fig.summary.ppsPerSfuCore), 'packets per SFU core computed');

  // the browser joined through our web client, received one bot's video (--browser-video 1) and decoded it
  const bq = report.browserQuality?.figures['meshmeet meeting'] as { joined: number; streams: number; framesDecoded: number; resolutions: string[] } | undefined;
  assert.ok(bq, 'a browser-quality part for our SFU');
  assert.equal(bq.joined, 1);
  assert.equal(bq.streams, 1, 'the browser receives no more video streams than asked');
  assert.ok(bq.framesDecoded > 0, `the browser decoded ${bq.framesDecoded} frames`);
  assert.ok(bq.resolutions.length > 0, 'a resolution was received');

  const json = JSON.parse(await fs.readFile(path.join(dir, 'result.json'), 'utf8')) as { machine: { cores: number }; table: { rows: unknown[][] } };
  assert.ok(json.machine.cores >= 1);
  assert.equal(json.table.rows.length, 1);
  const html = await fs.readFile(path.join(dir, 'report.html'), 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /Browser quality/);
  assert.doesNotMatch(html, /<script src=|https?:\/\/cdn/i, 'self-contained');
});
