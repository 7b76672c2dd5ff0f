import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { chooseLayers, focusParticipant, type ConsumerView, type LayerInput } from '../../edge-node/src/decisions/layers.js';

const cam = (participantId: string, override: ConsumerView['override'] = null): ConsumerView =>
  ({ consumerId: `cam-${participantId}`, participantId, kind: 'video', source: 'camera', override });
const mic = (participantId: string): ConsumerView =>
  ({ consumerId: `mic-${participantId}`, participantId, kind: 'audio', source: 'mic', override: null });
const screen = (participantId: string): ConsumerView =>
  ({ consumerId: `scr-${participantId}`, participantId, kind: 'video', source: 'screen', override: null });

function input(consumers: ConsumerView[], o: Partial<LayerInput> = {}): LayerInput {
  return { viewer: { pinned: null, visible: null }, activeSpeakerId: null, consumers, spatialLayers: 3, temporalLayers: 3, ...o };
}
const spatial = (m: Map<string, { spatialLayer: number }>) => Object.fromEntries([...m].map(([k, v]) => [k, v.spatialLayer]));

describe('layer choice', () => {
  test('audio consumers get no layers', () => {
    assert.deepEqual([...chooseLayers(input([mic('a')])).keys()], []);
  });

  test('the only remote camera is the large tile', () => {
    assert.deepEqual(spatial(chooseLayers(input([cam('a'), mic('a')]))), { 'cam-a': 2 });
  });

  test('the active speaker gets the top layer, thumbnails the lowest in a big meeting', () => {
    const out = chooseLayers(input([cam('a'), cam('b'), cam('c'), cam('d')], { activeSpeakerId: 'c' }));
    assert.deepEqual(spatial(out), { 'cam-a': 0, 'cam-b': 0, 'cam-c': 2, 'cam-d': 0 });
    assert.equal(out.get('cam-c')!.temporalLayer, 2);
  });

  test('with few tiles, thumbnails get the middle layer', () => {
    assert.deepEqual(spatial(chooseLayers(input([cam('a'), cam('b')], { activeSpeakerId: 'a' }))), { 'cam-a': 2, 'cam-b': 1 });
  });

  test('a pin wins over the active speaker', () => {
    const out = chooseLayers(input([cam('a'), cam('b'), cam('c')], { activeSpeakerId: 'a', viewer: { pinned: 'b', visible: null } }));
    assert.deepEqual(spatial(out), { 'cam-a': 0, 'cam-b': 2, 'cam-c': 0 });
  });

  test('a pin on someone who left is ignored', () => {
    const i = input([cam('a'), cam('b'), cam('c')], { activeSpeakerId: 'a', viewer: { pinned: 'gone', visible: null } });
    assert.equal(focusParticipant(i), 'a');
  });

  test('a screen share takes the large tile: it gets the top layer, every camera the thumbnail', () => {
    const out = chooseLayers(input([cam('a'), cam('b'), screen('b')], { activeSpeakerId: 'a' }));
    assert.deepEqual(spatial(out), { 'cam-a': 0, 'cam-b': 0, 'scr-b': 2 });
  });

  test('pinning a camera while someone shares a screen', () => {
    const out = chooseLayers(input([cam('a'), cam('b'), screen('b')], { viewer: { pinned: 'a', visible: null } }));
    assert.equal(out.get('cam-a')!.spatialLayer, 2);
  });

  test('tiles off screen get the lowest spatial and temporal layer', () => {
    const out = chooseLayers(input([cam('a'), cam('b'), cam('c')], { activeSpeakerId: 'a', viewer: { pinned: null, visible: new Set(['a', 'b']) } }));
    assert.deepEqual(out.get('cam-c'), { spatialLayer: 0, temporalLayer: 0 });
    assert.equal(out.get('cam-a')!.spatialLayer, 2);
  });

  test('a manual preference wins and is capped to what is sent', () => {
    const out = chooseLayers(input([cam('a', { spatialLayer: 0 }), cam('b', { spatialLayer: 2, temporalLayer: 9 })], { activeSpeakerId: 'a' }));
    assert.deepEqual(out.get('cam-a'), { spatialLayer: 0, temporalLayer: 2 });
    assert.deepEqual(out.get('cam-b'), { spatialLayer: 2, temporalLayer: 2 });
  });

  test('single-layer producers never ask for a layer that is not sent', () => {
    const out = chooseLayers(input([cam('a'), cam('b')], { activeSpeakerId: 'a', spatialLayers: 1, temporalLayers: 1 }));
    assert.deepEqual([...out.values()], [{ spatialLayer: 0, temporalLayer: 0 }, { spatialLayer: 0, temporalLayer: 0 }]);
  });
});
