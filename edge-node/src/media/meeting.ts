/**
 * A meeting on this node: one Router on one worker, an ActiveSpeakerObserver, the local participants and the
 * meeting's producer registry. Media operations live here because they need the router; every id a request names is
 * looked up on the participant, so it can only touch what it owns. Announcements to clients follow the registry's
 * events (a producer added, paused, resumed, removed), wherever the producer comes from.
 * `close()` cascades: participants (their transports, producers, consumers), the observer, the router.
 */
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { ParticipantInfo, ProducerInfo, Reaction, RequestData } from '../../protocol/signalling.js';
import type { HostCommand } from '../../protocol/commands.js';
import { chooseLayers } from '../decisions/layers.js';
import { combineSpeaker, type SpeakerReport } from '../decisions/mesh.js';
import { canLowerHand, canProduce, canSendMedia, canUsePlainTransport, reactionAllowed } from '../decisions/permissions.js';
import { SignallingError } from '../errors.js';
import { ROUTER_MEDIA_CODECS, SIMULCAST_SPATIAL_LAYERS, SIMULCAST_TEMPORAL_LAYERS } from '../media-codecs.js';
import { applyMediaCommand, commandTargets } from './host-commands.js';
import { LIMITS, Participant, type ConsumerMeta, type ProducerMeta, type TransportMeta } from './participant.js';
import { ProducerRegistry, type ProducerEntry } from './producer-registry.js';
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

/** What the meeting needs to carry producers that originate on other nodes (the mesh side provides it). */
export interface RemoteProducers {
  /** Pipes a remote entry's producer onto this router (once per producer); resolves with the pipe producer. */
  pipe(entry: ProducerEntry): Promise<types.Producer<ProducerMeta>>;
  /** Nobody on this node consumes the producer any more. */
  idle(producerId: string): void;
}

/** How a meeting spreads over this node's workers when one router holds `perRouter` participants. */
export interface SpreadOptions {
  perRouter: number;
  /** A live worker that the meeting does not use yet (counted there at once), or null. */
  reserve: (exclude: ReadonlySet<number>) => WorkerEntry | null;
  release: (entry: WorkerEntry) => void;
}

/** One router of the meeting on one worker (the first is the main one: observers, pipes to other nodes). */
interface RouterSlot {
  router: types.Router;
  entry: WorkerEntry;
  participants: number;
}

type MeetingEvents = {
  close: [];
  /** This node's part of the meeting changed (participants, their producers, the loudest local speaker). */
  changed: [];
};

export class Meeting extends EventEmitter<MeetingEvents> {
  private readonly local = new Map<string, Participant>();
  readonly producers = new ProducerRegistry();
  /** Participants on other nodes, from their shards. */
  private remoteParticipants = new Map<string, ParticipantInfo>();
  remote: RemoteProducers | null = null;
  activeSpeakerId: string | null = null;
  /** Raised hands, first raised first. */
  private readonly hands: string[] = [];
  /** This node's loudest participant (dominant speaker, with its last audio level), reported in the shard. */
  localSpeaker: SpeakerReport | null = null;
  private remoteSpeakers: SpeakerReport[] = [];
  private readonly levels = new Map<string, number>();
  private readonly slots: RouterSlot[];
  private readonly slotOf = new Map<string, RouterSlot>();
  private placing: Promise<unknown> = Promise.resolve();
  /** pipeToRouter calls so far (producers piped between this node's workers), for tests. */
  workerPipes = 0;
  private closed = false;

  private constructor(
    readonly id: string,
    readonly router: types.Router,
    private readonly entry: WorkerEntry,
    private readonly speakers: types.ActiveSpeakerObserver,
    private readonly volumes: types.AudioLevelObserver,
    private readonly transportOptions: TransportOptions,
    private readonly log: Logger,
    private readonly spread: SpreadOptions | null,
  ) {
    super();
    this.slots = [{ router, entry, participants: 0 }];
    router.observer.once('close', () => this.close());
    speakers.on('dominantspeaker', ({ producer }) => {
      const participantId = (producer.appData as unknown as ProducerMeta).participantId;
      this.localSpeaker = { participantId, level: this.levels.get(participantId) ?? DEFAULT_SPEAKER_LEVEL };
      this.emit('changed');
      this.updateSpeaker();
    });
    volumes.on('volumes', (list) => {
      for (const { producer, volume } of list) this.levels.set((producer.appData as unknown as ProducerMeta).participantId, volume);
      const s = this.localSpeaker;
      const level = s ? this.levels.get(s.participantId) : undefined;
      // Republished only on a marked change, so that the shard does not change with every syllable.
      if (s && level !== undefined && Math.abs(level - s.level) >= 10) {
        this.localSpeaker = { participantId: s.participantId, level };
        this.emit('changed');
      }
    });
    const localChange = (e: ProducerEntry) => e.origin.type === 'local' && this.emit('changed');
    this.producers.on('added', (e) => {
      this.broadcast(e.info.participantId, (o) => o.notify('newProducer', { ...e.info }));
      if (e.info.source === 'screen') this.refreshAllLayers();
      localChange(e);
    });
    this.producers.on('paused', (e) => {
      this.broadcast(e.info.participantId, (o) => o.notify('producerPaused', { producerId: e.info.id }));
      localChange(e);
    });
    this.producers.on('resumed', (e) => {
      this.broadcast(e.info.participantId, (o) => o.notify('producerResumed', { producerId: e.info.id }));
      localChange(e);
    });
    this.producers.on('removed', (e) => {
      this.broadcast(null, (o) => o.notify('producerClosed', { producerId: e.info.id }));
      if (e.info.source === 'screen') this.refreshAllLayers();
      localChange(e);
    });
  }

  static async create(id: string, entry: WorkerEntry, opts: TransportOptions, log: Logger, spread: SpreadOptions | null = null): Promise<Meeting> {
    const router = await entry.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { meetingId: id } });
    const speakers = await router.createActiveSpeakerObserver({ interval: 300 });
    const volumes = await router.createAudioLevelObserver({ interval: 1000, maxEntries: 4, threshold: -70 });
    return new Meeting(id, router, entry, speakers, volumes, opts, log.child({ meeting: id, worker: entry.index }), spread);
  }

  /** Workers this meeting uses (one router each). */
  get workers(): number[] {
    return this.slots.map((s) => s.entry.index);
  }

  /** The worker a local participant's transports are on. */
  workerOf(participantId: string): number | undefined {
    return this.slotOf.get(participantId)?.entry.index;
  }

  /**
   * The router for a new participant: the least loaded one under `perRouter`; when all are full, a router on a worker
   * the meeting does not use yet (mediasoup 3.12 producer ids are unique per worker: one router per worker); when
   * there is none, the least loaded.
   */
  private place(): Promise<RouterSlot> {
    // One placement at a time: two joins must not open two routers on one worker.
    const next = this.placing.then(() => this.placeNow());
    this.placing = next.catch(() => undefined);
    return next;
  }

  private async placeNow(): Promise<RouterSlot> {
    const least = () => this.slots.reduce((x, y) => (y.participants < x.participants ? y : x));
    const spread = this.spread;
    if (!spread || least().participants < spread.perRouter) return least();
    const entry = spread.reserve(new Set(this.slots.map((s) => s.entry.index)));
    if (!entry) return least();
    try {
      const router = await entry.worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS, appData: { meetingId: this.id } });
      if (this.closed) {
        router.close();
        throw new SignallingError('not_found', 'meeting closed');
      }
      const slot: RouterSlot = { router, entry, participants: 0 };
      this.slots.push(slot);
      router.observer.once('close', () => {
        const i = this.slots.indexOf(slot);
        if (i > 0) this.slots.splice(i, 1);
        spread.release(entry);
      });
      this.log.info({ worker: entry.index, routers: this.slots.length }, 'meeting spread to another worker');
      return slot;
    } catch (err) {
      if (!this.slots.some((s) => s.entry === entry)) spread.release(entry);
      throw err;
    }
  }

  /** The router a participant's media is on. */
  private slot(p: Participant): RouterSlot {
    return this.slotOf.get(p.id) ?? this.slots[0]!;
  }

  /** A producer on router `from` piped to router `to` (mediasoup's pipeToRouter, between two workers of this node). */
  private async pipeBetween(producer: types.Producer, fromRouterId: string, to: types.Router): Promise<types.Producer> {
    const from = this.slots.find((s) => s.router.id === fromRouterId);
    if (!from) throw new SignallingError('not_found', `producer '${producer.id}' is gone`);
    this.workerPipes++;
    const { pipeProducer } = await from.router.pipeToRouter({ producerId: producer.id, router: to, enableRtx: true });
    return pipeProducer!;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A participant joined on this node, by id. */
  participant(id: string): Participant | undefined {
    return this.local.get(id);
  }

  /** The participants joined on this node. */
  localParticipants(): Participant[] {
    return [...this.local.values()];
  }

  /** Everyone in the meeting, as a joiner sees them. */
  roster(): ParticipantInfo[] {
    const out = this.localParticipants().map((p) => p.info);
    for (const r of this.remoteParticipants.values()) if (!this.local.has(r.id)) out.push(r);
    return out;
  }

  /** Makes the participants on other nodes exactly `list` (from their shards), announcing who joined and who left. */
  setRemoteParticipants(list: readonly ParticipantInfo[]): void {
    const next = new Map(list.map((p) => [p.id, { id: p.id, name: p.name, role: p.role }]));
    for (const id of this.remoteParticipants.keys()) {
      if (next.has(id) || this.local.has(id)) continue;
      this.broadcast(null, (o) => o.notify('participantLeft', { participantId: id }));
    }
    for (const [id, info] of next) {
      if (this.remoteParticipants.has(id) || this.local.has(id)) continue;
      this.broadcast(null, (o) => o.notify('participantJoined', info));
    }
    this.remoteParticipants = next;
    this.updateSpeaker();
  }

  /** The other nodes' loudest speakers (from their shards). */
  setRemoteSpeakers(reports: readonly SpeakerReport[]): void {
    this.remoteSpeakers = [...reports];
    this.updateSpeaker();
  }

  /** The meeting-wide active speaker from every node's report, with hysteresis. */
  private updateSpeaker(): void {
    const present = (id: string) => this.local.has(id) || this.remoteParticipants.has(id);
    const reports = [...(this.localSpeaker ? [this.localSpeaker] : []), ...this.remoteSpeakers].filter((r) => present(r.participantId));
    const current = this.activeSpeakerId && present(this.activeSpeakerId) ? this.activeSpeakerId : null;
    this.setActiveSpeaker(combineSpeaker(current, reports));
  }

  /** Everything producing in this meeting, for a joiner's first view. */
  producerInfos(): ProducerInfo[] {
    return this.producers.infos();
  }

  async join(p: Participant, rtpCapabilities: types.RtpCapabilities): Promise<void> {
    if (this.closed) throw new SignallingError('not_found', 'meeting closed');
    if (p.joined) throw new SignallingError('already_joined', 'already joined');
    const slot = await this.place();
    if (this.closed || p.isClosed) throw new SignallingError('not_found', 'meeting closed');
    slot.participants++;
    this.slotOf.set(p.id, slot);
    p.rtpCapabilities = rtpCapabilities;
    p.joinedAt = Date.now();
    this.local.set(p.id, p);
    // A participant seen on another node until now (moved here) is announced only once.
    if (!this.remoteParticipants.has(p.id)) this.broadcast(p.id, (o) => o.notify('participantJoined', p.info));
    this.emit('changed');
    this.log.info({ participant: p.id, count: this.local.size }, 'participant joined');
  }

  leave(p: Participant): void {
    if (this.local.get(p.id) !== p) {
      p.close();
      return;
    }
    this.local.delete(p.id);
    if (this.hands.includes(p.id)) this.setHand(p.id, false);
    p.close(); // closes its producers: the registry announces producerClosed, consumers elsewhere close
    const slot = this.slotOf.get(p.id);
    this.slotOf.delete(p.id);
    if (slot) {
      slot.participants--;
      // An extra router nobody is on any more gives its worker back (its pipe producers close with it).
      if (slot.participants === 0 && slot !== this.slots[0]) slot.router.close();
    }
    if (this.localSpeaker?.participantId === p.id) this.localSpeaker = null;
    this.levels.delete(p.id);
    if (this.activeSpeakerId === p.id) this.setActiveSpeaker(null);
    if (!this.remoteParticipants.has(p.id)) this.broadcast(null, (o) => o.notify('participantLeft', { participantId: p.id }));
    this.emit('changed');
    this.refreshAllLayers();
    this.log.info({ participant: p.id, count: this.local.size }, 'participant left');
  }

  private setActiveSpeaker(participantId: string | null): void {
    if (participantId === this.activeSpeakerId) return;
    this.activeSpeakerId = participantId;
    this.broadcast(null, (p) => p.notify('activeSpeaker', { participantId }));
    this.refreshAllLayers();
  }

  async createTransport(p: Participant, direction: 'send' | 'recv', forceTcp: boolean): Promise<types.WebRtcTransport> {
    if (p.counts.transports >= LIMITS.transports) {
      throw new SignallingError('forbidden', `at most ${LIMITS.transports} transports per participant`);
    }
    if (direction === 'send' && !canSendMedia(p.role)) {
      throw new SignallingError('forbidden', 'attendees cannot send media');
    }
    const slot = this.slot(p);
    const t = await slot.router.createWebRtcTransport<TransportMeta>({
      webRtcServer: slot.entry.webRtcServer,
      enableUdp: !forceTcp && this.transportOptions.rtcUdp,
      enableTcp: true,
      preferUdp: !forceTcp && this.transportOptions.rtcUdp,
      initialAvailableOutgoingBitrate: this.transportOptions.initialAvailableOutgoingBitrate,
      appData: { participantId: p.id, direction },
    });
    if (direction === 'send') await t.setMaxIncomingBitrate(this.transportOptions.maxIncomingBitrate);
    p.addTransport(t);
    t.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.log.warn({ participant: p.id, transport: t.id, state }, 'dtls');
    });
    return t;
  }

  /** A plain RTP transport for the phone gateway (phone role only): comedia, RTP and RTCP muxed. */
  async createPlainTransport(p: Participant, direction: 'send' | 'recv'): Promise<types.PlainTransport<TransportMeta>> {
    if (!canUsePlainTransport(p.role)) throw new SignallingError('forbidden', 'plain RTP transports are for phone callers only');
    if (p.counts.transports >= LIMITS.transports) {
      throw new SignallingError('forbidden', `at most ${LIMITS.transports} transports per participant`);
    }
    const t = await this.slot(p).router.createPlainTransport<TransportMeta>({
      listenIp: { ip: this.transportOptions.rtcListenIp, announcedIp: this.transportOptions.rtcAnnouncedIp },
      rtcpMux: true,
      comedia: true,
      appData: { participantId: p.id, direction, plain: true },
    });
    p.addTransport(t);
    return t;
  }

  async produce(p: Participant, d: RequestData<'produce'>): Promise<types.Producer<ProducerMeta>> {
    if (!canProduce(p.role, d.source, p.screenAllowed)) throw new SignallingError('forbidden', `role '${p.role}' cannot send ${d.source}`);
    if (p.counts.producers >= LIMITS.producers) {
      throw new SignallingError('forbidden', `at most ${LIMITS.producers} producers per participant`);
    }
    if ((d.source === 'mic') !== (d.kind === 'audio')) {
      throw new SignallingError('bad_request', `source: '${d.source}' does not carry ${d.kind}`);
    }
    const t = p.transport(d.transportId);
    if (t.appData.direction !== 'send') throw new SignallingError('bad_request', 'produce needs a send transport');
    const producer = await mediaCall(() =>
      t.produce<ProducerMeta>({
        kind: d.kind,
        rtpParameters: d.rtpParameters as unknown as types.RtpParameters,
        // Keyframe requests from many viewers (here and on other nodes, through pipes) reach the sender at most once a second.
        keyFrameRequestDelay: d.kind === 'video' ? KEYFRAME_REQUEST_DELAY_MS : 0,
        appData: { participantId: p.id, source: d.source },
      }),
    );
    p.addProducer(producer);
    const routerId = this.slot(p).router.id;
    this.producers.addLocal(producer, routerId);
    if (d.kind === 'audio') {
      // The observers are on the main router: audio from another worker is piped there first.
      if (routerId !== this.router.id) {
        await this.producers.onRouter(producer.id, this.router.id, (prod) => this.pipeBetween(prod, routerId, this.router)).catch(() => undefined);
      }
      await this.speakers.addProducer({ producerId: producer.id }).catch(() => undefined);
      await this.volumes.addProducer({ producerId: producer.id }).catch(() => undefined);
    }
    return producer;
  }

  async setProducerPaused(p: Participant, id: string, paused: boolean): Promise<void> {
    const prod = p.producer(id);
    if (prod.paused === paused) return;
    await (paused ? prod.pause() : prod.resume()); // the registry announces it
  }

  async consume(p: Participant, transportId: string, producerId: string): Promise<types.Consumer<ConsumerMeta>> {
    const t = p.transport(transportId);
    if (t.appData.direction !== 'recv') throw new SignallingError('bad_request', 'consume needs a receive transport');
    if (p.counts.consumers >= LIMITS.consumers) throw new SignallingError('forbidden', 'too many consumers');
    const entry = this.producers.get(producerId);
    if (!entry) throw new SignallingError('not_found', `no producer '${producerId}' in this meeting`);
    if (entry.info.participantId === p.id) throw new SignallingError('bad_request', 'cannot consume your own producer');
    if (p.consumerOf(producerId)) throw new SignallingError('bad_request', `already consuming '${producerId}'`);
    await this.producerHere(entry);
    const target = this.slot(p).router;
    await this.producers.onRouter(producerId, target.id, (prod) => this.pipeBetween(prod, this.producers.get(producerId)!.routerId!, target))
      .catch((err: Error) => {
        throw new SignallingError('media_error', `cannot bring producer '${producerId}' to your worker: ${err.message}`.slice(0, 300));
      });
    if (!p.rtpCapabilities || !target.canConsume({ producerId, rtpCapabilities: p.rtpCapabilities })) {
      throw new SignallingError('media_error', 'your RTP capabilities cannot receive this producer');
    }
    const consumer = await mediaCall(() =>
      t.consume<ConsumerMeta>({
        producerId,
        rtpCapabilities: p.rtpCapabilities!,
        paused: true,
        appData: { participantId: entry.info.participantId, source: entry.info.source, override: null, applied: null },
      }),
    );
    p.addConsumer(consumer);
    consumer.on('producerclose', () => p.notify('consumerClosed', { consumerId: consumer.id, producerId }));
    consumer.on('layerschange', (layers) => {
      p.notify('consumerLayersChanged', { consumerId: consumer.id, spatialLayer: layers?.spatialLayer ?? null });
    });
    consumer.observer.once('close', () => this.consumerClosed(producerId));
    await this.refreshLayers(p);
    return consumer;
  }

  /**
   * Whether a producer is paused now: a consumer's own `producerPaused` can lag behind a pause that was already
   * announced to everyone, so a consume answer reads the producer.
   */
  isProducerPaused(id: string): boolean | undefined {
    return this.producers.get(id)?.info.paused;
  }

  /** The mediasoup producer of an entry on this router: local entries have one; remote ones are piped here first. */
  private async producerHere(entry: ProducerEntry): Promise<types.Producer<ProducerMeta>> {
    if (entry.producer && !entry.producer.closed) return entry.producer;
    if (entry.origin.type === 'node' && this.remote) {
      const pipe = await this.remote.pipe(entry).catch((err: Error) => {
        throw new SignallingError('media_error', `cannot bring producer '${entry.info.id}' from node ${entry.origin.type === 'node' ? entry.origin.nodeId : ''}: ${err.message}`.slice(0, 300));
      });
      this.producers.attachPipe(entry.info.id, pipe, this.router.id);
      if (this.producers.get(entry.info.id)?.producer !== pipe) throw new SignallingError('not_found', `producer '${entry.info.id}' closed`);
      return pipe;
    }
    throw new SignallingError('not_found', `producer '${entry.info.id}' is not available on this node`);
  }

  /** A consumer of `producerId` on this node closed: a pipe nobody uses any more may close. */
  private consumerClosed(producerId: string): void {
    const e = this.producers.get(producerId);
    if (e?.origin.type === 'node' && this.consumersOf(producerId) === 0) this.remote?.idle(producerId);
  }

  /** How many consumers on this node receive `producerId`. */
  consumersOf(producerId: string): number {
    let n = 0;
    for (const p of this.local.values()) if (p.consumerOf(producerId)) n++;
    return n;
  }

  async setOverride(p: Participant, consumerId: string, layers: ConsumerMeta['override']): Promise<void> {
    const c = p.consumer(consumerId);
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
    const consumers = p.consumers();
    const views = consumers.map((c) => ({
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
        const c = consumers.find((x) => x.id === id);
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
    for (const p of this.local.values()) void this.refreshLayers(p);
  }

  get raisedHands(): string[] {
    return [...this.hands];
  }

  /** Raises or lowers `targetId`'s hand (acting as `actor`) and tells everyone the new order. */
  setHand(targetId: string, raised: boolean, actor?: Participant): void {
    if (actor && !canLowerHand(actor.role, actor.id, targetId)) throw new SignallingError('forbidden', 'only hosts can lower someone else\'s hand');
    if (raised && !this.local.has(targetId)) throw new SignallingError('not_found', `no participant '${targetId}' here`);
    const at = this.hands.indexOf(targetId);
    if (raised === at >= 0) return;
    if (raised) this.hands.push(targetId);
    else this.hands.splice(at, 1);
    const loweredBy = !raised && actor && actor.id !== targetId ? actor.id : undefined;
    this.broadcast(null, (o) => o.notify('handsChanged', { raised: [...this.hands], ...(loweredBy ? { loweredBy } : {}) }));
  }

  /** Sends `p`'s reaction to everyone (a few a second at most). */
  react(p: Participant, emoji: Reaction): void {
    const now = Date.now();
    if (!reactionAllowed(p.recentReactions, now)) throw new SignallingError('forbidden', 'too many reactions: wait a moment');
    p.recentReactions.push(now);
    if (p.recentReactions.length > 20) p.recentReactions.splice(0, p.recentReactions.length - 20);
    this.broadcast(null, (o) => o.notify('reaction', { participantId: p.id, emoji }));
  }

  /** Calls `fn` for every participant joined on this node except `exceptId`. */
  broadcast(exceptId: string | null, fn: (p: Participant) => void): void {
    for (const p of this.local.values()) if (p.id !== exceptId) fn(p);
  }

  /** Carries out a host command's media part (mute, stop video or screen) on this node; returns the producers touched. */
  async applyMediaCommand(cmd: HostCommand): Promise<number> {
    const participants = this.localParticipants();
    return applyMediaCommand(cmd, commandTargets(cmd, participants.map((p) => p.id)), participants);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.local.values()) p.close();
    this.local.clear();
    this.producers.clear();
    this.remoteParticipants.clear();
    for (const s of this.slots.slice(1)) s.router.close();
    this.router.close();
    this.log.info('meeting closed on this node');
    this.emit('close');
  }
}

/** The level assumed for a dominant speaker whose audio level was not measured yet (dBov). */
const DEFAULT_SPEAKER_LEVEL = -50;

/** Keyframe requests for one video producer reach its sender at most this often (coalesced by mediasoup). */
export const KEYFRAME_REQUEST_DELAY_MS = 1000;

/** Runs a mediasoup call whose parameters came from the client: its TypeErrors are the client's fault. */
export async function mediaCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SignallingError) throw err;
    throw new SignallingError('media_error', err instanceof Error ? err.message.slice(0, 300) : String(err));
  }
}
