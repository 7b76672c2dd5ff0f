/** The mesh's cheap duplicate key for gossipsub (fastMsgId): the author and sequence number, never the signature. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fastMsgId } from '../../edge-node/src/mesh/libp2p-node.js';

const from = new Uint8Array([0, 36, 8, 1, 18, 32, 7, 7, 7]);
const seqno = new Uint8Array([0, 0, 1, 2, 3, 4, 5, 6]);

test('copies of one record (same author and sequence number) share a key whatever their signature or route', () => {
  const a = fastMsgId({ from, seqno, data: new Uint8Array([1, 2, 3]) });
  const b = fastMsgId({ from: Uint8Array.from(from), seqno: Uint8Array.from(seqno), data: new Uint8Array([1, 2, 3]) });
  assert.equal(a, b);
});

test('another sequence number or another author is another record', () => {
  const a = fastMsgId({ from, seqno });
  assert.notEqual(fastMsgId({ from, seqno: new Uint8Array([0, 0, 1, 2, 3, 4, 5, 7]) }), a);
  assert.notEqual(fastMsgId({ from: new Uint8Array([0, 36, 8, 1, 18, 32, 7, 7, 8]), seqno }), a);
});

test('views into a larger buffer are keyed by their own bytes only', () => {
  const big = new Uint8Array([9, 9, ...from, ...seqno, 9]);
  const f = big.subarray(2, 2 + from.length);
  const s = big.subarray(2 + from.length, 2 + from.length + seqno.length);
  assert.equal(fastMsgId({ from: f, seqno: s }), fastMsgId({ from, seqno }));
});

test('unsigned messages (tests only) are keyed by their data', () => {
  assert.equal(fastMsgId({ data: new Uint8Array([1]) }), fastMsgId({ data: new Uint8Array([1]) }));
  assert.notEqual(fastMsgId({ data: new Uint8Array([1]) }), fastMsgId({ data: new Uint8Array([2]) }));
  assert.notEqual(fastMsgId({ data: new Uint8Array([]) }), fastMsgId({ from, seqno }));
});
