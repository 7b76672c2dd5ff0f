/**
 * A meeting on this node joined to its parts on other nodes through the mesh (`MeshLink`):
 * - publishes this node's shard (local participants with joinedAt, the producers they originate with their paused
 *   state, the loudest local speaker) on every change, coalesced per tick, and a tombstone when it closes;
 * - applies the other nodes' shards (`remoteView`): remote participants and producers appear to local clients as
 *   `participantJoined` / `newProducer`, pause, resume and close follow shard versions (idempotent), the
 *   meeting-wide active speaker combines every node's report, and a newer session of a local participant elsewhere
 *   replaces the local one (`onReplaced`: the node closes it with 4409);
 * - one `NodePipe` per peer: producers are piped here on demand (when a local client consumes one), only from their
 *   origin; a pipe nobody here uses closes after `idleMs`; a peer that dies (nodeDown) or leaves the meeting
 *   (tombstone) has its pipe closed, and a pipe is rebuilt on demand when the peer is back;
 * - serves the peers' pipe requests for this meeting.
 * `close()` closes the pipes and publishes the tombstone.
 */
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { PipeRequest, PipeResponse, ShardProducer } from '../../protocol/mesh.js';
import { remoteView } from '../decisions/mesh.js';
import type { MeshLink } from '../mesh/link.js';
import type { Meeting, RemoteProducers } from './meeting.js';
import { NodePipe, PipeError } from './node-pipe.js';
import type { ProducerMeta } from './participant.js';
import type { ProducerEntry } from './producer-registry.js';

export interface MeshMeetingOptions {
  selfId: string;
  codecHash: string;
  listenIp: string;
  announcedIp: string;
  /** A pipe nobody on this node consumes closes after this long (ms). */
  idleMs: number;
  log: Logger;
  /** A newer session of this local participant joined on another node. */
  onReplaced: (participantId: string) => void;
}

export class MeshMeeting implements RemoteProducers {
  private readonly pipes = new Map<string, NodePipe>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private peersInMeeting = new Set<string>();
  private publishQueued = false;
  private closed = false;
  private readonly onShard = (meetingId: string) => {
    if (meetingId === this.meeting.id) this.apply();
  };
  private readonly onNodeDown = (nodeId: string) => {
    this.pipes.get(nodeId)?.close();
    this.apply();
  };
  private readonly onChanged = () => this.schedulePublish();

  constructor(
    readonly meeting: Meeting,
    private readonly link: MeshLink,
    private readonly o: MeshMeetingOptions,
  ) {
    meeting.remote = this;
    meeting.on('changed', this.onChanged);
    link.on('shardChanged', this.onShard);
    link.on('nodeDown', this.onNodeDown);
    this.apply();
    this.schedulePublish();
  }

  /** The pipe to a peer (created on first use). */
  private pipeTo(peerId: string): NodePipe {
    let pipe = this.pipes.get(peerId);
    if (!pipe || pipe.isClosed) {
      const created = new NodePipe({
        meetingId: this.meeting.id, selfId: this.o.selfId, peerId, router: this.meeting.router,
        listenIp: this.o.listenIp, announcedIp: this.o.announcedIp, link: this.link, log: this.o.log,
      });
      created.once('close', () => {
        if (this.pipes.get(peerId) === created) this.pipes.delete(peerId);
      });
      this.pipes.set(peerId, created);
      pipe = created;
    }
    return pipe;
  }

  /** Pipe consumers here per peer and pipe producers here per peer: what tests and the bench read. */
  pipeCounts(): { outbound: Record<string, number>; inbound: Record<string, number> } {
    const outbound: Record<string, number> = {};
    const inbound: Record<string, number> = {};
    for (const [peer, p] of this.pipes) {
      outbound[peer] = p.outboundCount;
      inbound[peer] = p.inboundCount;
    }
    return { outbound, inbound };
  }

  /** Bytes sent and received by this meeting's pipe transports. */
  async pipeBytes(): Promise<{ sent: number; received: number }> {
    let sent = 0, received = 0;
    for (const p of this.pipes.values()) {
      const t = await p.currentTransport();
      for (const s of t ? await t.getStats().catch(() => []) : []) {
        sent += s.bytesSent ?? 0;
        received += s.bytesReceived ?? 0;
      }
    }
    return { sent, received };
  }

  pipe(entry: ProducerEntry): Promise<types.Producer<ProducerMeta>> {
    if (entry.origin.type !== 'node') return Promise.reject(new PipeError('not_origin', 'a local producer needs no pipe'));
    const peer = entry.origin.nodeId;
    this.clearIdle(entry.info.id);
    const pipe = this.pipeTo(peer);
    return pipe.pipeIn(entry).then((producer) => {
      // A late joiner gets a picture at once (the origin coalesces requests by keyFrameRequestDelay).
      if (producer.kind === 'video') pipe.requestKeyFrame(entry.info.id);
      return producer;
    }, (err: Error) => {
      this.o.log.warn({ err: err.message, producer: entry.info.id, peer }, 'pipe failed');
      throw err;
    });
  }

  idle(producerId: string): void {
    this.clearIdle(producerId);
    this.idleTimers.set(producerId, setTimeout(() => {
      this.idleTimers.delete(producerId);
      const e = this.meeting.producers.get(producerId);
      if (this.closed || this.meeting.consumersOf(producerId) > 0) return;
      const peer = e?.origin.type === 'node' ? e.origin.nodeId : null;
      for (const [id, pipe] of this.pipes) if (!peer || id === peer) void pipe.unpipe(producerId);
    }, this.o.idleMs));
  }

  private clearIdle(producerId: string): void {
    const t = this.idleTimers.get(producerId);
    if (t) clearTimeout(t);
    this.idleTimers.delete(producerId);
  }

  /** Applies the other nodes' shards of this meeting. */
  private apply(): void {
    if (this.closed) return;
    const shards = this.link.shards(this.meeting.id).filter((s) => s.nodeId !== this.o.selfId);
    const local = new Map(this.meeting.localParticipants().map((p) => [p.id, p.joinedAt]));
    const view = remoteView({
      shards,
      codecHash: this.o.codecHash,
      peerCodecHash: (id) => this.link.peer(id)?.codecHash,
      local,
    });
    this.meeting.setRemoteParticipants(view.participants);
    this.meeting.producers.setRemote(view.producers.map(({ nodeId, id, participantId, kind, source, paused }) => ({ nodeId, id, participantId, kind, source, paused })));
    const present = new Set(view.participants.map((p) => `${p.nodeId}/${p.id}`));
    this.meeting.setRemoteSpeakers(shards.flatMap((s) => (s.speaker && present.has(`${s.nodeId}/${s.speaker.participantId}`) ? [s.speaker] : [])));
    // A peer whose shard is gone left the meeting (tombstone): its pipe has nothing left to carry.
    const now = new Set(shards.map((s) => s.nodeId));
    for (const peer of this.peersInMeeting) if (!now.has(peer)) this.pipes.get(peer)?.close();
    this.peersInMeeting = now;
    for (const id of view.replaced) this.o.onReplaced(id);
  }

  private schedulePublish(): void {
    if (this.publishQueued || this.closed) return;
    this.publishQueued = true;
    setImmediate(() => {
      this.publishQueued = false;
      if (this.closed) return;
      const producers: ShardProducer[] = [];
      for (const e of this.meeting.producers.list()) {
        if (e.origin.type === 'local') producers.push({ ...e.info });
      }
      this.link.publishShard(this.meeting.id, {
        participants: this.meeting.localParticipants().map((p) => ({ id: p.id, name: p.name, role: p.role, joinedAt: p.joinedAt })),
        producers,
        speaker: this.meeting.localSpeaker,
      });
    });
  }

  /** Answers a peer's pipe request for this meeting. */
  async serve(from: string, req: PipeRequest): Promise<PipeResponse> {
    const peer = this.link.peer(from);
    if (peer && peer.codecHash !== this.o.codecHash) return fail('codec_mismatch', 'router codecs differ');
    try {
      switch (req.type) {
        case 'openTransport':
          return { ok: true, type: 'openTransport', remote: await this.pipeTo(from).serveOpen(req.local) };
        case 'pipeProducer':
          return await this.pipeTo(from).servePipe(this.meeting.producers.get(req.producerId), req.producerId);
        case 'unpipeProducer':
          this.pipes.get(from)?.serveUnpipe(req.producerId);
          return { ok: true, type: 'unpipeProducer' };
        case 'requestKeyFrame': {
          const pipe = this.pipes.get(from);
          if (!pipe) return fail('not_found', 'no pipe from you');
          await pipe.serveKeyFrame(req.producerId);
          return { ok: true, type: 'requestKeyFrame' };
        }
      }
    } catch (err) {
      if (err instanceof PipeError) return fail(err.code === 'crossing' ? 'bad_request' : err.code, err.message);
      this.o.log.warn({ err, from, req: req.type }, 'pipe request failed');
      return fail('internal', err instanceof Error ? err.message.slice(0, 300) : String(err));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.link.off('shardChanged', this.onShard);
    this.link.off('nodeDown', this.onNodeDown);
    this.meeting.off('changed', this.onChanged);
    if (this.meeting.remote === this) this.meeting.remote = null;
    for (const t of this.idleTimers.values()) clearTimeout(t);
    this.idleTimers.clear();
    for (const p of [...this.pipes.values()]) p.close();
    this.pipes.clear();
    this.link.publishShard(this.meeting.id, null);
  }
}

function fail(code: Extract<PipeResponse, { ok: false }>['error']['code'], message: string): PipeResponse {
  return { ok: false, error: { code, message: message.slice(0, 500) } };
}
