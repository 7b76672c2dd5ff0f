/**
 * The edge node's signalling against real mediasoup workers, from Node: tokens, ownership of ids, bad input (frames
 * over 1 MiB cut off), producer/consumer lifecycle (consumers really start paused), restartIce, setView and
 * setPreferredLayers as mediasoup applies them, health and metrics, and a worker process killed and replaced.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { CloseCodes, MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from '../../edge-node/protocol/signalling.js';
import { loadDevKeys, mintJoinToken } from '../../edge-node/index.js';
import { startEdge, waitFor, watchMediasoup, type MediasoupWatch, type TestEdge } from '../helpers/edge.js';
import { RawSocket, closed, connect, joinAs, opusRtpParameters, upgradeRefused } from '../helpers/ws-client.js';
import type { SignallingClient } from '../../web/src/signalling-client.js';

let edge: TestEdge;
let media: MediasoupWatch;
const M = 'room-1';

async function rejectedWith(url: string): Promise<{ code: number; reason: string }> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  const result = await closed(ws);
  assert.deepEqual(frames, [], 'nothing about the meeting is sent before the token is accepted');
  return result;
}

function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  return p.then(
    () => assert.fail('expected an error response'),
    (err: { code: string; message: string }) => ({ code: err.code, message: err.message }),
  );
}

describe('signalling', { timeout: 120_000 }, () => {
  before(async () => {
    media = await watchMediasoup();
    edge = await startEdge({ workers: 2 });
  });
  after(async () => edge?.stop());

  describe('join tokens', () => {
    test('no token closes the socket with 4401', async () => {
      const r = await rejectedWith(`${edge.wsUrl}/ws/${M}`);
      assert.equal(r.code, CloseCodes.unauthorized);
      assert.match(r.reason, /missing/);
    });
    test('a malformed token closes with 4401', async () => {
      const r = await rejectedWith(`${edge.wsUrl}/ws/${M}?token=not.a.jwt`);
      assert.equal(r.code, CloseCodes.unauthorized);
      assert.match(r.reason, /rejected/);
    });
    test('an expired token closes with 4401 "token expired"', async () => {
      const token = await edge.token({ meetingId: M, participantId: 'old', issuedAt: Math.floor(Date.now() / 1000) - 700, ttlSeconds: 600 });
      const r = await rejectedWith(`${edge.wsUrl}/ws/${M}?token=${token}`);
      assert.deepEqual(r, { code: CloseCodes.unauthorized, reason: 'token expired' });
    });
    test('a token signed by another key closes with 4401', async () => {
      const other = await loadDevKeys(`${edge.keys.jwksPath}.other`);
      const token = await mintJoinToken(other, { meetingId: M, participantId: 'forger', name: 'F' });
      const r = await rejectedWith(`${edge.wsUrl}/ws/${M}?token=${token}`);
      assert.equal(r.code, CloseCodes.unauthorized);
    });
    test('a token for another meeting closes with 4403', async () => {
      const token = await edge.token({ meetingId: 'elsewhere', participantId: 'x' });
      const r = await rejectedWith(`${edge.wsUrl}/ws/${M}?token=${token}`);
      assert.deepEqual(r, { code: CloseCodes.forbidden, reason: 'token is for another meeting' });
    });
    test('an unknown path is refused at the upgrade', async () => {
      const ws = new WebSocket(`${edge.wsUrl}/nope`);
      assert.match(await upgradeRefused(ws), /404/);
    });
  });

  describe('bad input keeps the connection and the node up', () => {
    let raw: RawSocket;
    before(async () => {
      raw = new RawSocket(`${edge.wsUrl}/ws/${M}?token=${await edge.token({ meetingId: M, participantId: 'fuzzer' })}`);
      await raw.open;
    });
    after(() => raw.ws.close());

    test('malformed JSON', async () => {
      const r = await raw.send('{"id":1, method', null);
      assert.equal(r.error.code, 'bad_request');
      assert.match(r.error.message, /not valid JSON/);
    });
    test('a wrong envelope names the field', async () => {
      const r = await raw.send(JSON.stringify({ id: 7, method: 42 }), 7);
      assert.equal(r.error.code, 'bad_request');
      assert.match(r.error.message, /method/);
    });
    test('an unknown method', async () => {
      const r = await raw.send(JSON.stringify({ id: 'a', method: 'selfDestruct', data: {} }), 'a');
      assert.deepEqual(r.error, { code: 'unknown_method', message: "unknown method 'selfDestruct'" });
    });
    test('prototype keys are not methods', async () => {
      const r = await raw.send(JSON.stringify({ id: 'p', method: '__proto__', data: {} }), 'p');
      assert.equal(r.error.code, 'unknown_method');
    });
    test('data that does not match the method schema names the field', async () => {
      const r = await raw.send(JSON.stringify({ id: 2, method: 'createTransport', data: { direction: 'sideways' } }), 2);
      assert.equal(r.error.code, 'bad_request');
      assert.match(r.error.message, /direction/);
    });
    test('an oversized message', async () => {
      const big = JSON.stringify({ id: 3, method: 'join', data: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) } });
      const r = await raw.send(big, null);
      assert.equal(r.error.code, 'too_large');
    });
    test('a frame over 1 MiB is cut off by the socket (1009), and the node stays up', async () => {
      const big = new RawSocket(`${edge.wsUrl}/ws/${M}?token=${await edge.token({ meetingId: M, participantId: 'huge' })}`);
      await big.open;
      const done = closed(big.ws);
      big.ws.send('x'.repeat(1024 * 1024 + 1));
      assert.equal((await done).code, 1009);
      assert.equal((await fetch(`${edge.url}/healthz`)).status, 200);
    });
    test('a binary frame', async () => {
      const r = await raw.send(Buffer.from([1, 2, 3]), null);
      assert.equal(r.error.code, 'bad_request');
    });
    test('media requests before join', async () => {
      const r = await raw.send(JSON.stringify({ id: 4, method: 'createTransport', data: { direction: 'send' } }), 4);
      assert.equal(r.error.code, 'not_joined');
    });
    test('a join with another protocol version', async () => {
      const r = await raw.send(JSON.stringify({ id: 5, method: 'join', data: { protocolVersion: 99, rtpCapabilities: {} } }), 5);
      assert.equal(r.error.code, 'unsupported_version');
    });
    test('after all that, the same connection still works', async () => {
      const r = await raw.send(JSON.stringify({ id: 6, method: 'getRouterRtpCapabilities', data: {} }), 6);
      assert.equal(r.ok, true);
      assert.ok(r.data.rtpCapabilities.codecs.some((c: { mimeType: string }) => c.mimeType === 'video/VP8'));
      assert.ok(r.data.rtpCapabilities.codecs.some((c: { mimeType: string }) => c.mimeType === 'video/H264'));
      const health = await fetch(`${edge.url}/healthz`);
      assert.equal(health.status, 200);
    });
  });

  describe('producers, consumers and ownership', () => {
    let alice: SignallingClient;
    let bob: SignallingClient;
    let producerId: string;
    let aliceSend: string;
    let bobRecv: string;
    const bobEvents: Array<{ event: string; data: unknown }> = [];

    before(async () => {
      alice = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: 'alice' }));
      bob = connect(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: 'bob' }));
      for (const e of ['newProducer', 'producerPaused', 'producerResumed', 'producerClosed', 'consumerClosed', 'participantLeft'] as const) {
        bob.on(e, (data) => bobEvents.push({ event: e, data }));
      }
      const { rtpCapabilities } = await bob.request('getRouterRtpCapabilities', {});
      const joined = await bob.request('join', { protocolVersion: PROTOCOL_VERSION, rtpCapabilities });
      assert.deepEqual(joined.participants.map((p) => p.id), ['alice']);
    });
    after(() => {
      alice?.close();
      bob?.close();
    });

    test('alice produces and bob hears of it', async () => {
      aliceSend = (await alice.request('createTransport', { direction: 'send' })).id;
      const t = await bob.request('createTransport', { direction: 'recv', forceTcp: true });
      bobRecv = t.id;
      assert.ok(t.iceCandidates.every((c) => c.protocol === 'tcp'), 'forceTcp gives only TCP candidates');
      ({ producerId } = await alice.request('produce', { transportId: aliceSend, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(1111) }));
      await waitFor('newProducer at bob', () => bobEvents.find((e) => e.event === 'newProducer'));
      assert.deepEqual(bobEvents.find((e) => e.event === 'newProducer')!.data, {
        id: producerId, participantId: 'alice', kind: 'audio', source: 'mic', paused: false,
      });
    });

    test('ids of others are not found', async () => {
      assert.equal((await errorOf(bob.request('closeProducer', { producerId }))).code, 'not_found');
      assert.equal((await errorOf(bob.request('pauseProducer', { producerId }))).code, 'not_found');
      assert.equal((await errorOf(bob.request('connectTransport', {
        transportId: aliceSend, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AB' }] },
      }))).code, 'not_found');
      assert.equal((await errorOf(bob.request('consume', { transportId: aliceSend, producerId }))).code, 'not_found');
      assert.equal((await errorOf(bob.request('consume', { transportId: bobRecv, producerId: 'no-such-producer' }))).code, 'not_found');
      assert.equal((await errorOf(bob.request('resumeConsumer', { consumerId: 'nope' }))).code, 'not_found');
    });

    test('rtp parameters mediasoup refuses are a media_error', async () => {
      const bad = { codecs: [{ mimeType: 'audio/nonsense', payloadType: 100, clockRate: 8000 }], encodings: [{ ssrc: 5 }] };
      const err = await errorOf(alice.request('produce', { transportId: aliceSend, kind: 'audio', source: 'mic', rtpParameters: bad }));
      assert.equal(err.code, 'media_error');
    });

    test('a source that does not match the kind is refused', async () => {
      const err = await errorOf(alice.request('produce', { transportId: aliceSend, kind: 'audio', source: 'camera', rtpParameters: opusRtpParameters(2) }));
      assert.equal(err.code, 'bad_request');
    });

    test('bob consumes: the consumer starts paused and resumes on request', async () => {
      const c = await bob.request('consume', { transportId: bobRecv, producerId });
      assert.equal(c.participantId, 'alice');
      assert.equal(c.kind, 'audio');
      assert.equal(c.source, 'mic');
      const consumer = media.consumers.get(c.consumerId);
      assert.ok(consumer, 'a real mediasoup consumer with that id');
      assert.equal(consumer.paused, true, 'starts paused');
      await bob.request('resumeConsumer', { consumerId: c.consumerId });
      assert.equal(consumer.paused, false, 'resumed on request');
      assert.equal((await errorOf(bob.request('consume', { transportId: bobRecv, producerId }))).code, 'bad_request');
      // alice cannot consume her own producer
      const aliceRecv = (await alice.request('createTransport', { direction: 'recv' })).id;
      assert.equal((await errorOf(alice.request('consume', { transportId: aliceRecv, producerId }))).code, 'bad_request');
    });

    test('pause, resume and close reach the consumer side', async () => {
      await alice.request('pauseProducer', { producerId });
      await waitFor('producerPaused', () => bobEvents.find((e) => e.event === 'producerPaused'));
      await alice.request('resumeProducer', { producerId });
      await waitFor('producerResumed', () => bobEvents.find((e) => e.event === 'producerResumed'));
      await alice.request('closeProducer', { producerId });
      await waitFor('consumerClosed and producerClosed', () =>
        bobEvents.some((e) => e.event === 'consumerClosed') && bobEvents.some((e) => e.event === 'producerClosed'));
    });

    test('restartIce gives the transport new ICE credentials; only its owner may restart it', async () => {
      const t = await alice.request('createTransport', { direction: 'send' });
      const { iceParameters } = await alice.request('restartIce', { transportId: t.id });
      assert.notEqual(iceParameters.usernameFragment, (t.iceParameters as { usernameFragment: string }).usernameFragment);
      assert.notEqual(iceParameters.password, (t.iceParameters as { password: string }).password);
      assert.equal((await errorOf(bob.request('restartIce', { transportId: t.id }))).code, 'not_found');
    });

    test('setView and setPreferredLayers choose the layer mediasoup forwards to the viewer', async () => {
      // alice sends a camera in three simulcast layers; bob consumes it.
      const simulcast = {
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
        encodings: [3001, 3002, 3003].map((ssrc) => ({ ssrc, scalabilityMode: 'L1T3' })),
        headerExtensions: [],
        rtcp: { cname: 'alice-cam' },
      };
      const { producerId: cam } = await alice.request('produce', { transportId: aliceSend, kind: 'video', source: 'camera', rtpParameters: simulcast });
      const c = await bob.request('consume', { transportId: bobRecv, producerId: cam });
      const consumer = media.consumers.get(c.consumerId)!;
      const layer = () => consumer.preferredLayers?.spatialLayer;
      // The only remote camera is bob's large tile: the top layer.
      await waitFor('the top layer for the only camera', () => layer() === 2);
      await bob.request('setView', { pinned: null, visible: [] });
      await waitFor('the lowest layer once the tile is off screen', () => layer() === 0);
      await bob.request('setView', { pinned: 'alice', visible: ['alice'] });
      await waitFor('the top layer again when pinned', () => layer() === 2);
      await bob.request('setPreferredLayers', { consumerId: c.consumerId, layers: { spatialLayer: 1, temporalLayer: 0 } });
      await waitFor('the manual choice', () => layer() === 1 && consumer.preferredLayers?.temporalLayer === 0);
      await bob.request('setPreferredLayers', { consumerId: c.consumerId, layers: null });
      await waitFor('automatic again: the pinned tile\'s top layer', () => layer() === 2);
      assert.equal((await errorOf(alice.request('setPreferredLayers', { consumerId: c.consumerId, layers: null }))).code, 'not_found');
      await alice.request('closeProducer', { producerId: cam });
    });

    test('metrics count what lives on the node', async () => {
      const text = await (await fetch(`${edge.url}/metrics`)).text();
      assert.match(text, /^edge_workers 2$/m);
      assert.match(text, /^edge_participants 2$/m, 'alice and bob');
      assert.match(text, /^edge_transports [1-9]\d*$/m);
      const cpu = Number(/^edge_worker_cpu_seconds\{worker="0"\} (\S+)$/m.exec(text)?.[1]);
      assert.ok(cpu > 0 && cpu < 3600, `worker 0 has used some CPU: ${cpu}`);
      assert.match(text, /^edge_worker_max_rss_bytes\{worker="1"\} [1-9]\d*$/m);
      assert.match(text, /^edge_signalling_rejected_total\{reason="expired"\} [1-9]/m);
      assert.match(text, /^edge_signalling_requests_total\{method="produce",outcome="ok"\} [1-9]/m);
      // where joins spend their time: token check and meeting setup per connection, queue and handling per request
      assert.match(text, /^edge_connection_setup_seconds_count\{step="verify token"\} [1-9]/m);
      assert.match(text, /^edge_connection_setup_seconds_count\{step="open meeting"\} [1-9]/m);
      assert.match(text, /^edge_signalling_request_seconds_count\{method="produce",phase="handled"\} [1-9]/m);
      assert.match(text, /^edge_signalling_request_seconds_count\{method="join",phase="queued"\} [1-9]/m);
    });

    test('joining again as the same participant replaces the old connection', async () => {
      const token = await edge.token({ meetingId: M, participantId: 'bob' });
      let closedWith: { code: number; reason: string } | null = null;
      bob.onClose((info) => (closedWith = info));
      const bob2 = await joinAs(edge.wsUrl, M, token);
      await waitFor('the old connection to close', () => closedWith);
      assert.equal(closedWith!.code, CloseCodes.replaced);
      bob2.close();
    });

    test('leaving tells the others', async () => {
      const left: string[] = [];
      alice.on('participantLeft', ({ participantId }) => left.push(participantId));
      const carol = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: 'carol' }));
      await carol.request('leave', {});
      await waitFor('participantLeft carol', () => left.includes('carol'));
    });
  });

  test('a join opens the transports it asks for, at once and usable; none to send for an attendee', async () => {
    const R = 'join-transports';
    const c = connect(edge.wsUrl, R, await edge.token({ meetingId: R, participantId: 'quick' }));
    const { rtpCapabilities } = await c.request('getRouterRtpCapabilities', {});
    const twice = await errorOf(c.request('join', { protocolVersion: PROTOCOL_VERSION, rtpCapabilities, transports: ['send', 'send'] }));
    assert.equal(twice.code, 'bad_request');
    assert.match(twice.message, /transports: each direction at most once/);
    const odd = await errorOf(c.request('join', { protocolVersion: PROTOCOL_VERSION, rtpCapabilities, transports: ['sideways'] } as never));
    assert.match(odd.message, /^join: transports\.0/);
    const joined = await c.request('join', { protocolVersion: PROTOCOL_VERSION, rtpCapabilities, transports: ['recv', 'send'] });
    assert.deepEqual(joined.transports?.map((t) => t.direction), ['recv', 'send']);
    const [recv, send] = joined.transports!;
    assert.notEqual(recv!.id, send!.id);
    for (const t of joined.transports!) assert.ok(t.iceCandidates.length > 0 && Array.isArray((t.dtlsParameters as { fingerprints: unknown[] }).fingerprints));
    // they are the participant's own: producing on the send one works, on the receive one it is refused
    await c.request('produce', { transportId: send!.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(4242) });
    assert.match((await errorOf(c.request('produce', { transportId: recv!.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(4343) }))).message, /send transport/);

    const a = connect(edge.wsUrl, R, await edge.token({ meetingId: R, participantId: 'viewer', role: 'attendee' }));
    const seen = await a.request('join', { protocolVersion: PROTOCOL_VERSION, rtpCapabilities, transports: ['send', 'recv'] });
    assert.deepEqual(seen.transports?.map((t) => t.direction), ['recv'], 'no send transport for an attendee');
    assert.equal((await errorOf(a.request('createTransport', { direction: 'send' }))).code, 'forbidden', 'and asking for it says why');
    const plain = connect(edge.wsUrl, R, await edge.token({ meetingId: R, participantId: 'plain' }));
    assert.equal((await plain.request('join', { protocolVersion: PROTOCOL_VERSION, rtpCapabilities })).transports, undefined, 'none unless asked');
    for (const x of [c, a, plain]) x.close();
  });

  test('an attendee cannot send media', async () => {
    const a = await joinAs(edge.wsUrl, 'webinar', await edge.token({ meetingId: 'webinar', participantId: 'att', role: 'attendee' }));
    const err = await errorOf(a.request('createTransport', { direction: 'send' }));
    assert.equal(err.code, 'forbidden');
    await a.request('createTransport', { direction: 'recv' });
    a.close();
  });

  test('a worker process that dies is replaced on the same ports; its meeting\'s clients are told to reconnect', async () => {
    const before = media.workers.length;
    const own = await startEdge({ workers: 1 });
    try {
      const [worker] = media.workers.slice(before);
      assert.ok(worker?.pid, 'the node\'s worker, seen through mediasoup\'s observer');
      const port = own.node.config.rtcBasePort;
      const alice = await joinAs(own.wsUrl, 'doomed', await own.token({ meetingId: 'doomed', participantId: 'alice' }));
      const t = await alice.request('createTransport', { direction: 'send' });
      assert.ok(t.iceCandidates.every((c) => c.port === port));
      const closedWith = new Promise<{ code: number; reason: string }>((resolve) => alice.onClose(resolve));

      process.kill(worker.pid, 'SIGKILL'); // the real worker process, as a crash would
      const info = await closedWith;
      assert.equal(info.code, CloseCodes.nodeShutdown, 'told to reconnect');
      await waitFor('a replacement worker', () => media.workers.length === before + 2 && !media.workers.at(-1)!.closed);
      assert.notEqual(media.workers.at(-1)!.pid, worker.pid);
      await waitFor('the node healthy again', async () => (await fetch(`${own.url}/healthz`)).status === 200);

      // The client reconnects: the meeting opens again on the new worker, on the same media port.
      const again = await joinAs(own.wsUrl, 'doomed', await own.token({ meetingId: 'doomed', participantId: 'alice' }));
      const t2 = await again.request('createTransport', { direction: 'send' });
      assert.ok(t2.iceCandidates.length > 0 && t2.iceCandidates.every((c) => c.port === port), 'same UDP/TCP port as before');
      assert.match(await (await fetch(`${own.url}/metrics`)).text(), /^edge_workers 1$/m);
      again.close();
    } finally {
      await own.stop();
    }
  });

  test('meetings are spread over workers and closed when empty', async () => {
    const own = await startEdge({ workers: 2 });
    try {
      const meetingsOf = async () => {
        const text = await (await fetch(`${own.url}/metrics`)).text();
        return [0, 1].map((w) => Number(new RegExp(`^edge_worker_meetings\\{worker="${w}"\\} (\\d+)$`, 'm').exec(text)?.[1]));
      };
      // Joined at the same time: placement must not put both on the same worker.
      const clients = await Promise.all(['m-a', 'm-b'].map(async (m) => joinAs(own.wsUrl, m, await own.token({ meetingId: m, participantId: 'p' }))));
      assert.deepEqual(await meetingsOf(), [1, 1]);
      for (const c of clients) c.close();
      await waitFor('meetings to close', async () => (await meetingsOf()).every((n) => n === 0));
      const h = (await (await fetch(`${own.url}/healthz`)).json()) as { meetings: number };
      assert.equal(h.meetings, 0);
    } finally {
      await own.stop();
    }
  });
});
