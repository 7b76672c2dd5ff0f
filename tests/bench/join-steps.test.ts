/** The join-storm's account of where join time goes: the bots' per-step breakdown and the node's own histograms. Pure. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stepStats } from '../../bench/scenarios/join-storm.js';
import { histogramMeans } from '../../bench/lib/sfu/meshmeet.js';

describe('join steps', () => {
  test('per step percentiles over the successful joins, in the order steps first appear', () => {
    const stats = stepStats([
      { id: 'a', ok: true, joinMs: 30, signalledMs: 5, steps: [['join', 5], ['transports connected', 20], ['produce', 5]] },
      { id: 'b', ok: true, joinMs: 50, signalledMs: 10, steps: [['join', 10], ['transports connected', 40]] },
      { id: 'c', ok: false, joinMs: 9000, signalledMs: null, steps: [['join', 9000]] },
      { id: 'd', ok: true, joinMs: 1, signalledMs: 1 },
    ]);
    assert.deepEqual(stats, [
      { step: 'join', count: 2, p50: 5, p95: 10 },
      { step: 'transports connected', count: 2, p50: 20, p95: 40 },
      { step: 'produce', count: 1, p50: 5, p95: 5 },
    ]);
    assert.deepEqual(stepStats([]), []);
  });

  test('histogram means from Prometheus text, keyed by label values', () => {
    const text = [
      '# HELP edge_signalling_request_seconds x',
      'edge_signalling_request_seconds_bucket{le="0.005",method="join",phase="handled"} 3',
      'edge_signalling_request_seconds_sum{method="join",phase="handled"} 0.03',
      'edge_signalling_request_seconds_count{method="join",phase="handled"} 4',
      'edge_signalling_request_seconds_sum{method="join",phase="queued"} 0',
      'edge_signalling_request_seconds_count{method="join",phase="queued"} 0',
      'edge_connection_setup_seconds_sum{step="verify token"} 2.5e-2',
      'edge_connection_setup_seconds_count{step="verify token"} 5',
    ].join('\n');
    const req = histogramMeans(text, 'edge_signalling_request_seconds');
    assert.deepEqual(Object.keys(req), ['join handled'], 'series without observations are left out');
    assert.equal(req['join handled']!.count, 4);
    assert.ok(Math.abs(req['join handled']!.meanMs - 7.5) < 1e-9);
    assert.deepEqual(histogramMeans(text, 'edge_connection_setup_seconds'), { 'verify token': { count: 5, meanMs: 5 } });
  });
});
