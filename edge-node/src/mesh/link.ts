/**
 * What an edge node needs from the mesh, and nothing more: the live peers, the other nodes' shards of a meeting,
 * a way to publish its own shard, and pipe requests to and from peers. The gossip implementation (libp2p) lives
 * beside this file; the edge node's media code depends only on this interface.
 */
import type { EventEmitter } from 'node:events';
import type { MeetingShard, NodeInfo, PipeRequest, PipeResponse, ShardParticipant, ShardProducer } from '../../protocol/mesh.js';

export type MeshLinkEvents = {
  /** A node's heartbeat was seen for the first time (or again after it was declared dead). */
  nodeUp: [node: NodeInfo];
  /** A node's heartbeat changed (load, state). */
  nodeUpdate: [node: NodeInfo];
  /** A node fell silent for DEAD_AFTER_MS (or left): drop its pipes; its shards are gone from `shards()`. */
  nodeDown: [nodeId: string];
  /** Another node's shard of a meeting changed (merged a newer version, or its node died). */
  shardChanged: [meetingId: string, nodeId: string];
  /** A revocation (a signed host command, not yet verified) arrived from a peer: the node verifies it, then applies it. */
  revocation: [command: string];
};

/** This node's part of a meeting, as it publishes it; the link adds meetingId, nodeId, incarnation and version. */
export interface LocalShard {
  participants: ShardParticipant[];
  producers: ShardProducer[];
  speaker: MeetingShard['speaker'];
}

export interface MeshLink extends EventEmitter<MeshLinkEvents> {
  readonly nodeId: string;
  /** Live nodes (fresh heartbeat), without this one. */
  peers(): NodeInfo[];
  peer(nodeId: string): NodeInfo | undefined;
  /** Replaces this node's shard of a meeting (null: the meeting left this node; gossiped as a tombstone). */
  publishShard(meetingId: string, shard: LocalShard | null): void;
  /** Live other nodes' shards of a meeting (tombstones and dead nodes' shards left out). */
  shards(meetingId: string): MeetingShard[];
  /** Sends a pipe request to a live peer; rejects on timeout (a few seconds) or when the peer is unknown. */
  request(nodeId: string, req: PipeRequest): Promise<PipeResponse>;
  /** Serves pipe requests from peers (one handler per node). The caller's node id is authenticated by the link. */
  serve(handler: (fromNodeId: string, req: PipeRequest) => Promise<PipeResponse>): void;
  /** Gossips a signed host command (remove/end) so that every node refuses the tokens it covers. */
  publishRevocation(command: string): void;
}

/** What a node says about itself in each heartbeat; the link adds peerId, multiaddrs, incarnation, seq and sentAt. */
export type SelfDescription = Omit<NodeInfo, 'peerId' | 'multiaddrs' | 'incarnation' | 'seq' | 'sentAt'>;
