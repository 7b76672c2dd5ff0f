/** The meeting directory merge (pure): shuffled, duplicated and late updates converge; tombstones; digest repair. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { MeetingShard } from '../../edge-node/protocol/mesh.js';
import { digestOf, dropNode, liveShards, mergeDirectory, repairFor, shardKey, type Directory } from '../../edge-node/src/mesh/directory.js';

function shard(meetingId: string, nodeId: string, incarnation: number, version: number, deleted = false, who = 'p'): MeetingShard {
  return {
    meetingId, nodeId, incarnation, version, deleted,
    participants: deleted ? [] : [{ id: `${who}-${nodeId}-${version}`, name: who, role: 'participant', joinedAt: version }],
    producers: [], speaker: null,
  };
}

const arbShard = fc
  .record({
    meeting: fc.constantFrom('m1', 'm2', 'm3'),
    node: fc.constantFrom('a', 'b', 'c'),
    incarnation: fc.integer({ min: 1, max: 3 }),
    version: fc.integer({ min: 1, max: 6 }),
    deleted: fc.boolean(),
    who: fc.constantFrom('x', 'y'),
  })
  .map((r) => shard(r.meeting, r.node, r.incarnation, r.version, r.deleted, r.who));

function mergeAll(updates: MeetingShard[], start: Directory = new Map()): Directory {
  return mergeDirectory(start, updates).directory;
}

function asSorted(d: Directory): [string, MeetingShard][] {
  return [...d].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

test('mergeDirectory: any order, with duplicates, one at a time or in batches, gives the same directory', () => {
  fc.assert(
    fc.property(
      fc.array(arbShard, { maxLength: 40 }),
      fc.infiniteStream(fc.nat()),
      fc.array(fc.nat(), { maxLength: 20 }),
      (updates, randoms, dupIdx) => {
        const reference = mergeAll(updates);
        // duplicate some updates, then shuffle with the generated randomness
        const withDups = [...updates, ...dupIdx.filter(() => updates.length > 0).map((i) => updates[i % updates.length]!)];
        const it = randoms[Symbol.iterator]();
        const shuffled = [...withDups];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value! % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        let oneByOne: Directory = new Map();
        for (const u of shuffled) oneByOne = mergeDirectory(oneByOne, [u]).directory;
        const half = Math.floor(shuffled.length / 2);
        const batched = mergeAll(shuffled.slice(half), mergeAll(shuffled.slice(0, half)));
        assert.deepEqual(asSorted(oneByOne), asSorted(reference));
        assert.deepEqual(asSorted(batched), asSorted(reference));
        // merging again changes nothing (idempotent)
        assert.equal(mergeDirectory(reference, updates).changed.length, 0);
        // and each entry is the newest (incarnation, version) of its key
        for (const [key, s] of reference) {
          const same = updates.filter((u) => shardKey(u.meetingId, u.nodeId) === key);
          const best = Math.max(...same.map((u) => u.incarnation * 100 + u.version));
          assert.equal(s.incarnation * 100 + s.version, best);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('mergeDirectory: a late live copy never revives a tombstone; a newer incarnation does', () => {
  let d = mergeAll([shard('m', 'a', 1, 3, true)]);
  const late = mergeDirectory(d, [shard('m', 'a', 1, 2), shard('m', 'a', 1, 3)]);
  assert.equal(late.changed.length, 0);
  assert.deepEqual(liveShards(late.directory, 'm'), []);
  d = mergeAll([shard('m', 'a', 2, 1)], d);
  assert.deepEqual(liveShards(d, 'm').map((s) => [s.nodeId, s.incarnation]), [['a', 2]]);
});

test('mergeDirectory reports what changed; dropNode removes a dead or restarted node\'s shards', () => {
  const r = mergeDirectory(new Map(), [shard('m1', 'a', 1, 1), shard('m1', 'a', 1, 2), shard('m1', 'b', 1, 1), shard('m2', 'a', 1, 1)]);
  assert.deepEqual(r.changed.map((s) => [s.meetingId, s.nodeId, s.version]), [['m1', 'a', 2], ['m1', 'b', 1], ['m2', 'a', 1]]);
  const gone = dropNode(r.directory, 'a');
  assert.deepEqual(gone.dropped.map((s) => s.meetingId).sort(), ['m1', 'm2']);
  assert.deepEqual([...gone.directory.values()].map((s) => s.nodeId), ['b']);
  const restarted = dropNode(mergeAll([shard('m3', 'a', 2, 1)], r.directory), 'a', 2);
  assert.deepEqual([...restarted.directory.values()].filter((s) => s.nodeId === 'a').map((s) => s.meetingId), ['m3']);
});

test('repair: the origin republishes what a digest lacks or holds older, and ends what it forgot', () => {
  const own = new Map([
    ['m1', shard('m1', 'a', 5, 3)],
    ['m2', shard('m2', 'a', 5, 1)],
    ['m3', shard('m3', 'a', 5, 2, true)],
    ['m4', shard('m4', 'a', 5, 4, true)],
  ]);
  const peer = mergeAll([shard('m1', 'a', 5, 3), shard('m2', 'a', 5, 0), shard('m4', 'a', 5, 3), shard('m9', 'a', 5, 7), shard('m8', 'a', 4, 2), shard('m1', 'b', 1, 1)]);
  const { republish, forgotten } = repairFor(own, digestOf(peer, 'peer'), { nodeId: 'a', incarnation: 5 });
  assert.deepEqual(republish.map((s) => s.meetingId).sort(), ['m2', 'm4'], 'm1 is current there; m3 is a tombstone the peer never saw live');
  assert.deepEqual(forgotten, [{ meetingId: 'm9', version: 7 }], 'm8 is of an older incarnation: the peer drops it on the restart itself');
  // after applying the answer, the peer agrees with the origin
  const repaired = mergeAll([...republish, shard('m9', 'a', 5, 8, true)], peer);
  for (const [meetingId, s] of own) if (!s.deleted) assert.deepEqual(repaired.get(shardKey(meetingId, 'a')), s);
  assert.deepEqual(liveShards(repaired, 'm9'), []);
  assert.deepEqual(liveShards(repaired, 'm4'), []);
});
