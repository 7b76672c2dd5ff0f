/**
 * Pure decisions of a meeting that spans nodes:
 * - `remoteView`: from the other nodes' shards, who is in the meeting elsewhere, which producers this node may pipe
 *   and from which node (only a producer's origin, only nodes with the same router codecs), and which local sessions a
 *   newer session of the same participant on another node replaces (4409 here).
 * - `combineSpeaker`: one meeting-wide active speaker from each node's loudest local speaker, with hysteresis.
 */
import type { MeetingShard, ShardParticipant, ShardProducer } from '../../protocol/mesh.js';

export type RemoteParticipant = ShardParticipant & { nodeId: string };
export type RemoteProducer = ShardProducer & { nodeId: string };

export interface RemoteView {
  participants: RemoteParticipant[];
  /** Producers to offer local clients, each with the node it originates on (the node to pipe from). */
  producers: RemoteProducer[];
  /** Local participant ids whose session a newer one on another node replaces. */
  replaced: string[];
}

export interface RemoteViewInput {
  shards: readonly MeetingShard[];
  /** This node's router codec hash and each live peer's; a peer with another hash is left out (never piped from). */
  codecHash: string;
  peerCodecHash: (nodeId: string) => string | undefined;
  /** Local participants and when their sessions joined. */
  local: ReadonlyMap<string, number>;
}

export function remoteView(input: RemoteViewInput): RemoteView {
  // The newest session of each participant id wins, across nodes (ties: the smaller node id, so every node agrees).
  const winner = new Map<string, RemoteParticipant>();
  const usable = input.shards
    .filter((s) => !s.deleted && input.peerCodecHash(s.nodeId) === input.codecHash)
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  for (const s of usable) {
    for (const p of s.participants) {
      const cur = winner.get(p.id);
      if (!cur || p.joinedAt > cur.joinedAt) winner.set(p.id, { ...p, nodeId: s.nodeId });
    }
  }
  const replaced: string[] = [];
  for (const [id, joinedAt] of input.local) {
    const remote = winner.get(id);
    if (!remote) continue;
    if (remote.joinedAt > joinedAt) replaced.push(id);
    else winner.delete(id); // the local session is the newest: the remote one is stale and hidden here
  }
  const producers: RemoteProducer[] = [];
  const seen = new Set<string>();
  for (const s of usable) {
    for (const prod of s.producers) {
      if (winner.get(prod.participantId)?.nodeId !== s.nodeId || seen.has(prod.id)) continue;
      seen.add(prod.id);
      producers.push({ ...prod, nodeId: s.nodeId });
    }
  }
  return { participants: [...winner.values()], producers, replaced: replaced.sort() };
}

export interface SpeakerReport {
  participantId: string;
  /** dBov, -127 (silence) to 0 (loudest). */
  level: number;
}

/** A new speaker takes over only when this many dB louder than the current one (who otherwise keeps the floor). */
export const SPEAKER_HYSTERESIS_DB = 6;

/**
 * The meeting-wide active speaker from every node's report (its loudest local speaker, or none). The current speaker
 * keeps the floor while still reported and not `margin` dB quieter than the loudest; with no report at all (silence
 * everywhere) the last speaker stays. Ties go to the smaller id, so every node picks the same.
 */
export function combineSpeaker(current: string | null, reports: readonly SpeakerReport[], margin = SPEAKER_HYSTERESIS_DB): string | null {
  if (reports.length === 0) return current;
  const best = [...reports].sort((a, b) => b.level - a.level || (a.participantId < b.participantId ? -1 : 1))[0]!;
  const cur = reports.find((r) => r.participantId === current);
  if (cur && best.level - cur.level < margin) return cur.participantId;
  return best.participantId;
}
