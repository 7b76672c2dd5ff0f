/**
 * The meeting directory: per (meeting, node), that node's latest shard (a full snapshot of its part of the meeting).
 * Gossip loses, duplicates and reorders records, so the merge is a pure function that is commutative, associative
 * and idempotent: the newest (incarnation, version) wins; equal positions are ordered by a fixed rule (tombstone
 * first, then the record's text) so that every node ends with the same directory whatever the order of arrival.
 * A shard with `deleted` is a tombstone: it stays (so an older live copy arriving late cannot revive the meeting
 * on that node) until it is pruned.
 */
import type { DirectoryDigest, MeetingShard } from '../../protocol/mesh.js';

export type Directory = ReadonlyMap<string, MeetingShard>;

export function shardKey(meetingId: string, nodeId: string): string {
  return JSON.stringify([meetingId, nodeId]);
}

/** > 0 when `a` supersedes `b`, < 0 when `b` supersedes `a`, 0 when they are the same record. */
export function compareShards(a: MeetingShard, b: MeetingShard): number {
  if (a.incarnation !== b.incarnation) return a.incarnation - b.incarnation;
  if (a.version !== b.version) return a.version - b.version;
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  const ta = JSON.stringify(a);
  const tb = JSON.stringify(b);
  return ta === tb ? 0 : ta > tb ? 1 : -1;
}

/** Merges updates into a directory; returns the new directory and the keys whose record changed. */
export function mergeDirectory(directory: Directory, updates: Iterable<MeetingShard>): { directory: Directory; changed: MeetingShard[] } {
  let next: Map<string, MeetingShard> | undefined;
  const changed = new Map<string, MeetingShard>();
  for (const shard of updates) {
    const key = shardKey(shard.meetingId, shard.nodeId);
    const current = (next ?? directory).get(key);
    if (current && compareShards(shard, current) <= 0) continue;
    next ??= new Map(directory);
    next.set(key, shard);
    changed.set(key, shard);
  }
  return { directory: next ?? directory, changed: [...changed.values()] };
}

/** Removes every shard of a node older than `belowIncarnation` (all of them when absent): the node died or restarted. */
export function dropNode(directory: Directory, nodeId: string, belowIncarnation = Infinity): { directory: Directory; dropped: MeetingShard[] } {
  const dropped = [...directory.values()].filter((s) => s.nodeId === nodeId && s.incarnation < belowIncarnation);
  if (dropped.length === 0) return { directory, dropped };
  const next = new Map(directory);
  for (const s of dropped) next.delete(shardKey(s.meetingId, s.nodeId));
  return { directory: next, dropped };
}

/** Live (not deleted) shards of a meeting. */
export function liveShards(directory: Directory, meetingId: string): MeetingShard[] {
  return [...directory.values()].filter((s) => s.meetingId === meetingId && !s.deleted);
}

/** What this directory holds, for repair. */
export function digestOf(directory: Directory, nodeId: string): DirectoryDigest {
  return {
    nodeId,
    entries: [...directory.values()].map(({ meetingId, nodeId: n, incarnation, version }) => ({ meetingId, nodeId: n, incarnation, version })),
  };
}

/**
 * The origin's answer to a peer's digest: its own shards that the peer lacks or holds older (to publish again), and
 * tombstones for meetings the peer still lists for this node (same incarnation) that the origin has forgotten (it
 * pruned the tombstone: a new one, above the peer's version, ends the peer's copy).
 */
export function repairFor(
  own: ReadonlyMap<string, MeetingShard>,
  digest: DirectoryDigest,
  self: { nodeId: string; incarnation: number },
): { republish: MeetingShard[]; forgotten: { meetingId: string; version: number }[] } {
  const theirs = new Map<string, { incarnation: number; version: number }>();
  for (const e of digest.entries) if (e.nodeId === self.nodeId) theirs.set(e.meetingId, e);
  const republish = [...own.values()].filter((s) => {
    const t = theirs.get(s.meetingId);
    if (!t) return !s.deleted; // a tombstone the peer never had a live copy of is news to nobody
    return t.incarnation < s.incarnation || (t.incarnation === s.incarnation && t.version < s.version);
  });
  const forgotten = [...theirs]
    .filter(([meetingId, t]) => !own.has(meetingId) && t.incarnation === self.incarnation)
    .map(([meetingId, t]) => ({ meetingId, version: t.version }));
  return { republish, forgotten };
}
