import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adviseLowLayers, assessQuality } from '../../web/src/quality.js';

const s = (packetsReceived: number, packetsLost: number, rttMs: number | null = 20, availableOutgoingBitrate: number | null = 2_000_000) =>
  ({ packetsReceived, packetsLost, rttMs, availableOutgoingBitrate });

describe('connection quality', () => {
  test('good, fair and poor from loss, round trip and bitrate', () => {
    assert.equal(assessQuality(s(0, 0), s(1000, 0)).quality, 'good');
    assert.equal(assessQuality(s(0, 0), s(1000, 40)).quality, 'fair');
    assert.equal(assessQuality(s(0, 0), s(1000, 120)).quality, 'poor');
    assert.equal(assessQuality(s(0, 0), s(1000, 0, 400)).quality, 'fair');
    assert.equal(assessQuality(s(0, 0), s(1000, 0, 900)).quality, 'poor');
    assert.equal(assessQuality(s(0, 0), s(1000, 0, 20, 100_000)).quality, 'poor');
  });
  test('loss counts between samples only, and needs enough packets', () => {
    assert.equal(assessQuality(s(1000, 500), s(2000, 500)).loss, 0, 'old losses do not count');
    assert.equal(assessQuality(s(0, 0), s(5, 5, null, null)).quality, 'unknown');
    assert.equal(assessQuality(null, s(100, 0, null, null)).quality, 'unknown');
  });
  test('the label says it in words', () => {
    assert.equal(assessQuality(s(0, 0), s(900, 100, 640, null)).label, 'Connection: poor (10% loss, 640 ms round trip)');
  });
  test('low layers after two poor samples, back after three good ones', () => {
    assert.equal(adviseLowLayers(false, ['poor']), false);
    assert.equal(adviseLowLayers(false, ['good', 'poor', 'poor']), true);
    assert.equal(adviseLowLayers(true, ['poor', 'good', 'good']), true);
    assert.equal(adviseLowLayers(true, ['good', 'good', 'good']), false);
    assert.equal(adviseLowLayers(true, ['fair', 'fair', 'fair']), true);
  });
});
