/**
 * A meeting on this node: one Router on one worker (a meeting does not span workers yet: its size is bounded by what
 * one core can forward), an ActiveSpeakerObserver, and the participants. Media operations live here because they
 * need the router; every one checks that the participant owns the ids it names.
 * `close()` cascades: participants (their transports, producers, consumers), the observer, the router.
 */
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { ProducerInfo, ProducerSource, RequestData } from '../../protocol/signalling.js';
import type { HostCommand } from '../../protocol/commands.js';
import { chooseLayers } from '../decisions/layers.js';
import { canProduce, canUsePlainTransport } from '../decisions/permissions.js';
import { SignallingError } from '../errors.js';
import { ROUTER_MEDIA_CODECS, SIMULCAST_SPATIAL_LAYERS, SIMULCAST_TEMPORAL_LAYERS } from '../media-codecs.js';
import { LIMITS, Participant, type ConsumerMeta, type ProducerMeta } from './participant.js';
import type { WorkerEntry } from './worker-pool.js';

export interface TransportOptions {
  /** Where plain RTP transports (the phone gateway's) listen, and the address they announce. */
  rtcListenIp: string;
  rtcAnnouncedIp: string;
  initialAvailableOutgoingBitrate: number;
  /** False when the node offers no UDP candidates. */
  rtcUdp: boolean;
  maxIncomingBitrate: number;
}

type MeetingEvents = { close: [] };

export class Meeting extends EventEmitter<MeetingEvents> {
  readonly participants = new Map<string, Participant>();
  activeSpeakerId: string | null = null;
  private closed = false;

  private constructor(
    readonly id: string,
    readonly router: types.Router,
    private readonly entry: WorkerEntry,
    private readonly speakers: types.ActiveSpeakerObserver,
    private readonly transportOptions: TransportOptions,
    private readonly log: Logger,
  ) {
    super();
    router.observer.once('close', () => this.close());
    speakers.on('dominantspeaker', ({ producer }) => {
      const pid = (producer.appData as unknown as ProducerMeta).participantId;
      if (pid === this.activeSpeakerId) return;
      this.activeSpeakerId = pid;
      this.broadcast(null, (p) => p.notify('activeSpeaker', { participantId: pid }));
      this.refreshAllLayers();
    });
  }

  static async create(id: string, entry: WorkerEntry, opts: TransportOptions, log: Logger): Promise<Meeting> {
    const router = await entry.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { meetingId: id } });
    const speakers = await router.createActiveSpeakerObserver({ interval: 300 });
    return new Meeting(id, router, entry, speakers, opts, log.child({ meeting: id, worker: entry.index }));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Everything producing in this meeting, for a joiner's first view. */
  producerInfos(): ProducerInfo[] {
    const out: ProducerInfo[] = [];
    for (const p of this.participants.values()) {
      for (const prod of p.producers.values()) out.push(producerInfo(prod));
    }
    return out;
  }

  join(p: Participant, rtpCapabilities: types.RtpCapabilities): void {
    if (this.closed) throw new SignallingError('not_found', 'meeting closed');
    if (p.joined) throw new SignallingError('already_joined', 'already joined');
    p.rtpCapabilities = rtpCapabilities;
    this.participants.set(p.id, p);
    this.broadcast(p.id, (o) => o.notify('participantJoined', p.info));
    this.log.info({ participant: p.id, count: this.participants.size }, 'participant joined');
  }

  leave(p: Participant): void {
    if (this.participants.get(p.id) !== p) {
      p.close();
      return;
    }
    this.participants.delete(p.id);
    p.close(); // closes its producers: consumers elsewhere get 'producerclose' and tell their owners
    if (this.activeSpeakerId === p.id) {
      this.activeSpeakerId = null;
      this.broadcast(null, (o) => o.notify('activeSpeaker', { participantId: null }));
    }
    this.broadcast(null, (o) => o.notify('participantLeft', { participantId: p.id }));
    this.refreshAllLayers();
    this.log.info({ participant: p.id, count: this.participants.size }, 'participant left');
  }

  async createTransport(p: Participant, direction: 'send' | 'recv', forceTcp: boolean): Promise<types.WebRtcTransport> {
    if (p.transports.size >= LIMITS.transports) {
      throw new SignallingError('forbidden', `at most ${LIMITS.transports} transports per participant`);
    }
    if (direction === 'send' && p.role === 'attendee') {
      throw new SignallingError('forbidden', 'attendees cannot send media');
    }
    const t = await this.router.createWebRtcTransport({
      webRtcServer: this.entry.webRtcServer,
      enableUdp: !forceTcp && this.transportOptions.rtcUdp,
      enableTcp: true,
      preferUdp: !forceTcp && this.transportOptions.rtcUdp,
      initialAvailableOutgoingBitrate: this.transportOptions.initialAvailableOutgoingBitrate,
      appData: { participantId: p.id, direction },
    });
    if (direction === 'send') await t.setMaxIncomingBitrate(this.transportOptions.maxIncomingBitrate);
    p.transports.set(t.id, t);
    t.observer.once('close', () => p.transports.delete(t.id));
    t.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.log.warn({ participant: p.id, transport: t.id, state }, 'dtls');
    });
    return t;
  }

  /** A plain RTP transport for the phone gateway (phone role only): comedia, RTP and RTCP muxed. */
  async createPlainTransport(p: Participant, direction: 'send' | 'recv'): Promise<types.PlainTransport> {
    if (!canUsePlainTransport(p.role)) throw new SignallingError('forbidden', 'plain RTP transports are for phone callers only');
    if (p.transports.size >= LIMITS.transports) {
      throw new SignallingError('forbidden', `at most ${LIMITS.transports} transports per participant`);
    }
    const t = await this.router.createPlainTransport({
      listenIp: { ip: this.transportOptions.rtcListenIp, announcedIp: this.transportOptions.rtcAnnouncedIp },
      rtcpMux: true,
      comedia: true,
      appData: { participantId: p.id, direction, plain: true },
    });
    p.transports.set(t.id, t);
    t.observer.once('close', () => p.transports.delete(t.id));
    return t;
  }

  /** Any transport of the participant's (WebRTC or plain), for produce and consume. */
  transport(p: Participant, id: string): types.WebRtcTransport | types.PlainTransport {
    const t = p.transports.get(id);
    if (!t) throw new SignallingError('not_found', `no transport '${id}' of yours`);
    return t;
  }

  /** A WebRTC transport of the participant's, for ICE and DTLS requests. */
  webRtcTransport(p: Participant, id: string): types.WebRtcTransport {
    const t = this.transport(p, id);
    if ((t.appData as { plain?: boolean }).plain) throw new SignallingError('bad_request', `transport '${id}' is a plain RTP transport`);
    return t as types.WebRtcTransport;
  }

  async produce(p: Participant, d: RequestData<'produce'>): Promise<types.Producer<ProducerMeta>> {
    if (!canProduce(p.role, d.source, p.screenAllowed)) throw new SignallingError('forbidden', `role '${p.role}' cannot send ${d.source}`);
    if (p.producers.size >= LIMITS.producers) {
      throw new SignallingError('forbidden', `at most ${LIMITS.producers} producers per participant`);
    }
    if ((d.source === 'mic') !== (d.kind === 'audio')) {
      throw new SignallingError('bad_request', `source '${d.source}' does not carry ${d.kind}`);
    }
    const t = this.transport(p, d.transportId);
    if ((t.appData as { direction: string }).direction !== 'send') {
      throw new SignallingError('bad_request', 'produce needs a send transport');
    }
    const producer = await mediaCall(() =>
      t.produce<ProducerMeta>({
        kind: d.kind,
        rtpParameters: d.rtpParameters as unknown as types.RtpParameters,
        appData: { participantId: p.id, source: d.source },
      }),
    );
    p.producers.set(producer.id, producer);
    producer.observer.once('close', () => {
      p.producers.delete(producer.id);
      this.broadcast(null, (o) => o.notify('producerClosed', { producerId: producer.id }));
      if (producer.appData.source === 'screen') this.refreshAllLayers();
    });
    if (d.kind === 'audio') await this.speakers.addProducer({ producerId: producer.id }).catch(() => undefined);
    this.broadcast(p.id, (o) => o.notify('newProducer', producerInfo(producer)));
    if (d.source === 'screen') this.refreshAllLayers();
    return producer;
  }

  ownProducer(p: Participant, id: string): types.Producer<ProducerMeta> {
    const prod = p.producers.get(id);
    if (!prod) throw new SignallingError('not_found', `no producer '${id}' of yours`);
    return prod;
  }

  async setProducerPaused(p: Participant, id: string, paused: boolean): Promise<void> {
    const prod = this.ownProducer(p, id);
    if (prod.paused === paused) return;
    await (paused ? prod.pause() : prod.resume());
    const event = paused ? 'producerPaused' : 'producerResumed';
    this.broadcast(p.id, (o) => o.notify(event, { producerId: id }));
  }

  async consume(p: Participant, transportId: string, producerId: string): Promise<types.Consumer<ConsumerMeta>> {
    const t = this.transport(p, transportId);
    if ((t.appData as { direction: string }).direction !== 'recv') {
      throw new SignallingError('bad_request', 'consume needs a receive transport');
    }
    if (p.consumers.size >= LIMITS.consumers) throw new SignallingError('forbidden', 'too many consumers');
    const producer = this.findProducer(producerId);
    if (!producer) throw new SignallingError('not_found', `no producer '${producerId}' in this meeting`);
    if (producer.appData.participantId === p.id) throw new SignallingError('bad_request', 'cannot consume your own producer');
    for (const c of p.consumers.values()) {
      if (c.producerId === producerId) throw new SignallingError('bad_request', `already consuming '${producerId}'`);
    }
    if (!p.rtpCapabilities || !this.router.canConsume({ producerId, rtpCapabilities: p.rtpCapabilities })) {
      throw new SignallingError('media_error', 'your RTP capabilities cannot receive this producer');
    }
    const consumer = await mediaCall(() =>
      t.consume<ConsumerMeta>({
        producerId,
        rtpCapabilities: p.rtpCapabilities!,
        paused: true,
        appData: { participantId: producer.appData.participantId, source: producer.appData.source, override: null, applied: null },
      }),
    );
    p.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => p.consumers.delete(consumer.id));
    consumer.on('producerclose', () => {
      p.consumers.delete(consumer.id);
      p.notify('consumerClosed', { consumerId: consumer.id, producerId });
    });
    consumer.on('layerschange', (layers) => {
      p.notify('consumerLayersChanged', { consumerId: consumer.id, spatialLayer: layers?.spatialLayer ?? null });
    });
    await this.refreshLayers(p);
    return consumer;
  }

  ownConsumer(p: Participant, id: string): types.Consumer<ConsumerMeta> {
    const c = p.consumers.get(id);
    if (!c) throw new SignallingError('not_found', `no consumer '${id}' of yours`);
    return c;
  }

  async setOverride(p: Participant, consumerId: string, layers: ConsumerMeta['override']): Promise<void> {
    const c = this.ownConsumer(p, consumerId);
    if (c.kind !== 'video') throw new SignallingError('bad_request', 'layers apply to video consumers only');
    c.appData.override = layers;
    await this.refreshLayers(p);
  }

  async setView(p: Participant, view: RequestData<'setView'>): Promise<void> {
    p.view = { pinned: view.pinned, visible: view.visible ? new Set(view.visible) : null };
    await this.refreshLayers(p);
  }

  /** Applies the layer choice for one viewer to its consumers, skipping those already at the chosen layers. */
  async refreshLayers(p: Participant): Promise<void> {
    const views = [...p.consumers.values()].map((c) => ({
      consumerId: c.id,
      participantId: c.appData.participantId,
      kind: c.kind,
      source: c.appData.source,
      override: c.appData.override,
    }));
    const choice = chooseLayers({
      viewer: p.view,
      activeSpeakerId: this.activeSpeakerId,
      consumers: views,
      spatialLayers: SIMULCAST_SPATIAL_LAYERS,
      temporalLayers: SIMULCAST_TEMPORAL_LAYERS,
    });
    await Promise.all(
      [...choice].map(async ([id, layers]) => {
        const c = p.consumers.get(id);
        const key = `${layers.spatialLayer}/${layers.temporalLayer}`;
        if (!c || c.closed || c.appData.applied === key) return;
        c.appData.applied = key;
        // Not a simulcast consumer (e.g. a single-layer screen share): nothing to choose.
        if (c.type !== 'simulcast' && c.type !== 'svc') return;
        await c.setPreferredLayers(layers).catch((err) => this.log.warn({ err }, 'setPreferredLayers failed'));
      }),
    );
  }

  private refreshAllLayers(): void {
    for (const p of this.participants.values()) void this.refreshLayers(p);
  }

  private findProducer(id: string): types.Producer<ProducerMeta> | undefined {
    for (const p of this.participants.values()) {
      const prod = p.producers.get(id);
      if (prod) return prod;
    }
    return undefined;
  }

  /** Calls `fn` for every joined participant except `exceptId`. */
  broadcast(exceptId: string | null, fn: (p: Participant) => void): void {
    for (const p of this.participants.values()) if (p.id !== exceptId) fn(p);
  }

  /**
   * Carries out a host command's media part (mute, stop video or screen) and returns the participants touched.
   * Disconnecting (remove, end) is the node's part: it owns the sockets.
   */
  async applyMediaCommand(cmd: HostCommand): Promise<number> {
    const sources = { mute: 'mic', muteAll: 'mic', stopVideo: 'camera', stopScreen: 'screen' } as const;
    if (!(cmd.act in sources)) return 0;
    const source = sources[cmd.act as keyof typeof sources];
    const targets = cmd.act === 'muteAll'
      ? [...this.participants.values()].filter((p) => !cmd.except.includes(p.id))
      : [this.participants.get((cmd as { target: string }).target)].filter((p): p is Participant => !!p);
    let affected = 0;
    for (const p of targets) {
      for (const prod of [...p.producers.values()]) {
        if (prod.appData.source !== source) continue;
        affected++;
        if (source === 'mic') {
          await this.setProducerPaused(p, prod.id, true);
          p.notify('hostAction', { action: 'mute', producerId: prod.id });
        } else {
          p.notify('hostAction', { action: cmd.act === 'stopVideo' ? 'stopVideo' : 'stopScreen', producerId: prod.id });
          prod.close();
        }
      }
    }
    return affected;
  }

  get producerCount(): number {
    let n = 0;
    for (const p of this.participants.values()) n += p.producers.size;
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.participants.values()) p.close();
    this.participants.clear();
    this.router.close();
    this.log.info('meeting closed on this node');
    this.emit('close');
  }
}

function producerInfo(prod: types.Producer<ProducerMeta>): ProducerInfo {
  return {
    id: prod.id,
    participantId: prod.appData.participantId,
    kind: prod.kind,
    source: prod.appData.source,
    paused: prod.paused,
  };
}

/** Runs a mediasoup call whose parameters came from the client: its TypeErrors are the client's fault. */
async function mediaCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SignallingError) throw err;
    throw new SignallingError('media_error', err instanceof Error ? err.message.slice(0, 300) : String(err));
  }
}

export type { ProducerSource };
