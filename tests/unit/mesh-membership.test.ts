/** Membership from heartbeats: what each heartbeat means, and expiry (pure, no network). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEAD_AFTER_MS } from '../../edge-node/protocol/mesh.js';
import { Membership, expiredMembers, judgeHeartbeat } from '../../edge-node/src/mesh/membership.js';
import { heartbeat } from '../helpers/mesh.js';

test('judgeHeartbeat: first, newer, same content, reordered, restart, impostor', () => {
  const hb = heartbeat();
  assert.equal(judgeHeartbeat(undefined, undefined, hb), 'up');
  assert.equal(judgeHeartbeat(hb, undefined, heartbeat({ seq: 2, sentAt: 5 })), 'refresh');
  assert.equal(judgeHeartbeat(hb, undefined, heartbeat({ seq: 2, load: { participants: 3, consumers: 0, cpu: 0.1 } })), 'update');
  assert.equal(judgeHeartbeat(hb, undefined, heartbeat({ seq: 2, state: 'draining' })), 'update');
  assert.equal(judgeHeartbeat(heartbeat({ seq: 5 }), undefined, heartbeat({ seq: 4 })), 'stale');
  assert.equal(judgeHeartbeat(hb, undefined, hb), 'stale', 'a duplicate changes nothing');
  assert.equal(judgeHeartbeat(hb, undefined, heartbeat({ incarnation: 2000, seq: 1, peerId: 'peerA2' })), 'restart');
  assert.equal(judgeHeartbeat(hb, undefined, heartbeat({ seq: 9, peerId: 'mallory' })), 'conflict');
  assert.equal(judgeHeartbeat(heartbeat({ incarnation: 2000 }), undefined, heartbeat({ incarnation: 1000, seq: 99 })), 'stale', 'an older incarnation never comes back');
});

test('judgeHeartbeat: a dead node comes back only with a newer heartbeat than its last one', () => {
  const departed = { incarnation: 1000, seq: 7, at: 0 };
  assert.equal(judgeHeartbeat(undefined, departed, heartbeat({ seq: 7 })), 'stale');
  assert.equal(judgeHeartbeat(undefined, departed, heartbeat({ seq: 3 })), 'stale');
  assert.equal(judgeHeartbeat(undefined, departed, heartbeat({ seq: 8 })), 'up');
  assert.equal(judgeHeartbeat(undefined, departed, heartbeat({ incarnation: 1001, seq: 0 })), 'up');
});

test('expiredMembers: silent for longer than the limit', () => {
  const now = 100_000;
  const dead = expiredMembers([['a', now - DEAD_AFTER_MS - 1], ['b', now - DEAD_AFTER_MS], ['c', now - 10]], now);
  assert.deepEqual(dead, ['a']);
});

test('Membership: up, expiry after DEAD_AFTER_MS of silence, no revival by a stale copy, revival by a newer one', () => {
  const m = new Membership();
  assert.equal(m.observe(heartbeat({ seq: 1 }), 0).verdict, 'up');
  assert.equal(m.observe(heartbeat({ nodeId: 'b', peerId: 'peerB' }), 0).verdict, 'up');
  assert.equal(m.nodeIdOfPeer('peerA'), 'a');
  assert.equal(m.observe(heartbeat({ seq: 2 }), 3000).verdict, 'refresh');
  assert.deepEqual(m.expire(3000 + DEAD_AFTER_MS).map((n) => n.nodeId), ['b'], 'b fell silent at 0');
  assert.deepEqual(m.nodes().map((n) => n.nodeId), ['a']);
  assert.deepEqual(m.expire(3000 + DEAD_AFTER_MS + 1).map((n) => n.nodeId), ['a']);
  assert.equal(m.size, 0);
  assert.equal(m.nodeIdOfPeer('peerA'), undefined);
  assert.equal(m.observe(heartbeat({ seq: 2 }), 9000).verdict, 'stale', 'a delayed copy of the last heartbeat');
  assert.equal(m.get('a'), undefined);
  assert.equal(m.observe(heartbeat({ seq: 3 }), 9000).verdict, 'up');
  assert.equal(m.get('a')?.seq, 3);
});

test('Membership: a restart replaces the peer id; an impostor does not', () => {
  const m = new Membership();
  m.observe(heartbeat(), 0);
  assert.equal(m.observe(heartbeat({ seq: 2, peerId: 'mallory' }), 1).verdict, 'conflict');
  assert.equal(m.get('a')?.peerId, 'peerA');
  assert.equal(m.nodeIdOfPeer('mallory'), undefined);
  const r = m.observe(heartbeat({ incarnation: 5000, seq: 1, peerId: 'peerA2' }), 2);
  assert.equal(r.verdict, 'restart');
  assert.equal(r.previous?.incarnation, 1000);
  assert.equal(m.nodeIdOfPeer('peerA'), undefined);
  assert.equal(m.nodeIdOfPeer('peerA2'), 'a');
});

test('Membership: a stall of the observer itself is forgiven, not taken for the members\' silence', () => {
  const m = new Membership();
  m.observe(heartbeat(), 0);
  m.forgive(10_000); // this process did not run from 500 to 10 500
  assert.deepEqual(m.expire(10_500), []);
  assert.deepEqual(m.expire(10_000 + DEAD_AFTER_MS + 1).map((n) => n.nodeId), ['a']);
});
