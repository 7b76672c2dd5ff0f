/**
 * The cross-region scenario: its pure figures (hop cost, naive bytes), then a tiny run end to end through the same
 * entry point as `npm run bench` (three real nodes started by `meshmeet node start`, the delay relay, real bots).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runScenario } from '../../bench/run.js';
import { hopCosts, naiveBytes, pairDelay } from '../../bench/scenarios/cross-region.js';

describe('cross-region figures (pure)', () => {
  test('hop cost: the same RTP timestamp at both subscribers, minus the one-way delay', () => {
    const local: [number, number][] = [[960, 100], [1920, 120], [2880, 140]];
    const remote: [number, number][] = [[1920, 161], [2880, 183], [3840, 200]];
    assert.deepEqual(hopCosts(local, remote, 40), [1, 3]);
    assert.deepEqual(hopCosts(local, [], 40), []);
  });
  test('naive: one copy per remote subscriber; the mesh: one per remote node', () => {
    const r = naiveBytes([{ node: 'a', bytesPerS: 100 }, { node: 'b', bytesPerS: 10 }], { a: 2, b: 3, c: 0 });
    // a's 100 to b's 3 subscribers; b's 10 to a's 2 (c has none)
    assert.deepEqual(r, { naive: 320, oncePerNode: 110 });
  });
  test('pair delays in either order; an unknown pair is NaN (the relay refuses it)', () => {
    const d = pairDelay({ 'a-b': 40 });
    assert.equal(d('a', 'b'), 40);
    assert.equal(d('b', 'a'), 40);
    assert.ok(Number.isNaN(d('a', 'c')));
  });
});

const out = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-xregion-'));
after(() => fs.rm(out, { recursive: true, force: true }));

test('a tiny cross-region run: pipes go through the relay, the mesh beats the naive figure, the delay is there', { timeout: 300_000 }, async () => {
  const { report } = await runScenario(['cross-region', '--per-node', '2', '--publishers-per-node', '1', '--seconds', '3', '--warmup', '2',
    '--delay-ab', '30', '--delay-ac', '30', '--delay-bc', '30', '--processes', '1', '--out', out, '--quiet', 'true']);
  assert.deepEqual(report.failures, []);
  const f = report.figures.meshmeet as {
    joined: number;
    pipes: { relayBytesPerS: number; nodesBytesPerS: number; naiveOverPipe: number; links: Record<string, { dropped: number }> };
    relayHopMs: { all: { samples: number; p50: number } };
    byNode: { node: string; rxPps: number }[];
  };
  assert.equal(f.joined, 6);
  // the pipes' traffic went through the relay (the nodes announced its addresses for their pipes), on all 6 directions
  assert.equal(Object.keys(f.pipes.links).length, 6);
  assert.ok(f.pipes.relayBytesPerS > 50_000, `relay carried ${f.pipes.relayBytesPerS} B/s`);
  assert.ok(f.pipes.nodesBytesPerS > 50_000, `nodes' pipe transports sent ${f.pipes.nodesBytesPerS} B/s`);
  // two subscribers on every remote node: one pipe copy instead of two
  assert.ok(f.pipes.naiveOverPipe > 1.3, `naive/pipe ${f.pipes.naiveOverPipe}`);
  for (const n of f.byNode) assert.ok(n.rxPps > 50, `node ${n.node}: its bots received ${n.rxPps} pkt/s`);
  // packets matched between a local and a remote subscriber; the remote ones came the emulated 30 ms later, not before
  assert.ok(f.relayHopMs.all.samples > 20, `${f.relayHopMs.all.samples} matched audio packets`);
  assert.ok(f.relayHopMs.all.p50 > -15, `hop cost p50 ${f.relayHopMs.all.p50} ms: the relay did not hold the packets for the delay`);
  assert.equal(report.table.rows.length, 4, 'the mesh row and one row per node');
});
