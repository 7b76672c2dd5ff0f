/**
 * The pipe between this node and one peer for one meeting: one PipeTransport pair (SRTP and RTX on both ends: it
 * crosses the internet), used in both directions.
 * - Inbound (this node subscribes): `pipeIn(producerId)` asks the peer (the producer's origin) to pipe it here, once
 *   per producer (a cached promise, as mediasoup's pipeToRouter does), and creates the pipe producer.
 * - Outbound (the peer subscribes): `serve*` answer the peer's requests: one pipe consumer per producer.
 * Opening: whichever side needs the pair first opens it (`openTransport`), and the other side answers with its end.
 * When both open at once, the open from the smaller node id wins; the other side's open is refused with `crossing`
 * and it adopts the pair it serves. `close()` closes the transport and with it every pipe producer and consumer on it.
 */
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import { MESH_PROTOCOL_VERSION, type PipeRequest, type PipeResponse } from '../../protocol/mesh.js';
import type { MeshLink } from '../mesh/link.js';
import type { ProducerMeta } from './participant.js';
import type { ProducerEntry } from './producer-registry.js';
import { KEYFRAME_REQUEST_DELAY_MS } from './meeting.js';

type Tuple = Extract<PipeRequest, { type: 'openTransport' }>['local'];
type PipeProducerAnswer = Extract<PipeResponse, { type: 'pipeProducer' }>;

/** How long after this side's own open won a late open from the (larger-id) peer is taken as the crossing's loser. */
const CROSSING_WINDOW_MS = 10_000;

export interface NodePipeOptions {
  meetingId: string;
  selfId: string;
  peerId: string;
  router: types.Router;
  listenIp: string;
  announcedIp: string;
  link: MeshLink;
  log: Logger;
}

export class PipeError extends Error {
  constructor(readonly code: 'bad_request' | 'not_found' | 'not_origin' | 'internal' | 'crossing', message: string) {
    super(message);
  }
}

type NodePipeEvents = { close: [] };

export class NodePipe extends EventEmitter<NodePipeEvents> {
  private transport: Promise<types.PipeTransport> | null = null;
  private opening = false;
  /** Resolves with the pair served to the peer while our own open was crossing theirs. */
  private adopted: Deferred<types.PipeTransport> | null = null;
  private readonly inbound = new Map<string, Promise<types.Producer<ProducerMeta>>>();
  private readonly outbound = new Map<string, types.Consumer>();
  private closed = false;
  /** When this side's own open of the current pair succeeded (performance.now()), or null if it adopted the peer's. */
  private ownOpenAt: number | null = null;
  /** The transport of the established pair: only its close closes the pipe (not that of an open that lost). */
  private pairTransport: types.PipeTransport | null = null;

  constructor(private readonly o: NodePipeOptions) {
    super();
  }

  get peerId(): string {
    return this.o.peerId;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Pipe consumers on this side (producers piped to the peer). */
  get outboundCount(): number {
    return this.outbound.size;
  }

  /** Pipe producers on this side (producers piped here from the peer), established or being set up. */
  get inboundCount(): number {
    return this.inbound.size;
  }

  /** The transport, once established (for stats). */
  async currentTransport(): Promise<types.PipeTransport | null> {
    return this.transport ? this.transport.catch(() => null) : null;
  }

  private async create(): Promise<types.PipeTransport> {
    const t = await this.o.router.createPipeTransport({
      listenIp: { ip: this.o.listenIp, announcedIp: this.o.announcedIp },
      enableSrtp: true,
      enableRtx: true,
      appData: { peer: this.o.peerId },
    });
    if (this.closed) {
      t.close();
      throw new PipeError('internal', 'pipe closed');
    }
    t.observer.once('close', () => {
      if (this.pairTransport === t) this.close();
    });
    return t;
  }

  private localTuple(t: types.PipeTransport): Tuple {
    return { ip: this.o.announcedIp, port: t.tuple.localPort, srtpParameters: t.srtpParameters! };
  }

  /** The established pair, opened from this side if there is none yet. */
  private ensureTransport(): Promise<types.PipeTransport> {
    if (this.transport) return this.transport;
    this.opening = true;
    this.adopted = deferred<types.PipeTransport>();
    const adopted = this.adopted;
    const p = (async () => {
      const t = await this.create();
      try {
        const res = await this.o.link.request(this.o.peerId, {
          type: 'openTransport', v: MESH_PROTOCOL_VERSION, meetingId: this.o.meetingId, local: this.localTuple(t),
        });
        if (!res.ok) {
          t.close();
          if (res.error.message === 'crossing') return await withTimeout(adopted.promise, CROSSING_WINDOW_MS, 'crossing open');
          throw new PipeError('internal', `peer refused the pipe: ${res.error.code}: ${res.error.message}`);
        }
        if (res.type !== 'openTransport') throw new PipeError('internal', 'unexpected answer to openTransport');
        await t.connect({ ip: res.remote.ip, port: res.remote.port, srtpParameters: res.remote.srtpParameters as types.SrtpParameters });
        this.ownOpenAt = performance.now();
        this.pairTransport = t;
        return t;
      } catch (err) {
        if (!t.closed) t.close();
        throw err;
      }
    })();
    this.transport = p;
    p.then(() => (this.opening = false), () => {
      this.opening = false;
      if (this.transport === p) this.transport = null; // a later request tries again
    });
    return p;
  }

  /** Answers the peer's openTransport: our end of the pair, connected to theirs. */
  async serveOpen(remote: Tuple): Promise<Tuple> {
    if (this.transport && this.opening) {
      // Both sides are opening: the smaller node id's open wins.
      if (this.o.peerId > this.o.selfId) throw new PipeError('bad_request', 'crossing');
    } else if (this.transport && this.o.peerId > this.o.selfId && this.ownOpenAt !== null && performance.now() - this.ownOpenAt < CROSSING_WINDOW_MS) {
      // Our open won a crossing the peer has already settled (it adopted our pair), and its own open, sent before it
      // saw ours, arrives only now: taking it as a re-open would close the pair the peer uses. Refused as a crossing,
      // the peer keeps the pair it adopted (a peer that really lost its end waits, and opens again after the window).
      throw new PipeError('bad_request', 'crossing');
    } else if (this.transport) {
      // The peer opens again: it lost its end (restart, or its pair closed). Start over.
      this.resetTransport();
    }
    const t = await this.create();
    await t.connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters as types.SrtpParameters });
    const adopted = this.adopted;
    this.ownOpenAt = null;
    this.pairTransport = t;
    this.transport = Promise.resolve(t);
    this.opening = false;
    adopted?.resolve(t);
    this.adopted = null;
    return this.localTuple(t);
  }

  private resetTransport(): void {
    const old = this.transport;
    this.transport = null;
    this.ownOpenAt = null;
    this.pairTransport = null;
    this.inbound.clear();
    this.outbound.clear();
    void old?.then((t) => t.close(), () => undefined);
  }

  /** Pipes a producer that originates on the peer to this node (once per producer); resolves with the pipe producer. */
  pipeIn(entry: ProducerEntry): Promise<types.Producer<ProducerMeta>> {
    const id = entry.info.id;
    let p = this.inbound.get(id);
    if (p) return p;
    p = (async () => {
      const t = await this.ensureTransport();
      const res = await this.o.link.request(this.o.peerId, { type: 'pipeProducer', v: MESH_PROTOCOL_VERSION, meetingId: this.o.meetingId, producerId: id });
      if (!res.ok) throw new PipeError(res.error.code === 'not_found' ? 'not_found' : 'internal', `pipe of ${id}: ${res.error.message}`);
      if (res.type !== 'pipeProducer') throw new PipeError('internal', 'unexpected answer to pipeProducer');
      const producer = await t.produce<ProducerMeta>({
        id,
        kind: res.kind,
        rtpParameters: res.rtpParameters as unknown as types.RtpParameters,
        paused: res.paused,
        keyFrameRequestDelay: res.kind === 'video' ? KEYFRAME_REQUEST_DELAY_MS : 0,
        appData: { participantId: res.participantId, source: res.source },
      });
      producer.observer.once('close', () => {
        if (this.inbound.get(id) === p) this.inbound.delete(id);
      });
      return producer;
    })();
    this.inbound.set(id, p);
    p.catch(() => {
      if (this.inbound.get(id) === p) this.inbound.delete(id);
    });
    return p;
  }

  /** Nobody here consumes this producer any more: close its pipe producer and tell the peer to close its consumer. */
  async unpipe(producerId: string): Promise<void> {
    const p = this.inbound.get(producerId);
    if (!p) return;
    this.inbound.delete(producerId);
    const producer = await p.catch(() => null);
    producer?.close();
    if (this.closed) return;
    await this.o.link.request(this.o.peerId, { type: 'unpipeProducer', v: MESH_PROTOCOL_VERSION, meetingId: this.o.meetingId, producerId })
      .catch((err) => this.o.log.debug({ err, producerId }, 'unpipe request failed'));
  }

  /** Asks the origin for a keyframe of a producer piped here (coalesced there by keyFrameRequestDelay). */
  requestKeyFrame(producerId: string): void {
    void this.o.link.request(this.o.peerId, { type: 'requestKeyFrame', v: MESH_PROTOCOL_VERSION, meetingId: this.o.meetingId, producerId })
      .catch(() => undefined);
  }

  /** Answers the peer's pipeProducer for a producer that originates here: one pipe consumer per producer. */
  async servePipe(entry: ProducerEntry | undefined, producerId: string): Promise<PipeProducerAnswer> {
    if (!entry) throw new PipeError('not_found', `no producer '${producerId}' in this meeting here`);
    if (entry.origin.type !== 'local' || !entry.producer) throw new PipeError('not_origin', `producer '${producerId}' does not originate here`);
    if (!this.transport || this.opening) throw new PipeError('bad_request', 'open the pipe transport first');
    const t = await this.transport;
    let c = this.outbound.get(producerId);
    if (!c || c.closed) {
      c = await t.consume({ producerId });
      const consumer = c;
      this.outbound.set(producerId, consumer);
      consumer.observer.once('close', () => {
        if (this.outbound.get(producerId) === consumer) this.outbound.delete(producerId);
      });
    }
    return {
      ok: true,
      type: 'pipeProducer',
      producerId,
      participantId: entry.info.participantId,
      kind: entry.info.kind,
      source: entry.info.source,
      paused: entry.producer.paused,
      rtpParameters: c.rtpParameters as unknown as PipeProducerAnswer['rtpParameters'],
    };
  }

  serveUnpipe(producerId: string): void {
    this.outbound.get(producerId)?.close();
    this.outbound.delete(producerId);
  }

  async serveKeyFrame(producerId: string): Promise<void> {
    const c = this.outbound.get(producerId);
    if (!c) throw new PipeError('not_found', `producer '${producerId}' is not piped to you`);
    if (c.kind === 'video') await c.requestKeyFrame();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.adopted?.reject(new PipeError('internal', 'pipe closed'));
    this.adopted?.promise.catch(() => undefined);
    this.resetTransport();
    this.emit('close');
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new PipeError('internal', `${what}: timed out`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
