/**
 * Every producer of one meeting that this node knows of, one entry per producer id, saying where it comes from: a
 * participant on this node (`local`), or another node (`node`, known from its directory shard, and carried here by a
 * pipe once someone on this node consumes it). The registry is the meeting's producer list: what a joiner sees and
 * what `newProducer` / `producerPaused` / `producerResumed` / `producerClosed` announce (through its events).
 */
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { ProducerInfo } from '../../protocol/signalling.js';
import type { ProducerMeta } from './participant.js';

export type ProducerOrigin =
  | { type: 'local' }
  /** Originates on another node; `producer` is the pipe producer once piped here. */
  | { type: 'node'; nodeId: string };

export interface ProducerEntry {
  readonly info: Readonly<ProducerInfo>;
  readonly origin: ProducerOrigin;
  /** The mediasoup producer on this node: the participant's own, or a pipe producer from another node (null until piped). */
  readonly producer: types.Producer<ProducerMeta> | null;
  /** The router (worker) that `producer` is on; other routers of the meeting get a pipe producer of it (`onRouter`). */
  readonly routerId: string | null;
}

type RegistryEvents = {
  added: [entry: ProducerEntry];
  paused: [entry: ProducerEntry];
  resumed: [entry: ProducerEntry];
  removed: [entry: ProducerEntry];
};

interface MutableEntry {
  info: ProducerInfo;
  origin: ProducerOrigin;
  producer: types.Producer<ProducerMeta> | null;
  routerId: string | null;
  /** Pipe producers of `producer` on the meeting's other routers (other workers of this node), one per router. */
  copies: Map<string, Promise<types.Producer>>;
}

export class ProducerRegistry extends EventEmitter<RegistryEvents> {
  private readonly entries = new Map<string, MutableEntry>();

  get(id: string): ProducerEntry | undefined {
    return this.entries.get(id);
  }

  list(): ProducerEntry[] {
    return [...this.entries.values()];
  }

  infos(): ProducerInfo[] {
    return this.list().map((e) => ({ ...e.info }));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Registers a producer of a participant on this node; its close and pause/resume update the entry. */
  addLocal(producer: types.Producer<ProducerMeta>, routerId: string): void {
    const entry: MutableEntry = { info: infoOf(producer), origin: { type: 'local' }, producer, routerId, copies: new Map() };
    this.entries.set(producer.id, entry);
    producer.observer.on('pause', () => this.setPaused(producer.id, true));
    producer.observer.on('resume', () => this.setPaused(producer.id, false));
    producer.observer.once('close', () => this.remove(producer.id));
    this.emit('added', entry);
  }

  /**
   * Makes the entries that originate on other nodes exactly `remote` (from their shards): adds, pauses, resumes and
   * removes as needed. Idempotent: applying the same list twice changes nothing.
   */
  setRemote(remote: ReadonlyArray<ProducerInfo & { nodeId: string }>): void {
    const wanted = new Map(remote.map((r) => [r.id, r]));
    for (const [id, e] of [...this.entries]) {
      if (e.origin.type !== 'node') continue;
      const w = wanted.get(id);
      if (!w || w.nodeId !== e.origin.nodeId) this.remove(id);
    }
    for (const { nodeId, ...info } of remote) {
      const e = this.entries.get(info.id);
      if (!e) {
        const entry: MutableEntry = { info, origin: { type: 'node', nodeId }, producer: null, routerId: null, copies: new Map() };
        this.entries.set(info.id, entry);
        this.emit('added', entry);
      } else if (e.origin.type === 'node') {
        this.setPaused(info.id, info.paused);
      }
      // An id that is also local keeps its local origin: only the origin is ever piped from.
    }
  }

  /** Attaches the pipe producer that carries a remote entry on this node; it follows the entry's paused state. */
  attachPipe(id: string, pipe: types.Producer<ProducerMeta>, routerId: string): boolean {
    const e = this.entries.get(id);
    if (!e || e.origin.type !== 'node' || e.producer) return false;
    e.producer = pipe;
    e.routerId = routerId;
    pipe.observer.once('close', () => {
      if (e.producer !== pipe) return;
      e.producer = null;
      e.routerId = null;
    });
    if (pipe.paused !== e.info.paused) void (e.info.paused ? pipe.pause() : pipe.resume()).catch(() => undefined);
    return true;
  }

  /**
   * The entry's producer on router `routerId`: its own when it is there, else one pipe producer per (producer,
   * router), made once by `pipe` (mediasoup's pipeToRouter; it follows the original's pause, resume and close).
   */
  async onRouter(id: string, routerId: string, pipe: (producer: types.Producer<ProducerMeta>) => Promise<types.Producer>): Promise<types.Producer> {
    const e = this.entries.get(id);
    if (!e?.producer) throw new Error(`producer '${id}' is not on this node`);
    if (e.routerId === routerId) return e.producer;
    let copy = e.copies.get(routerId);
    if (!copy) {
      const made = pipe(e.producer);
      copy = made;
      e.copies.set(routerId, made);
      made.then((c) => c.observer.once('close', () => e.copies.get(routerId) === made && e.copies.delete(routerId)),
        () => e.copies.get(routerId) === made && e.copies.delete(routerId));
    }
    return copy;
  }

  /** Pipe producers between this node's workers, per producer (tests read it). */
  copyCount(id: string): number {
    return this.entries.get(id)?.copies.size ?? 0;
  }

  private setPaused(id: string, paused: boolean): void {
    const e = this.entries.get(id);
    if (!e || e.info.paused === paused) return;
    e.info.paused = paused;
    if (e.origin.type === 'node' && e.producer && e.producer.paused !== paused) {
      void (paused ? e.producer.pause() : e.producer.resume()).catch(() => undefined);
    }
    this.emit(paused ? 'paused' : 'resumed', e);
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    if (e.origin.type === 'node') e.producer?.close();
    this.emit('removed', e);
  }

  /** Forgets every entry without announcing (the meeting is closing; the producers close with their owners). */
  clear(): void {
    for (const e of this.entries.values()) if (e.origin.type === 'node') e.producer?.close();
    this.entries.clear();
  }
}

function infoOf(p: types.Producer<ProducerMeta>): ProducerInfo {
  return { id: p.id, participantId: p.appData.participantId, kind: p.kind, source: p.appData.source, paused: p.paused };
}
