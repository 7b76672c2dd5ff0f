/**
 * One participant of a meeting on this node: its transports, producers and consumers. Every id a request names is
 * looked up here (`transport`, `producer`, `consumer` throw `not_found` for ids it does not own), so a participant can
 * only touch what it owns. Only the participant writes its maps: `add*` registers an object and forgets it when it
 * closes. `close()` closes its transports, and with them its producers and consumers.
 */
import type { types } from 'mediasoup';
import type { EventData, EventName, ParticipantInfo, ProducerSource, Role } from '../../protocol/signalling.js';
import type { ViewerState } from '../decisions/layers.js';
import { SignallingError } from '../errors.js';

export type ProducerMeta = {
  participantId: string;
  source: ProducerSource;
};
export type ConsumerMeta = {
  participantId: string;
  source: ProducerSource;
  override: { spatialLayer: number; temporalLayer?: number } | null;
  /** Last layers sent to mediasoup, to skip redundant updates. */
  applied: string | null;
};
export type TransportMeta = { participantId: string; direction: 'send' | 'recv'; plain?: boolean };
/** A participant's transport: WebRTC, or plain RTP for the phone gateway (`appData.plain`). */
export type AnyTransport = types.WebRtcTransport<TransportMeta> | types.PlainTransport<TransportMeta>;

export const LIMITS = { transports: 4, producers: 6, consumers: 600 } as const;

export type Notify = <E extends EventName>(event: E, data: EventData<E>) => void;

export class Participant {
  /** WebRTC transports, and plain RTP ones for the phone role (appData.plain). */
  private readonly transports = new Map<string, AnyTransport>();
  private readonly producerMap = new Map<string, types.Producer<ProducerMeta>>();
  private readonly consumerMap = new Map<string, types.Consumer<ConsumerMeta>>();
  view: ViewerState = { pinned: null, visible: null };
  rtpCapabilities: types.RtpCapabilities | null = null;
  /** When this participant's last reactions were sent (ms), for the rate limit. */
  readonly recentReactions: number[] = [];
  /** When this session joined (ms since epoch): across nodes the newest session of an id wins. */
  joinedAt = 0;
  private closed = false;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly role: Role,
    readonly notify: Notify,
    /** From the join token: the meeting's screen-share policy for this participant. */
    readonly screenAllowed = true,
  ) {}

  get info(): ParticipantInfo {
    return { id: this.id, name: this.name, role: this.role };
  }

  get joined(): boolean {
    return this.rtpCapabilities !== null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get counts(): { transports: number; producers: number; consumers: number } {
    return { transports: this.transports.size, producers: this.producerMap.size, consumers: this.consumerMap.size };
  }

  /** Any transport of this participant's (WebRTC or plain), for produce and consume. */
  transport(id: string): AnyTransport {
    const t = this.transports.get(id);
    if (!t) throw new SignallingError('not_found', `no transport '${id}' of yours`);
    return t;
  }

  /** A WebRTC transport of this participant's, for ICE and DTLS requests. */
  webRtcTransport(id: string): types.WebRtcTransport<TransportMeta> {
    const t = this.transport(id);
    if (t.appData.plain) throw new SignallingError('bad_request', `transport '${id}' is a plain RTP transport`);
    return t as types.WebRtcTransport<TransportMeta>;
  }

  producer(id: string): types.Producer<ProducerMeta> {
    const p = this.producerMap.get(id);
    if (!p) throw new SignallingError('not_found', `no producer '${id}' of yours`);
    return p;
  }

  consumer(id: string): types.Consumer<ConsumerMeta> {
    const c = this.consumerMap.get(id);
    if (!c) throw new SignallingError('not_found', `no consumer '${id}' of yours`);
    return c;
  }

  allTransports(): IterableIterator<AnyTransport> {
    return this.transports.values();
  }

  producers(): types.Producer<ProducerMeta>[] {
    return [...this.producerMap.values()];
  }

  consumers(): types.Consumer<ConsumerMeta>[] {
    return [...this.consumerMap.values()];
  }

  consumerOf(producerId: string): types.Consumer<ConsumerMeta> | undefined {
    for (const c of this.consumerMap.values()) if (c.producerId === producerId) return c;
    return undefined;
  }

  addTransport(t: AnyTransport): void {
    if (this.closed) return void t.close();
    this.transports.set(t.id, t);
    (t as types.Transport<TransportMeta>).observer.once('close', () => this.transports.delete(t.id));
  }

  addProducer(p: types.Producer<ProducerMeta>): void {
    if (this.closed) return void p.close();
    this.producerMap.set(p.id, p);
    p.observer.once('close', () => this.producerMap.delete(p.id));
  }

  addConsumer(c: types.Consumer<ConsumerMeta>): void {
    if (this.closed) return void c.close();
    this.consumerMap.set(c.id, c);
    c.observer.once('close', () => this.consumerMap.delete(c.id));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of [...this.transports.values()]) t.close();
    this.transports.clear();
    this.producerMap.clear();
    this.consumerMap.clear();
  }
}
