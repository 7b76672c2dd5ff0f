/**
 * A cluster member's view: membership from heartbeats and the meeting directory from shards, over gossipsub. Every
 * record is validated (zod) and authenticated (gossipsub strict signing: the signer must be the libp2p peer of the
 * node the record speaks for) before it counts; anything else is dropped and counted in `stats()`.
 *
 * An edge node's `GossipMesh` builds on one (and adds its heartbeats, its shards and pipes); the control plane uses
 * one by itself as a listening member (`ClusterView.join`): it knows the nodes and who holds which meeting, and
 * gossips revocations.
 */
import './polyfill.js';
import { EventEmitter } from 'node:events';
import type { Message, PeerId } from '@libp2p/interface';
import { TopicValidatorResult } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import pino, { type Logger } from 'pino';
import {
  DEAD_AFTER_MS,
  DIGEST_INTERVAL_MS,
  DirectoryDigest,
  MeetingShard,
  NodeInfo,
  RevocationRecord,
  TOPICS,
} from '../../protocol/mesh.js';
import { digestOf, dropNode, liveShards, mergeDirectory, shardKey, type Directory } from './directory.js';
import { createMeshNode, type MeshLibp2p } from './libp2p-node.js';
import type { MeshLinkEvents } from './link.js';
import { Membership } from './membership.js';

export type ClusterViewEvents = MeshLinkEvents & {
  /** A peer's directory digest (what it holds), for the origin nodes to answer with what it misses. */
  digest: [digest: DirectoryDigest];
};

export interface ClusterViewOptions {
  /** This member's name: the node id of an edge node; e.g. `control-<n>` for the control plane. */
  nodeId: string;
  logger?: Logger;
  deadAfterMs?: number;
  /** Period of this member's own digest (repair). */
  digestIntervalMs?: number;
  /** Open connections kept: members learnt from heartbeats are dialled until there are this many. */
  targetPeers?: number;
  /** How long a received tombstone is kept before it is pruned. */
  tombstoneTtlMs?: number;
}

export interface JoinOptions extends ClusterViewOptions {
  clusterKey: Uint8Array;
  /** Seed multiaddrs (with /p2p/<peerId>). */
  join: string[];
  /** Listen multiaddrs; default: loopback, any free port. */
  listen?: string[];
}

/** Counters: records received per topic, records dropped per reason. */
export interface ClusterViewStats {
  received: Record<string, number>;
  dropped: Record<string, number>;
  published: number;
}

type Parsed =
  | { topic: 'heartbeat'; value: NodeInfo }
  | { topic: 'shard'; value: MeetingShard }
  | { topic: 'digest'; value: DirectoryDigest }
  | { topic: 'revocation'; value: RevocationRecord };

const REVOCATIONS_REMEMBERED = 10_000;
const EXPIRY_CHECK_MS = 250;
/** Timer lateness above which this process counts as stalled (see Membership.forgive). */
const STALL_FORGIVEN_MS = 500;

export class ClusterView extends EventEmitter<ClusterViewEvents> {
  readonly nodeId: string;
  readonly log: Logger;
  readonly membership: Membership;
  #directory: Directory = new Map();
  readonly #tombstoneSeen = new Map<string, number>();
  readonly #revocations = new Set<string>();
  readonly #parsed = new WeakMap<Message, Parsed>();
  readonly #timers: NodeJS.Timeout[] = [];
  #digestSoon: NodeJS.Timeout | null = null;
  #ownsNode = false;
  /** Seed addresses dialled at join; dialled again whenever this member has no connection left. */
  #seeds: string[] = [];
  #dialling = 0;
  #lastExpiry = Date.now();
  #closed = false;
  readonly #stats: ClusterViewStats = { received: {}, dropped: {}, published: 0 };
  readonly #opts: Required<Omit<ClusterViewOptions, 'logger' | 'nodeId'>>;
  readonly #onMessage = (evt: CustomEvent<Message>) => this.#handle(evt.detail);

  /** Use on a started libp2p node; call `start()`. */
  constructor(
    readonly libp2p: MeshLibp2p,
    options: ClusterViewOptions,
  ) {
    super();
    this.nodeId = options.nodeId;
    this.log = options.logger ?? pino({ level: 'warn', base: { mesh: options.nodeId } });
    this.#opts = {
      deadAfterMs: options.deadAfterMs ?? DEAD_AFTER_MS,
      digestIntervalMs: options.digestIntervalMs ?? DIGEST_INTERVAL_MS,
      targetPeers: options.targetPeers ?? 8,
      tombstoneTtlMs: options.tombstoneTtlMs ?? 60_000,
    };
    this.membership = new Membership(this.#opts.deadAfterMs);
  }

  /** A listening member with its own libp2p node (the control plane's): started, seeds dialled. */
  static async join(options: JoinOptions): Promise<ClusterView> {
    const node = await createMeshNode({ clusterKey: options.clusterKey, listen: options.listen ?? ['/ip4/127.0.0.1/tcp/0'] });
    await node.start();
    const view = new ClusterView(node, options);
    view.#ownsNode = true;
    view.start();
    await view.dial(options.join);
    return view;
  }

  start(): void {
    const pubsub = this.libp2p.services.pubsub;
    for (const topic of Object.values(TOPICS)) {
      pubsub.topicValidators.set(topic, (_from, msg) => this.#validate(msg));
      pubsub.subscribe(topic);
    }
    pubsub.addEventListener('message', this.#onMessage);
    this.#timers.push(setInterval(() => this.#expire(), EXPIRY_CHECK_MS));
    this.#timers.push(setInterval(() => this.publishDigest(), this.#opts.digestIntervalMs + Math.floor(Math.random() * 1000)));
    this.#timers.push(setInterval(() => void this.#topUpPeers(), 5_000));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearInterval(t);
    if (this.#digestSoon) clearTimeout(this.#digestSoon);
    const pubsub = this.libp2p.services.pubsub;
    pubsub.removeEventListener('message', this.#onMessage);
    for (const topic of Object.values(TOPICS)) pubsub.topicValidators.delete(topic);
    if (this.#ownsNode) await this.libp2p.stop();
  }

  /** Dials seed (or any) multiaddrs; failures are logged, not thrown (a seed may be down; others may be up). */
  async dial(addrs: string[]): Promise<number> {
    for (const a of addrs) if (!this.#seeds.includes(a)) this.#seeds.push(a);
    const results = await Promise.allSettled(addrs.map((a) => this.libp2p.dial(multiaddr(a), { signal: AbortSignal.timeout(10_000) })));
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.log.warn({ addr: addrs[i], err: (r.reason as Error).message }, 'cannot dial cluster peer');
    });
    return results.filter((r) => r.status === 'fulfilled').length;
  }

  /** Live edge nodes (fresh heartbeat), without this member. */
  nodes(): NodeInfo[] {
    return this.membership.nodes();
  }

  node(nodeId: string): NodeInfo | undefined {
    return this.membership.get(nodeId);
  }

  /** Live nodes that hold a live shard of the meeting (where its participants are). */
  nodesOfMeeting(meetingId: string): NodeInfo[] {
    return this.shards(meetingId).flatMap((s) => this.membership.get(s.nodeId) ?? []);
  }

  /** Live nodes' live shards of a meeting. */
  shards(meetingId: string): MeetingShard[] {
    return liveShards(this.#directory, meetingId).filter((s) => this.membership.get(s.nodeId));
  }

  get directory(): Directory {
    return this.#directory;
  }

  stats(): ClusterViewStats {
    return structuredClone(this.#stats);
  }

  /** Publishes a record on a topic (JSON). Without subscribers nothing is sent (the caller's repair path covers it). */
  async publish(topic: string, record: unknown): Promise<boolean> {
    if (this.#closed) return false;
    const pubsub = this.libp2p.services.pubsub;
    if (pubsub.getSubscribers(topic).length === 0) return false;
    try {
      await pubsub.publish(topic, new TextEncoder().encode(JSON.stringify(record)));
      this.#stats.published++;
      return true;
    } catch (err) {
      this.log.debug({ topic, err: (err as Error).message }, 'publish failed');
      return false;
    }
  }

  /**
   * Gossips a signed host command; waits (bounded) for a subscriber first so that it is not lost: any subscriber, or
   * with `forPeer` that peer (a node that just came up, once its subscription has reached this member).
   */
  async publishRevocation(command: string, o: { waitMs?: number; forPeer?: string } = {}): Promise<boolean> {
    const record = RevocationRecord.parse({ command });
    this.#revocations.add(command);
    const until = Date.now() + (o.waitMs ?? 10_000);
    const ready = () => {
      const subscribers = this.libp2p.services.pubsub.getSubscribers(TOPICS.revocation);
      return o.forPeer ? subscribers.some((p) => p.toString() === o.forPeer) : subscribers.length > 0;
    };
    while (!this.#closed && !ready() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    return this.publish(TOPICS.revocation, record);
  }

  /** Publishes what this member holds; origins answer with the shards it lacks. */
  publishDigest(): void {
    void this.publish(TOPICS.directory, digestOf(this.#directory, this.nodeId));
  }

  #count(kind: 'received' | 'dropped', key: string): void {
    this.#stats[kind][key] = (this.#stats[kind][key] ?? 0) + 1;
  }

  #drop(reason: string, msg: Message, result = TopicValidatorResult.Ignore): TopicValidatorResult {
    this.#count('dropped', reason);
    this.log.debug({ reason, topic: msg.topic, from: msg.type === 'signed' ? msg.from.toString() : undefined }, 'gossip record dropped');
    return result;
  }

  /**
   * Gossipsub asks before it delivers or forwards a message. Malformed records are rejected (the sender's score
   * drops); records whose signer is not the node they name, or that name a node outside the view, are ignored
   * (not forwarded, not delivered).
   */
  #validate(msg: Message): TopicValidatorResult {
    if (msg.type !== 'signed') return this.#drop('unsigned', msg, TopicValidatorResult.Reject);
    const parsed = this.#parse(msg);
    if (!parsed) return this.#drop('malformed', msg, TopicValidatorResult.Reject);
    const from = msg.from.toString();
    switch (parsed.topic) {
      case 'heartbeat':
        if (parsed.value.peerId !== from) return this.#drop('forged-heartbeat', msg, TopicValidatorResult.Reject);
        if (parsed.value.nodeId === this.nodeId) return this.#drop('claims-our-name', msg);
        break;
      case 'shard': {
        const member = this.membership.get(parsed.value.nodeId);
        if (!member) return this.#drop('outside-view', msg);
        if (member.peerId !== from) return this.#drop('forged-shard', msg);
        if (parsed.value.incarnation < member.incarnation) return this.#drop('old-incarnation', msg);
        break;
      }
      case 'digest':
      case 'revocation':
        // A digest only asks; a revocation is a host command signed by the control plane, verified by each node.
        break;
    }
    this.#parsed.set(msg, parsed);
    return TopicValidatorResult.Accept;
  }

  #parse(msg: Message): Parsed | null {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(msg.data));
    } catch {
      return null;
    }
    if (msg.topic === TOPICS.heartbeat) {
      const r = NodeInfo.safeParse(json);
      return r.success ? { topic: 'heartbeat', value: r.data } : null;
    }
    if (msg.topic === TOPICS.directory) {
      const s = MeetingShard.safeParse(json);
      if (s.success) return { topic: 'shard', value: s.data };
      const d = DirectoryDigest.safeParse(json);
      return d.success ? { topic: 'digest', value: d.data } : null;
    }
    if (msg.topic === TOPICS.revocation) {
      const r = RevocationRecord.safeParse(json);
      return r.success ? { topic: 'revocation', value: r.data } : null;
    }
    return null;
  }

  #handle(msg: Message): void {
    if (this.#closed) return;
    const parsed = this.#parsed.get(msg);
    if (!parsed) return; // not one of ours, or not validated
    this.#count('received', parsed.topic);
    switch (parsed.topic) {
      case 'heartbeat':
        return this.#onHeartbeat(parsed.value);
      case 'shard':
        return this.mergeShards([parsed.value]);
      case 'digest':
        if (parsed.value.nodeId !== this.nodeId) this.emit('digest', parsed.value);
        return;
      case 'revocation':
        return this.#onRevocation(parsed.value.command);
    }
  }

  #onHeartbeat(info: NodeInfo): void {
    const { verdict, previous } = this.membership.observe(info, Date.now());
    switch (verdict) {
      case 'stale':
        return;
      case 'conflict':
        this.#count('dropped', 'conflicting-heartbeat');
        this.log.warn({ nodeId: info.nodeId, peerId: info.peerId }, 'another peer claims a live node id; ignored');
        return;
      case 'restart':
        this.#nodeGone(previous!.nodeId, info.incarnation);
        this.#nodeArrived(info);
        return;
      case 'up':
        this.#nodeArrived(info);
        return;
      case 'update':
        this.emit('nodeUpdate', info);
        return;
      case 'refresh':
        return;
    }
  }

  #nodeArrived(info: NodeInfo): void {
    if (info.peerId && info.multiaddrs?.length) {
      try {
        void this.libp2p.peerStore
          .merge(peerIdFromString(info.peerId), { multiaddrs: info.multiaddrs.map((a) => multiaddr(a)) })
          .catch(() => undefined);
      } catch (err) {
        this.log.debug({ nodeId: info.nodeId, err: (err as Error).message }, 'bad peer address in heartbeat');
      }
      void this.#topUpPeers();
    }
    this.emit('nodeUp', info);
    this.#digestAfterArrivals();
  }

  /** A node died or restarted: its shards (below `belowIncarnation`) go, and with them its part of meetings. */
  #nodeGone(nodeId: string, belowIncarnation?: number): void {
    const { directory, dropped } = dropNode(this.#directory, nodeId, belowIncarnation);
    this.#directory = directory;
    this.emit('nodeDown', nodeId);
    for (const s of dropped) if (!s.deleted) this.emit('shardChanged', s.meetingId, s.nodeId);
  }

  /** Merges shards (validated and authenticated) and announces the changes. */
  mergeShards(shards: MeetingShard[]): void {
    const { directory, changed } = mergeDirectory(this.#directory, shards);
    this.#directory = directory;
    const now = Date.now();
    for (const s of changed) {
      const key = shardKey(s.meetingId, s.nodeId);
      if (s.deleted) this.#tombstoneSeen.set(key, now);
      else this.#tombstoneSeen.delete(key);
      this.emit('shardChanged', s.meetingId, s.nodeId);
    }
  }

  #onRevocation(command: string): void {
    if (this.#revocations.has(command)) return;
    this.#revocations.add(command);
    if (this.#revocations.size > REVOCATIONS_REMEMBERED) this.#revocations.delete(this.#revocations.values().next().value!);
    this.emit('revocation', command);
  }

  #expire(): void {
    const now = Date.now();
    const stalled = now - this.#lastExpiry - EXPIRY_CHECK_MS;
    this.#lastExpiry = now;
    // A stalled event loop (an overloaded host) must not make this member declare everyone dead.
    if (stalled > STALL_FORGIVEN_MS) this.membership.forgive(stalled);
    for (const dead of this.membership.expire(now)) {
      this.log.info({ nodeId: dead.nodeId }, 'node silent: declared dead');
      this.#nodeGone(dead.nodeId);
    }
    const old = [...this.#tombstoneSeen].filter(([, at]) => now - at > this.#opts.tombstoneTtlMs).map(([k]) => k);
    if (old.length) {
      const next = new Map(this.#directory);
      for (const k of old) {
        this.#tombstoneSeen.delete(k);
        if (next.get(k)?.deleted) next.delete(k);
      }
      this.#directory = next;
    }
  }

  /** After nodes come up (a burst when this member joins a cluster), one digest so that they send their shards. */
  #digestAfterArrivals(): void {
    if (this.#digestSoon || this.#closed) return;
    this.#digestSoon = setTimeout(() => {
      this.#digestSoon = null;
      this.publishDigest();
    }, 1_500);
  }

  /** Keeps `targetPeers` connections: dials live members it is not connected to (peer discovery by heartbeat). */
  async #topUpPeers(): Promise<void> {
    // One round of dials at a time: on a loaded host, dials that pile up time out together and feed the load.
    if (this.#closed || this.#dialling > 0) return;
    const connected = new Set(this.libp2p.getConnections().map((c) => c.remotePeer.toString()));
    if (connected.size === 0 && this.#seeds.length) {
      // Cut off (seeds were down at start, or every neighbour left): back in through the seeds.
      this.#dialling++;
      await this.dial(this.#seeds).finally(() => this.#dialling--);
      return;
    }
    let missing = this.#opts.targetPeers - connected.size;
    if (missing <= 0) return;
    const self = this.libp2p.peerId.toString();
    const candidates = this.membership.nodes().filter((n) => n.peerId && n.peerId !== self && !connected.has(n.peerId) && n.multiaddrs?.length);
    for (const n of shuffle(candidates)) {
      if (missing-- <= 0) break;
      let peer: PeerId;
      try {
        peer = peerIdFromString(n.peerId!);
      } catch {
        continue;
      }
      this.#dialling++;
      this.libp2p
        .dial(peer, { signal: AbortSignal.timeout(10_000) })
        .catch((err: Error) => this.log.debug({ nodeId: n.nodeId, err: err.message }, 'dial failed'))
        .finally(() => this.#dialling--);
    }
  }
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
