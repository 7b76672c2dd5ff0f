/** The mesh's pure decisions: the remote view of a meeting (who pipes from whom), the combined speaker, redirects. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MeetingShard } from '../../edge-node/protocol/mesh.js';
import { combineSpeaker, remoteView } from '../../edge-node/src/decisions/mesh.js';

function shard(nodeId: string, participants: Array<[string, number]>, producers: Array<[string, string]> = [], o: Partial<MeetingShard> = {}): MeetingShard {
  return {
    meetingId: 'm', nodeId, incarnation: 1, version: 1, deleted: false, speaker: null,
    participants: participants.map(([id, joinedAt]) => ({ id, name: id, role: 'participant' as const, joinedAt })),
    producers: producers.map(([id, participantId]) => ({ id, participantId, kind: 'audio' as const, source: 'mic' as const, paused: false })),
    ...o,
  };
}
const same = () => 'h1';

describe('remoteView', () => {
  test('remote participants and producers, each producer piped from the node it originates on', () => {
    const v = remoteView({
      shards: [shard('b', [['bob', 10]], [['pb', 'bob']]), shard('c', [['carol', 11]], [['pc', 'carol']])],
      codecHash: 'h1', peerCodecHash: same, local: new Map([['alice', 5]]),
    });
    assert.deepEqual(v.participants.map((p) => `${p.id}@${p.nodeId}`).sort(), ['bob@b', 'carol@c']);
    assert.deepEqual(v.producers.map((p) => `${p.id}@${p.nodeId}`).sort(), ['pb@b', 'pc@c']);
    assert.deepEqual(v.replaced, []);
  });

  test('the newest session of a participant wins: its node is the origin, an older local session is replaced', () => {
    const shards = [shard('b', [['alice', 20]], [['new', 'alice']]), shard('c', [['alice', 15]], [['stale', 'alice']])];
    const v = remoteView({ shards, codecHash: 'h1', peerCodecHash: same, local: new Map([['alice', 10]]) });
    assert.deepEqual(v.replaced, ['alice']);
    assert.deepEqual(v.producers.map((p) => p.id), ['new']);
    assert.deepEqual(v.participants.map((p) => p.nodeId), ['b']);
    // The same shards, with the local session the newest: the remote ones are hidden, nothing replaced.
    const w = remoteView({ shards, codecHash: 'h1', peerCodecHash: same, local: new Map([['alice', 30]]) });
    assert.deepEqual([w.replaced, w.participants, w.producers], [[], [], []]);
  });

  test('tombstones and nodes with other codecs are left out; the order of shards does not matter', () => {
    const shards = [shard('b', [['bob', 1]], [['pb', 'bob']], { deleted: true }), shard('c', [['carol', 1]], [['pc', 'carol']]), shard('d', [['dan', 1]], [['pd', 'dan']])];
    const input = { codecHash: 'h1', peerCodecHash: (id: string) => (id === 'd' ? 'h2' : 'h1'), local: new Map<string, number>() };
    const v = remoteView({ shards, ...input });
    assert.deepEqual(v.producers.map((p) => p.id), ['pc']);
    assert.deepEqual(remoteView({ shards: [...shards].reverse(), ...input }), v);
  });
});

describe('combineSpeaker', () => {
  test('the loudest report wins when nobody holds the floor', () => {
    assert.equal(combineSpeaker(null, [{ participantId: 'a', level: -40 }, { participantId: 'b', level: -20 }]), 'b');
  });
  test('the current speaker keeps the floor unless another is clearly louder (hysteresis)', () => {
    const reports = [{ participantId: 'a', level: -30 }, { participantId: 'b', level: -26 }];
    assert.equal(combineSpeaker('a', reports), 'a');
    assert.equal(combineSpeaker('a', [{ participantId: 'a', level: -30 }, { participantId: 'b', level: -20 }]), 'b');
  });
  test('silence everywhere keeps the last speaker; a speaker no longer reported loses the floor', () => {
    assert.equal(combineSpeaker('a', []), 'a');
    assert.equal(combineSpeaker('a', [{ participantId: 'b', level: -60 }]), 'b');
  });
  test('ties go to the smaller id, whatever the order', () => {
    assert.equal(combineSpeaker(null, [{ participantId: 'y', level: -30 }, { participantId: 'x', level: -30 }]), 'x');
    assert.equal(combineSpeaker(null, [{ participantId: 'x', level: -30 }, { participantId: 'y', level: -30 }]), 'x');
  });
});
