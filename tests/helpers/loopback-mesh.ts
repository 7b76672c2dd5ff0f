/**
 * Test harness (not the product): an in-process `MeshLink` for several EdgeNodes in one process, so that pipes and
 * shards can be tested without libp2p. Shards are versioned and delivered asynchronously (as gossip is); pipe
 * requests and responses cross as JSON and are validated with the wire schemas (as the libp2p stream protocol does);
 * `kill(nodeId)` makes a node vanish for the others (nodeDown, its shards gone, its requests refused).
 */
import { EventEmitter } from 'node:events';
import {
  MeetingShard,
  PipeRequest,
  PipeResponse,
  type NodeInfo,
} from '../../edge-node/protocol/mesh.js';
import type { LocalShard, MeshLink, MeshLinkEvents, SelfDescription } from '../../edge-node/src/mesh/link.js';

export class LoopbackMesh {
  private readonly links = new Map<string, LoopbackLink>();
  /** Pipe requests by type, for tests that count them. */
  readonly requests: Array<{ from: string; to: string; type: string }> = [];

  link(nodeId: string, describe: () => SelfDescription): LoopbackLink {
    const l = new LoopbackLink(this, nodeId, describe);
    this.links.set(nodeId, l);
    for (const other of this.links.values()) {
      if (other === l) continue;
      setImmediate(() => {
        other.emit('nodeUp', l.info());
        l.emit('nodeUp', other.info());
        for (const s of other.ownShards()) l.deliver(s);
      });
    }
    return l;
  }

  /** The node disappears for everyone else (as after SIGKILL and DEAD_AFTER_MS). */
  kill(nodeId: string): void {
    const dead = this.links.get(nodeId);
    if (!dead) return;
    this.links.delete(nodeId);
    dead.dead = true;
    for (const l of this.links.values()) l.forget(nodeId);
  }

  live(): LoopbackLink[] {
    return [...this.links.values()];
  }

  get(nodeId: string): LoopbackLink | undefined {
    return this.links.get(nodeId);
  }
}

export class LoopbackLink extends EventEmitter<MeshLinkEvents> implements MeshLink {
  dead = false;
  private readonly incarnation = Date.now();
  private seq = 0;
  private readonly own = new Map<string, MeetingShard>();
  private readonly others = new Map<string, MeetingShard>(); // key meetingId/nodeId
  private handler: ((from: string, req: PipeRequest) => Promise<PipeResponse>) | null = null;

  constructor(
    private readonly mesh: LoopbackMesh,
    readonly nodeId: string,
    private readonly describe: () => SelfDescription,
  ) {
    super();
  }

  info(): NodeInfo {
    return { ...this.describe(), incarnation: this.incarnation, seq: this.seq++, sentAt: Date.now() };
  }

  peers(): NodeInfo[] {
    return this.mesh.live().filter((l) => l !== this).map((l) => l.info());
  }

  peer(nodeId: string): NodeInfo | undefined {
    return this.mesh.live().find((l) => l.nodeId === nodeId && l !== this)?.info();
  }

  ownShards(): MeetingShard[] {
    return [...this.own.values()];
  }

  publishShard(meetingId: string, shard: LocalShard | null): void {
    if (this.dead) return;
    const prev = this.own.get(meetingId);
    const record = MeetingShard.parse({
      meetingId,
      nodeId: this.nodeId,
      incarnation: this.incarnation,
      version: (prev?.version ?? 0) + 1,
      deleted: shard === null,
      participants: shard?.participants ?? [],
      producers: shard?.producers ?? [],
      speaker: shard?.speaker ?? null,
    });
    this.own.set(meetingId, record);
    const json = JSON.stringify(record);
    for (const l of this.mesh.live()) if (l !== this) setImmediate(() => l.deliver(MeetingShard.parse(JSON.parse(json))));
  }

  /** Merges a shard from a peer: the newest (incarnation, version) wins; stale or duplicate deliveries change nothing. */
  deliver(s: MeetingShard): void {
    if (this.dead) return;
    const key = `${s.meetingId}/${s.nodeId}`;
    const cur = this.others.get(key);
    if (cur && (cur.incarnation > s.incarnation || (cur.incarnation === s.incarnation && cur.version >= s.version))) return;
    this.others.set(key, s);
    this.emit('shardChanged', s.meetingId, s.nodeId);
  }

  forget(nodeId: string): void {
    const meetings: string[] = [];
    for (const [key, s] of this.others) {
      if (s.nodeId !== nodeId) continue;
      this.others.delete(key);
      meetings.push(s.meetingId);
    }
    this.emit('nodeDown', nodeId);
    for (const m of meetings) this.emit('shardChanged', m, nodeId);
  }

  shards(meetingId: string): MeetingShard[] {
    const live = new Set(this.mesh.live().map((l) => l.nodeId));
    return [...this.others.values()].filter((s) => s.meetingId === meetingId && !s.deleted && live.has(s.nodeId));
  }

  async request(nodeId: string, req: PipeRequest): Promise<PipeResponse> {
    const target = this.mesh.get(nodeId);
    if (this.dead || !target || !target.handler) throw new Error(`node '${nodeId}' is not reachable`);
    this.mesh.requests.push({ from: this.nodeId, to: nodeId, type: req.type });
    const wire = PipeRequest.parse(JSON.parse(JSON.stringify(req)));
    const res = await target.handler(this.nodeId, wire);
    if (this.dead || target.dead) throw new Error(`node '${nodeId}' went away`);
    return PipeResponse.parse(JSON.parse(JSON.stringify(res)));
  }

  serve(handler: (fromNodeId: string, req: PipeRequest) => Promise<PipeResponse>): void {
    this.handler = handler;
  }

  publishRevocation(_command: string): void {}
}
