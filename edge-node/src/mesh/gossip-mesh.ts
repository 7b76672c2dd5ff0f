/**
 * `GossipMesh`: the `MeshLink` of an edge node over libp2p. Heartbeats once a second (what `describe()` says, plus
 * peer id, addresses, incarnation and a counter), this node's meeting shards (versioned snapshots; a meeting that
 * leaves becomes a tombstone), repair by digest (a peer's digest is answered with the own shards it lacks), pipe
 * requests on PIPE_PROTOCOL (one stream a request: one length-prefixed JSON frame each way, validated, with a
 * timeout and a size limit) and revocation gossip. Membership and the directory are the `ClusterView`'s.
 */
import './polyfill.js';
import { EventEmitter } from 'node:events';
import type { IncomingStreamData, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Logger } from 'pino';
import {
  HEARTBEAT_INTERVAL_MS,
  MeetingShard,
  PIPE_PROTOCOL,
  PipeRequest,
  PipeResponse,
  NodeInfo,
  TOPICS,
  type DirectoryDigest,
} from '../../protocol/mesh.js';
import { ClusterView, type ClusterViewStats } from './cluster-view.js';
import { repairFor } from './directory.js';
import { readFrame, writeFrame } from './frames.js';
import { createMeshNode, type MeshLibp2p } from './libp2p-node.js';
import type { LocalShard, MeshLink, MeshLinkEvents, SelfDescription } from './link.js';

export interface GossipMeshOptions {
  /** The cluster key (text form; see cluster-key.ts). */
  clusterKey: Uint8Array;
  /** libp2p listen multiaddrs; default loopback, any free port. */
  listen?: string[];
  /** Multiaddrs to announce instead (public address). */
  announce?: string[];
  /** Seed multiaddrs of cluster members (`--join`). */
  join?: string[];
  /** This node's id (the `nodeId` of its heartbeats and shards). */
  nodeId: string;
  /**
   * What this node says about itself; called for every heartbeat. May be set later with `describeWith` (the edge
   * node that describes itself is made after its mesh): no heartbeat is sent until there is one.
   */
  describe?: () => SelfDescription;
  privateKey?: PrivateKey;
  logger?: Logger;
  /** Pipe request timeout. */
  requestTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  deadAfterMs?: number;
  digestIntervalMs?: number;
  /** Tests only: publish unsigned (a forger); the product always signs. */
  unsigned?: boolean;
  /** Bench only: false turns off the duplicate check before signature checks (see `fastMsgId`) to measure without it. */
  fastDuplicates?: boolean;
}

type PipeHandler = (fromNodeId: string, req: PipeRequest) => Promise<PipeResponse>;

const OWN_TOMBSTONE_TTL_MS = 60_000;
/** A shard is published again for repair at most this often. */
const REPUBLISH_MIN_MS = 1_000;
const MAX_PIPE_STREAMS = 256;

export class PipeRequestError extends Error {
  override name = 'PipeRequestError';
}

export class GossipMesh extends EventEmitter<MeshLinkEvents> implements MeshLink {
  readonly nodeId: string;
  readonly incarnation = Date.now();
  readonly libp2p: MeshLibp2p;
  readonly view: ClusterView;
  #seq = 0;
  readonly #own = new Map<string, MeetingShard>();
  readonly #ownDeletedAt = new Map<string, number>();
  readonly #lastPublished = new Map<string, number>();
  #handler: PipeHandler | null = null;
  #describe: (() => SelfDescription) | null;
  readonly #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  #eagerHeartbeat: NodeJS.Timeout | null = null;
  readonly #onSubscription = (evt: CustomEvent<{ subscriptions: { topic: string; subscribe: boolean }[] }>) => {
    if (!evt.detail.subscriptions.some((s) => s.topic === TOPICS.heartbeat && s.subscribe) || this.#eagerHeartbeat) return;
    // Coalesced: a node joining a large cluster sees many subscriptions at once.
    this.#eagerHeartbeat = setTimeout(() => {
      this.#eagerHeartbeat = null;
      void this.#heartbeat();
    }, 50);
  };

  private constructor(
    libp2p: MeshLibp2p,
    private readonly options: GossipMeshOptions,
  ) {
    super();
    this.libp2p = libp2p;
    this.nodeId = options.nodeId;
    this.#describe = options.describe ?? null;
    this.view = new ClusterView(libp2p, {
      nodeId: this.nodeId,
      ...(options.logger ? { logger: options.logger.child({ mesh: this.nodeId }) } : {}),
      ...(options.deadAfterMs ? { deadAfterMs: options.deadAfterMs } : {}),
      ...(options.digestIntervalMs ? { digestIntervalMs: options.digestIntervalMs } : {}),
    });
    for (const event of ['nodeUp', 'nodeUpdate', 'nodeDown', 'shardChanged', 'revocation'] as const) {
      this.view.on(event, (...args: unknown[]) => (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args));
    }
    this.view.on('digest', (d) => this.#answerDigest(d));
  }

  /** Creates and starts the libp2p node, joins through the seeds, starts heartbeats. */
  static async start(options: GossipMeshOptions): Promise<GossipMesh> {
    const libp2p = await createMeshNode({
      clusterKey: options.clusterKey,
      listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'],
      ...(options.announce ? { announce: options.announce } : {}),
      ...(options.privateKey ? { privateKey: options.privateKey } : {}),
      sign: !options.unsigned,
      ...(options.fastDuplicates === false ? { fastDuplicates: false } : {}),
    });
    await libp2p.start();
    const mesh = new GossipMesh(libp2p, options);
    try {
      await mesh.#start();
    } catch (err) {
      await mesh.stop();
      throw err;
    }
    return mesh;
  }

  async #start(): Promise<void> {
    this.view.start();
    await this.libp2p.handle(PIPE_PROTOCOL, (data) => void this.#serveStream(data), {
      maxInboundStreams: MAX_PIPE_STREAMS,
      maxOutboundStreams: MAX_PIPE_STREAMS,
    });
    // A new neighbour subscribed to heartbeats: tell it about this node now rather than at the next tick (a joining
    // node learns its neighbours, and they learn it, without waiting a heartbeat interval).
    this.libp2p.services.pubsub.addEventListener('subscription-change', this.#onSubscription);
    const interval = this.options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
    this.#timers.push(setInterval(() => void this.#heartbeat(), interval));
    this.#timers.push(setInterval(() => this.#pruneOwnTombstones(), 5_000));
    if (this.options.join?.length) await this.view.dial(this.options.join);
    void this.#heartbeat();
  }

  /** Multiaddrs other nodes use to reach this one (with /p2p/<peerId>): what `--join` takes. */
  multiaddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Sets what this node says about itself in its heartbeats (the first heartbeat goes out at once). */
  describeWith(describe: () => SelfDescription): void {
    const first = !this.#describe;
    this.#describe = describe;
    if (first) void this.#heartbeat();
  }

  /** The heartbeat this node sends now (undefined until it can describe itself). */
  self(): NodeInfo | undefined {
    if (!this.#describe) return undefined;
    return {
      ...this.#describe(),
      nodeId: this.nodeId,
      peerId: this.peerId,
      multiaddrs: this.multiaddrs().slice(0, 16),
      incarnation: this.incarnation,
      seq: this.#seq,
      sentAt: Date.now(),
    };
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopped) return;
    let info: NodeInfo | undefined;
    try {
      this.#seq++;
      info = this.self();
    } catch (err) {
      this.view.log.error({ err: (err as Error).message }, 'describe() failed: no heartbeat');
      return;
    }
    if (!info) return;
    const checked = NodeInfo.safeParse(info);
    if (!checked.success) {
      // Peers would drop it as malformed: say why here, where it can be fixed.
      this.view.log.error({ issues: checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, 'invalid self description: no heartbeat');
      return;
    }
    await this.view.publish(TOPICS.heartbeat, checked.data);
  }

  peers(): NodeInfo[] {
    return this.view.nodes().filter((n) => n.nodeId !== this.nodeId);
  }

  peer(nodeId: string): NodeInfo | undefined {
    return nodeId === this.nodeId ? undefined : this.view.node(nodeId);
  }

  shards(meetingId: string): MeetingShard[] {
    return this.view.shards(meetingId).filter((s) => s.nodeId !== this.nodeId);
  }

  /** This node's own current shard of a meeting (what it last published), tombstones included. */
  ownShard(meetingId: string): MeetingShard | undefined {
    return this.#own.get(meetingId);
  }

  publishShard(meetingId: string, shard: LocalShard | null): void {
    const prev = this.#own.get(meetingId);
    if (!shard && (!prev || prev.deleted)) return;
    const next = MeetingShard.parse({
      meetingId,
      nodeId: this.nodeId,
      incarnation: this.incarnation,
      version: (prev?.version ?? 0) + 1,
      deleted: !shard,
      participants: shard?.participants ?? [],
      producers: shard?.producers ?? [],
      speaker: shard?.speaker ?? null,
    });
    this.#own.set(meetingId, next);
    if (next.deleted) this.#ownDeletedAt.set(meetingId, Date.now());
    else this.#ownDeletedAt.delete(meetingId);
    this.#publishOwn(next);
  }

  #publishOwn(shard: MeetingShard): void {
    this.#lastPublished.set(shard.meetingId, Date.now());
    void this.view.publish(TOPICS.directory, shard);
  }

  /** Answers a peer's digest with this node's shards it lacks (rate-limited per shard). */
  #answerDigest(digest: DirectoryDigest): void {
    const { republish, forgotten } = repairFor(this.#own, digest, { nodeId: this.nodeId, incarnation: this.incarnation });
    for (const f of forgotten) {
      const tomb = MeetingShard.parse({
        meetingId: f.meetingId, nodeId: this.nodeId, incarnation: this.incarnation, version: f.version + 1,
        deleted: true, participants: [], producers: [], speaker: null,
      });
      this.#own.set(f.meetingId, tomb);
      this.#ownDeletedAt.set(f.meetingId, Date.now());
      republish.push(tomb);
    }
    const now = Date.now();
    for (const s of republish) {
      if (now - (this.#lastPublished.get(s.meetingId) ?? 0) < REPUBLISH_MIN_MS) continue;
      this.#publishOwn(s);
    }
  }

  #pruneOwnTombstones(): void {
    const now = Date.now();
    for (const [meetingId, at] of this.#ownDeletedAt) {
      if (now - at < OWN_TOMBSTONE_TTL_MS) continue;
      this.#ownDeletedAt.delete(meetingId);
      this.#own.delete(meetingId);
      this.#lastPublished.delete(meetingId);
    }
  }

  publishRevocation(command: string): void {
    void this.view.publishRevocation(command);
  }

  stats(): ClusterViewStats {
    return this.view.stats();
  }

  async request(nodeId: string, req: PipeRequest): Promise<PipeResponse> {
    const checked = PipeRequest.safeParse(req);
    if (!checked.success) throw new PipeRequestError(`invalid pipe request: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const peer = this.peer(nodeId);
    if (!peer?.peerId) throw new PipeRequestError(`unknown node ${nodeId}: not a live peer`);
    const timeoutMs = this.options.requestTimeoutMs ?? 5_000;
    const signal = AbortSignal.timeout(timeoutMs);
    let stream: Stream | undefined;
    try {
      stream = await this.libp2p.dialProtocol(peerIdFromString(peer.peerId), PIPE_PROTOCOL, { signal });
      const s = stream;
      const onAbort = () => s.abort(new PipeRequestError(`pipe request to ${nodeId} timed out after ${timeoutMs} ms`));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await writeFrame(s, checked.data);
        const answer = PipeResponse.safeParse(await readFrame(s.source));
        if (!answer.success) throw new PipeRequestError(`invalid pipe response from ${nodeId}`);
        return answer.data;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } catch (err) {
      stream?.abort(err as Error);
      if (signal.aborted) throw new PipeRequestError(`pipe request to ${nodeId} timed out after ${timeoutMs} ms`);
      if (err instanceof PipeRequestError) throw err;
      throw new PipeRequestError(`pipe request to ${nodeId} failed: ${(err as Error).message}`);
    } finally {
      if (stream && stream.status === 'open') await stream.close().catch(() => undefined);
    }
  }

  serve(handler: PipeHandler): void {
    this.#handler = handler;
  }

  async #serveStream({ stream, connection }: IncomingStreamData): Promise<void> {
    const timeout = setTimeout(() => stream.abort(new Error('pipe request timed out')), this.options.requestTimeoutMs ?? 5_000);
    try {
      const answer = await this.#answer(connection.remotePeer.toString(), stream);
      await writeFrame(stream, answer);
    } catch (err) {
      this.view.log.debug({ err: (err as Error).message }, 'pipe stream failed');
      stream.abort(err as Error);
    } finally {
      clearTimeout(timeout);
    }
  }

  async #answer(remotePeer: string, stream: Stream): Promise<PipeResponse> {
    const fail = (code: 'bad_request' | 'internal' | 'not_found', message: string): PipeResponse => ({ ok: false, error: { code, message } });
    const fromNodeId = this.view.membership.nodeIdOfPeer(remotePeer);
    let frame: unknown;
    try {
      frame = await readFrame(stream.source);
    } catch (err) {
      return fail('bad_request', (err as Error).message);
    }
    if (!fromNodeId) return fail('bad_request', 'caller is not a live member of this node\'s view');
    const req = PipeRequest.safeParse(frame);
    if (!req.success) return fail('bad_request', req.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ').slice(0, 500));
    if (!this.#handler) return fail('internal', 'this node serves no pipes');
    try {
      const res = await this.#handler(fromNodeId, req.data);
      const checked = PipeResponse.safeParse(res);
      if (!checked.success) {
        this.view.log.error({ issues: checked.error.issues }, 'pipe handler returned an invalid response');
        return fail('internal', 'invalid response from the pipe handler');
      }
      return checked.data;
    } catch (err) {
      this.view.log.warn({ err: (err as Error).message, from: fromNodeId, type: req.data.type }, 'pipe handler failed');
      return fail('internal', (err as Error).message.slice(0, 500));
    }
  }

  /** Stops heartbeats, the view and libp2p (peers declare this node dead after DEAD_AFTER_MS). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#eagerHeartbeat) clearTimeout(this.#eagerHeartbeat);
    this.libp2p.services.pubsub.removeEventListener('subscription-change', this.#onSubscription);
    await this.view.close();
    await this.libp2p.unhandle(PIPE_PROTOCOL).catch(() => undefined);
    await this.libp2p.stop();
  }
}
