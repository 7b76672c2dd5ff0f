/**
 * The mesh's wire contract: what edge nodes (and the control plane, as a listening member) say to each other.
 *
 * 1. Gossip (libp2p gossipsub, private network key, strict signing), one topic per record kind:
 *    - `NodeInfo` heartbeats, about once a second: membership and load. A node silent for `DEAD_AFTER_MS` is dead.
 *    - `MeetingShard`: one node's part of one meeting (its local participants and the producers it originates), as a
 *      full snapshot with a version. Merges keep the highest (incarnation, version) per (meeting, node); a shard with
 *      `deleted` is a tombstone. Periodic `DirectoryDigest`s let peers ask for what they missed.
 *    - `RevocationRecord`: a signed host command (remove/end) every node must honour until it expires.
 * 2. Pipe requests (libp2p request/response on `PIPE_PROTOCOL`): "pipe producer P of meeting M to me", answered with
 *    PipeTransport parameters. One transport pair per (meeting, node pair); one pipe consumer per (producer, remote
 *    node). Only a producer's origin node is ever asked.
 *
 * Every record is validated with these schemas on receipt; a record that fails is dropped (and counted).
 */
import { z } from 'zod';
import { MediaKind, ParticipantInfo, ProducerInfo, ProducerSource } from './signalling.js';

export const MESH_PROTOCOL_VERSION = 1;
export const TOPICS = {
  heartbeat: 'meshmeet/heartbeat/1',
  directory: 'meshmeet/directory/1',
  revocation: 'meshmeet/revocation/1',
} as const;
export const PIPE_PROTOCOL = '/meshmeet/pipe/1';
export const HEARTBEAT_INTERVAL_MS = 1000;
/** A node whose last heartbeat is older than this is dead: its pipes and directory shards are dropped. */
export const DEAD_AFTER_MS = 4000;
/** Each member publishes a `DirectoryDigest` this often (plus up to 1 s of jitter), so that origins repair what it missed. */
export const DIGEST_INTERVAL_MS = 10_000;
/** Largest pipe request or response frame, bytes. */
export const MAX_PIPE_FRAME_BYTES = 64 * 1024;

const Id = z.string().min(1).max(128);
const NodeId = z.string().min(1).max(64);
const Count = z.number().int().nonnegative();

export const NodeState = z.enum(['active', 'draining']);
export type NodeState = z.infer<typeof NodeState>;

/** A node's heartbeat: who it is, where, how to reach it, how loaded. Also the shape of `meshmeet route --nodes`. */
export const NodeInfo = z.object({
  nodeId: NodeId,
  region: z.string().min(1).max(64),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  /** Base URL of the node's HTTP server; signalling at `<url>/ws/:meetingId`. */
  signallingUrl: z.url().max(512),
  /** Address announced in the node's ICE candidates and pipe transports. */
  mediaAddress: z.string().min(1).max(128),
  capacity: z.object({ participants: Count }),
  load: z.object({ participants: Count, consumers: Count, cpu: z.number().min(0).max(1) }),
  state: NodeState,
  /** Software version; informative. */
  version: z.string().max(64),
  /** Hash of the router codecs: nodes with another hash are never piped to or routed together. */
  codecHash: z.string().min(1).max(128),
  /** libp2p peer id, set by the mesh. */
  peerId: z.string().max(128).optional(),
  /** libp2p addresses (ending in /p2p/<peerId>), set by the mesh: how peers that learnt of this node by gossip dial it. */
  multiaddrs: z.array(z.string().min(1).max(256)).max(16).optional(),
  /** Node start time (ms since epoch): a restarted node's records supersede the old ones. */
  incarnation: Count,
  /** Heartbeat counter within the incarnation. */
  seq: Count,
  sentAt: Count,
});
export type NodeInfo = z.infer<typeof NodeInfo>;

/** A participant as the clients see it (`ParticipantInfo`), with when its session joined. */
export const ShardParticipant = ParticipantInfo.extend({
  name: z.string().max(100),
  /** When this session joined (ms); the newest session of a participant id wins across nodes (older ones: 4409). */
  joinedAt: Count,
});
export type ShardParticipant = z.infer<typeof ShardParticipant>;

/** A producer a node originates, announced to peers exactly as to clients. */
export const ShardProducer = ProducerInfo;
export type ShardProducer = z.infer<typeof ShardProducer>;

/** One node's part of one meeting, as a full versioned snapshot. */
export const MeetingShard = z.object({
  meetingId: Id,
  nodeId: NodeId,
  incarnation: Count,
  /** Increases with every change this node makes to this shard within an incarnation. */
  version: Count,
  deleted: z.boolean(),
  participants: z.array(ShardParticipant).max(2000),
  producers: z.array(ShardProducer).max(6000),
  /** This node's loudest local speaker (for the meeting-wide active speaker), or null. */
  speaker: z.object({ participantId: Id, level: z.number().min(-127).max(0) }).nullable(),
});
export type MeetingShard = z.infer<typeof MeetingShard>;

/** What a node holds, for repair: peers answer a digest with the shards that are newer than the digest's. */
export const DirectoryDigest = z.object({
  nodeId: NodeId,
  entries: z.array(z.object({ meetingId: Id, nodeId: NodeId, incarnation: Count, version: Count })).max(10000),
});
export type DirectoryDigest = z.infer<typeof DirectoryDigest>;

/** A signed host command (remove or end), verified by each node against the control plane's JWKS. */
export const RevocationRecord = z.object({ command: z.string().min(1).max(8192) });
export type RevocationRecord = z.infer<typeof RevocationRecord>;

const SrtpParameters = z.object({ cryptoSuite: z.string().min(1).max(64), keyBase64: z.string().min(1).max(256) });
const Tuple = z.object({ ip: z.string().min(1).max(128), port: z.number().int().min(1).max(65535), srtpParameters: SrtpParameters });

export const PipeRequest = z.discriminatedUnion('type', [
  /** Open (or return the existing) pipe transport pair for a meeting between the caller and this node. */
  z.object({ type: z.literal('openTransport'), v: z.literal(MESH_PROTOCOL_VERSION), meetingId: Id, local: Tuple }),
  /** Pipe one producer that originates on this node to the caller (idempotent per producer and caller). */
  z.object({ type: z.literal('pipeProducer'), v: z.literal(MESH_PROTOCOL_VERSION), meetingId: Id, producerId: Id }),
  /** The caller no longer needs this producer (no subscriber left on its side). */
  z.object({ type: z.literal('unpipeProducer'), v: z.literal(MESH_PROTOCOL_VERSION), meetingId: Id, producerId: Id }),
  /** A keyframe for a piped video producer (coalesced on the origin by keyFrameRequestDelay). */
  z.object({ type: z.literal('requestKeyFrame'), v: z.literal(MESH_PROTOCOL_VERSION), meetingId: Id, producerId: Id }),
]);
export type PipeRequest = z.infer<typeof PipeRequest>;

export const PipeErrorCode = z.enum(['bad_request', 'not_found', 'not_origin', 'codec_mismatch', 'draining', 'internal']);
export const PipeResponse = z.union([
  z.object({ ok: z.literal(true), type: z.literal('openTransport'), remote: Tuple }),
  z.object({
    ok: z.literal(true),
    type: z.literal('pipeProducer'),
    producerId: Id,
    participantId: Id,
    kind: MediaKind,
    source: ProducerSource,
    paused: z.boolean(),
    /** The pipe consumer's RTP parameters, for the caller's pipe producer. */
    rtpParameters: z.looseObject({ codecs: z.array(z.looseObject({})).min(1).max(64) }),
  }),
  z.object({ ok: z.literal(true), type: z.enum(['unpipeProducer', 'requestKeyFrame']) }),
  z.object({ ok: z.literal(false), error: z.object({ code: PipeErrorCode, message: z.string().max(500) }) }),
]);
export type PipeResponse = z.infer<typeof PipeResponse>;
