import assert from 'node:assert/strict';
import os from 'node:os';
import { describe, test } from 'node:test';
import { Requests, Responses, parseEvent, RequestEnvelope, PROTOCOL_VERSION } from '../../edge-node/protocol/signalling.js';
import { loadConfig } from '../../edge-node/src/config.js';
import { canProduce, canSendMedia } from '../../edge-node/src/decisions/permissions.js';

describe('signalling schemas', () => {
  test('every request method has a response schema', () => {
    assert.deepEqual(Object.keys(Requests).sort(), Object.keys(Responses).sort());
  });
  test('a valid produce request parses', () => {
    const r = Requests.produce.safeParse({ transportId: 't', kind: 'video', source: 'camera', rtpParameters: { codecs: [{}], encodings: [{}] } });
    assert.equal(r.success, true);
  });
  test('produce needs at least one codec', () => {
    assert.equal(Requests.produce.safeParse({ transportId: 't', kind: 'video', source: 'camera', rtpParameters: { codecs: [] } }).success, false);
  });
  test('ids are bounded', () => {
    assert.equal(Requests.consume.safeParse({ transportId: 'x'.repeat(129), producerId: 'p' }).success, false);
    assert.equal(Requests.consume.safeParse({ transportId: '', producerId: 'p' }).success, false);
  });
  test('layers are 0..2', () => {
    assert.equal(Requests.setPreferredLayers.safeParse({ consumerId: 'c', layers: { spatialLayer: 3 } }).success, false);
    assert.equal(Requests.setPreferredLayers.safeParse({ consumerId: 'c', layers: null }).success, true);
  });
  test('join pins the protocol version', () => {
    const rtpCapabilities = { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000 }] };
    assert.equal(Requests.join.safeParse({ protocolVersion: PROTOCOL_VERSION, rtpCapabilities }).success, true);
    assert.equal(Requests.join.safeParse({ protocolVersion: PROTOCOL_VERSION + 1, rtpCapabilities }).success, false);
    assert.equal(Requests.join.safeParse({ protocolVersion: PROTOCOL_VERSION, rtpCapabilities: {} }).success, false, 'no codecs');
  });
  test('envelopes', () => {
    assert.equal(RequestEnvelope.safeParse({ id: 1, method: 'join' }).success, true);
    assert.equal(RequestEnvelope.safeParse({ id: -1, method: 'join' }).success, false);
    assert.equal(RequestEnvelope.safeParse({ method: 'join' }).success, false);
  });
  test('events are validated', () => {
    assert.deepEqual(parseEvent({ event: 'activeSpeaker', data: { participantId: null } }), { event: 'activeSpeaker', data: { participantId: null } });
    assert.throws(() => parseEvent({ event: 'activeSpeaker', data: {} }));
    assert.throws(() => parseEvent({ event: 'nope', data: {} }), /unknown event/);
  });
});

describe('edge node configuration', () => {
  test('defaults', () => {
    const c = loadConfig({ EDGE_JWKS: '/k.json' });
    assert.equal(c.httpPort, 8080);
    assert.equal(c.rtcAnnouncedIp, '127.0.0.1');
    assert.equal(c.workers, os.availableParallelism(), 'one worker per core');
  });
  test('environment variables are read and coerced', () => {
    const c = loadConfig({ EDGE_JWKS: '/k.json', EDGE_WORKERS: '3', EDGE_RTC_ANNOUNCED_IP: '203.0.113.5', EDGE_HTTP_PORT: '9000' });
    assert.deepEqual([c.workers, c.rtcAnnouncedIp, c.httpPort], [3, '203.0.113.5', 9000]);
  });
  test('pipes announce the client address unless EDGE_PIPE_ANNOUNCED_IP says otherwise', () => {
    assert.equal(loadConfig({ EDGE_JWKS: '/k.json', EDGE_RTC_ANNOUNCED_IP: '203.0.113.5' }).pipeAnnouncedIp, '203.0.113.5');
    assert.equal(loadConfig({ EDGE_JWKS: '/k.json', EDGE_RTC_ANNOUNCED_IP: '203.0.113.5', EDGE_PIPE_ANNOUNCED_IP: '10.0.0.5' }).pipeAnnouncedIp, '10.0.0.5');
  });
  test('errors name the variable', () => {
    assert.throws(() => loadConfig({}), /EDGE_JWKS/);
    assert.throws(() => loadConfig({ EDGE_JWKS: '/k', EDGE_RTC_BASE_PORT: '70000' }), /EDGE_RTC_BASE_PORT/);
    assert.throws(() => loadConfig({ EDGE_JWKS: '/k', EDGE_RTC_UDP: 'maybe' }), /^Error: invalid edge node configuration: EDGE_RTC_UDP: expected true, false, 1 or 0$/);
    assert.throws(() => loadConfig({ EDGE_JWKS: '/k', EDGE_WORKERS: '2', EDGE_PIPE_MIN_PORT: '40000', EDGE_PIPE_MAX_PORT: '40010' }),
      /^Error: invalid edge node configuration: the pipe port range overlaps/, 'a rule over several settings names none');
  });
  test('an empty variable is unset, overrides win, flags read true/false/1/0', () => {
    assert.equal(loadConfig({ EDGE_JWKS: '/k', EDGE_HTTP_PORT: '' }).httpPort, 8080);
    assert.equal(loadConfig({ EDGE_JWKS: '/k', EDGE_HTTP_PORT: '9000' }, { httpPort: 0 }).httpPort, 0);
    assert.deepEqual(['true', 'false', '1', '0'].map((v) => loadConfig({ EDGE_JWKS: '/k', EDGE_RTC_UDP: v }).rtcUdp), [true, false, true, false]);
  });
});

describe('permissions', () => {
  test('attendees watch, everyone else may send', () => {
    assert.equal(canProduce('attendee', 'mic'), false);
    for (const r of ['host', 'cohost', 'panelist', 'participant'] as const) assert.equal(canProduce(r, 'screen'), true);
    assert.equal(canSendMedia('attendee'), false, 'no send transport for an attendee');
    for (const r of ['host', 'cohost', 'panelist', 'participant', 'phone'] as const) assert.equal(canSendMedia(r), true);
  });
});
