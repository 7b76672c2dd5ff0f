/** The browser participants' figures from two getStats readings, and over a run: pure, no browser. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserPoint, browserSummary, type InboundVideo } from '../../bench/lib/browser-participants.js';

const stream = (key: string, o: Partial<InboundVideo> = {}): InboundVideo => ({
  key, packetsReceived: 0, packetsLost: 0, framesDecoded: 0, framesPerSecond: null, freezeCount: 0, totalFreezesDuration: 0,
  jitter: 0, frameWidth: null, frameHeight: null, ...o,
});

test('an interval counts only the streams whose packets grew, with their rates, loss and resolution', () => {
  const prev = new Map([
    ['a', stream('a', { packetsReceived: 100, framesDecoded: 50, packetsLost: 1, freezeCount: 1, totalFreezesDuration: 0.5 })],
    ['b', stream('b', { packetsReceived: 300, framesDecoded: 90 })],
  ]);
  const now = [
    stream('a', { packetsReceived: 196, framesDecoded: 80, packetsLost: 5, freezeCount: 2, totalFreezesDuration: 1.25, framesPerSecond: 28, jitter: 0.004, frameWidth: 320, frameHeight: 180 }),
    stream('b', { packetsReceived: 300, framesDecoded: 90, frameWidth: 1280, frameHeight: 720 }), // stalled: not receiving
    stream('c', { packetsReceived: 100, framesDecoded: 30, framesPerSecond: 30, jitter: 0.002, frameWidth: 320, frameHeight: 180 }), // new
  ];
  const p = browserPoint(prev, now, 2, 1, 0.25);
  assert.equal(p.streams, 2);
  assert.equal(p.framesDecodedPerS, (30 + 30) / 2);
  assert.equal(p.fpsPerStream, 15);
  assert.equal(p.frameRate, 29);
  assert.equal(p.freezes, 1);
  assert.equal(p.freezeSeconds, 0.75);
  assert.equal(p.lossPct, (4 / (96 + 100 + 4)) * 100);
  assert.equal(p.jitterMs, 3);
  assert.equal(p.resolution, '320x180');
  assert.equal(p.cpuCores, 0.25);
});

test('nothing received: no streams, no frames, no resolution', () => {
  const p = browserPoint(new Map(), [stream('a')], 1, 1, 0);
  assert.deepEqual([p.streams, p.framesDecodedPerS, p.fpsPerStream, p.lossPct, p.resolution], [0, 0, 0, 0, '-']);
});

test('a run sums frames and freezes and weighs rates by streams', () => {
  const base = { browsers: 1, streams: 2, framesDecodedPerS: 60, fpsPerStream: 30, frameRate: 30, freezes: 0, freezeSeconds: 0, lossPct: 0, jitterMs: 2, resolution: '320x180', cpuCores: 0.2 };
  const s = browserSummary([base, { ...base, streams: 1, framesDecodedPerS: 10, fpsPerStream: 10, freezes: 2, freezeSeconds: 1.5, lossPct: 3, resolution: '640x360', cpuCores: 0.4 }],
    { browsers: 1, joined: 1, maxVideo: 4, client: 'x', failures: [] });
  assert.equal(s.framesDecoded, 70);
  assert.equal(s.framesDecodedPerS, 35);
  assert.equal(s.streams, 2);
  assert.equal(s.fpsPerStream, (30 * 2 + 10) / 3);
  assert.equal(s.freezes, 2);
  assert.equal(s.freezeSeconds, 1.5);
  assert.equal(s.lossPct, 1);
  assert.deepEqual(s.resolutions, ['320x180', '640x360']);
  assert.ok(Math.abs(s.cpuCores - 0.3) < 1e-9);
});
