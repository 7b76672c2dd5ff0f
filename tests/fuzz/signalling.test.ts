/**
 * Fuzz: every signalling method of the edge node gets generated bad input — data with wrong types, missing and extra
 * fields, huge and empty strings, NUL and control characters, ids that are not ids, other participants' transports,
 * producers and consumers, prototype keys — and the envelope itself is fuzzed (ids, method names such as
 * `__proto__`, frames that are not JSON, binary or oversized). Every frame gets an answer with a protocol error
 * naming the problem (or a success for input that happens to be valid): never `internal`, never a closed
 * connection, never a hang. Real mediasoup workers answer; the node must still serve a normal join at the end.
 *
 * FUZZ_RUNS=N (cases per method x 3, default 25) runs more; FUZZ_SEED replays a run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { z } from 'zod';
import { ErrorCodes, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, Requests } from '../../edge-node/protocol/signalling.js';
import type { SignallingClient } from '../../web/src/signalling-client.js';
import { startEdge, type TestEdge } from '../helpers/edge.js';
import { RawSocket, joinAs, opusRtpParameters } from '../helpers/ws-client.js';
import { Entries, FUZZ_RUNS, FUZZ_SEED, PROTOTYPE_KEYS, badString, badValue, bodyFor, bounded, toJson, type Json } from './arbitraries.js';

const M = 'fuzz-room';
let edge: TestEdge;
let victim: SignallingClient;
const known: string[] = [];
const outcomes = new Map<string, number>();
const serverErrors: string[] = [];
let frames = 0;
let nextId = 1;

/** A joined raw connection with its own send and receive transports (their ids join the known ones). */
async function fuzzer(name: string): Promise<{ raw: RawSocket; ids: string[] }> {
  const raw = new RawSocket(`${edge.wsUrl}/ws/${M}?token=${await edge.token({ meetingId: M, participantId: name })}`);
  const ask = async (method: string, data: unknown) => {
    const id = nextId++;
    const r = await raw.send(JSON.stringify({ id, method, data }), id);
    assert.equal(r.ok, true, `${method}: ${JSON.stringify(r)}`);
    return r.data;
  };
  const { rtpCapabilities } = await ask('getRouterRtpCapabilities', {});
  await ask('join', { protocolVersion: PROTOCOL_VERSION, rtpCapabilities });
  const send = await ask('createTransport', { direction: 'send' });
  const recv = await ask('createTransport', { direction: 'recv' });
  return { raw, ids: [send.id, recv.id] };
}

/** Sends one frame and checks the answer; returns the error code (or 'ok'). */
async function check(raw: RawSocket, frame: string | Buffer, id: string | number | null, what: string, mayClose = false): Promise<string> {
  // An oversized frame is not parsed: its answer (too_large) cannot carry the request's id.
  const oversized = Buffer.byteLength(frame) > MAX_MESSAGE_BYTES;
  if (oversized) id = null;
  let r: any;
  try {
    r = await raw.send(frame, id);
  } catch (err) {
    serverErrors.push(`no answer: ${what}`);
    throw new Error(`no answer (${(err as Error).message}) to ${what}`);
  }
  frames++;
  const outcome = r.ok ? 'ok' : r.error?.code;
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  if (!(mayClose && r.ok)) assert.equal(raw.ws.readyState, WebSocket.OPEN, `connection closed after ${what}`);
  if (!r.ok) {
    assert.ok(ErrorCodes.safeParse(r.error?.code).success, `unknown error code: ${JSON.stringify(r)} for ${what}`);
    assert.ok(typeof r.error.message === 'string' && r.error.message.length > 0, `error without a message for ${what}`);
    if (r.error.code === 'internal') {
      serverErrors.push(`internal: ${what}`);
      assert.fail(`internal error for ${what}`);
    }
    if (oversized) assert.equal(r.error.code, 'too_large', `oversized frame answered ${r.error.code}`);
    // Names the field (`path: problem`), or says what is wrong with the frame as a whole.
    if (r.error.code === 'bad_request') assert.match(r.error.message, /:|not valid JSON|binary/, `bad_request not naming the field for ${what}: ${r.error.message}`);
  }
  return outcome;
}

describe('fuzz: signalling methods of the edge node', { timeout: 600_000 }, () => {
  before(async () => {
    edge = await startEdge({ workers: 1 });
    // Another participant whose transports, producer and consumer ids the fuzzer may try to use.
    victim = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: 'victim' }));
    const vt = await victim.request('createTransport', { direction: 'send' });
    const vr = await victim.request('createTransport', { direction: 'recv' });
    const vp = await victim.request('produce', { transportId: vt.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(4242) });
    known.push('victim', vt.id, vr.id, vp.producerId);
    console.log(`fuzz signalling: seed ${FUZZ_SEED}, ${FUZZ_RUNS * 3} cases per method (FUZZ_SEED=${FUZZ_SEED} replays)`);
  });
  after(async () => {
    const hist = [...outcomes.entries()].sort().map(([k, n]) => `${k}:${n}`).join(' ');
    console.log(`fuzz signalling: ${frames} frames, ${serverErrors.length} server errors; outcomes ${hist}`);
    victim?.close();
    await edge?.stop();
  });

  for (const method of Object.keys(Requests) as Array<keyof typeof Requests>) {
    test(`${method}: bad data gets a protocol error naming the problem`, async () => {
      let { raw, ids } = await fuzzer(`fuzzer-${method}`);
      const strings = [...known, ...ids, 'fuzzer', 'victim'];
      let round = 0;
      const schema = z.toJSONSchema(Requests[method], { io: 'input', unrepresentable: 'any' });
      const data = fc.oneof(
        { weight: 6, arbitrary: bodyFor(schema, { uuids: [], emails: [], strings }) },
        { weight: 1, arbitrary: badValue(strings) },
      );
      await bounded(fc.assert(fc.asyncProperty(data, fc.boolean(), async (d, withData) => {
        const id = nextId++;
        const frame = `{"id":${id},"method":${JSON.stringify(method)}${withData ? `,"data":${toJson(d)}` : ''}}`;
        if (Buffer.byteLength(frame) > 900_000) return; // beyond what ws lets through (1 MiB): the socket would be cut
        // A valid `leave` ends the connection (that is what it is for): the next case gets a new one.
        if (raw.ws.readyState !== WebSocket.OPEN) ({ raw } = await fuzzer(`fuzzer-${method}-${++round}`));
        await check(raw, frame, id, `${method} ${frame.slice(0, 300)}`, method === 'leave');
      }), { numRuns: FUZZ_RUNS * 3, seed: FUZZ_SEED, endOnFailure: true }));
      raw.ws.close();
    });
  }

  test('envelopes: bad ids, unknown and prototype method names, non-JSON, binary and oversized frames', async () => {
    const { raw, ids } = await fuzzer('fuzzer-envelope');
    const strings = [...known, ...ids];
    const method = fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'JOIN', 'join ', '', 'leave\u0000'), badString(strings).filter((s) => s.length < 100));
    const envelope: fc.Arbitrary<{ frame: string | Buffer; id: string | number | null }> = fc.oneof(
      // A good id and a bad method: unknown_method naming it.
      fc.tuple(method, badValue(strings, 1)).map(([m, d]) => {
        const id = nextId++;
        return { frame: `{"id":${id},"method":${JSON.stringify(m)},"data":${toJson(d)}}`, id };
      }),
      // A bad envelope (id of the wrong type or too long, fields missing or extra): an error, with the id when it is
      // a string or a number, else with id null.
      fc.tuple(badValue(strings, 1), fc.option(badValue(strings, 1), { nil: undefined })).map(([raw, m]) => {
        const idv = raw === null || typeof raw === 'number' ? 'x'.repeat(100) : raw;
        return {
          frame: toJson(new Entries([['id', idv], ...(m === undefined ? [] : [['method', m] as [string, Json]])])),
          id: typeof idv === 'string' ? idv : null,
        };
      }),
      fc.constantFrom('', 'not json', '{', '[]', 'null', '"x"', '{"__proto__":{"id":1,"method":"leave"}}', '\u0000', '{"id":1e400}').map((frame) => ({ frame, id: null })),
      fc.integer({ min: 65 * 1024, max: 300 * 1024 }).map((n) => ({ frame: `{"id":1,"method":"join","data":"${'z'.repeat(n)}"}`, id: null })),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => ({ frame: Buffer.from(b), id: null })),
    );
    await bounded(fc.assert(fc.asyncProperty(envelope, async ({ frame, id }) => {
      if (Buffer.isBuffer(frame)) {
        raw.ws.send(frame, { binary: true });
        frames++;
        const r = await check(raw, `{"id":${nextId},"method":"getRouterRtpCapabilities","data":{}}`, nextId++, 'a request after a binary frame');
        assert.equal(r, 'ok');
        return;
      }
      await check(raw, frame, id, `envelope ${String(frame).slice(0, 200)}`);
    }), { numRuns: FUZZ_RUNS * 6, seed: FUZZ_SEED, endOnFailure: true }));
    raw.ws.close();
    // The node still serves a normal participant.
    const c = await joinAs(edge.wsUrl, M, await edge.token({ meetingId: M, participantId: 'after-fuzz' }));
    c.close();
    assert.deepEqual(serverErrors, []);
  });
});
