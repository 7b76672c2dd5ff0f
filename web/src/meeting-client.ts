/**
 * A participant's side of a meeting: signalling plus mediasoup-client. It owns the device, one send and one receive
 * transport, the local producers and the consumers of everyone else, and reports changes to the UI as events.
 * No DOM here: the UI renders what this tells it.
 */
import { Device, types } from 'mediasoup-client';
import type { ParticipantInfo, ProducerInfo, ProducerSource, Reaction } from '../../edge-node/protocol/signalling.js';
import { PROTOCOL_VERSION } from '../../edge-node/protocol/signalling.js';
import { SignallingClient, type CloseInfo } from './signalling-client.js';

export interface RemoteTrack {
  consumerId: string;
  producerId: string;
  participantId: string;
  source: ProducerSource;
  kind: 'audio' | 'video';
  track: MediaStreamTrack;
  paused: boolean;
  /** Spatial layer the server currently forwards (video), as it last told us. */
  spatialLayer: number | null;
}

type ClientEvents = {
  participants: () => void;
  trackAdded: (t: RemoteTrack) => void;
  trackRemoved: (t: RemoteTrack) => void;
  trackPaused: (t: RemoteTrack) => void;
  activeSpeaker: (participantId: string | null) => void;
  localChanged: () => void;
  hostAction: (action: 'mute' | 'stopVideo' | 'stopScreen') => void;
  /** Raised hands changed (first raised first); `loweredBy` when a host lowered one. */
  hands: (raised: readonly string[], loweredBy: string | null) => void;
  reaction: (participantId: string, emoji: Reaction) => void;
  disconnected: (info: CloseInfo) => void;
};

/** Transport-level numbers from getStats, summed over both transports: what the connection-quality mark reads. */
export interface LinkStats {
  /** Round trip of the selected ICE candidate pair, ms (null until known). */
  rttMs: number | null;
  /** The browser's estimate of what it may send, bps (send transport; null before it sends). */
  availableOutgoingBitrate: number | null;
  /** Inbound RTP totals over every remote stream. */
  packetsReceived: number;
  packetsLost: number;
}

/** Camera simulcast: three spatial layers (the server picks one per viewer), three temporal layers each. */
const CAMERA_ENCODINGS: types.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_200_000, scalabilityMode: 'L1T3' },
];

export class MeetingClient {
  readonly device = new Device();
  readonly participants = new Map<string, ParticipantInfo>();
  readonly remote = new Map<string, RemoteTrack>();
  readonly local = new Map<ProducerSource, types.Producer>();
  self: ParticipantInfo | null = null;
  activeSpeakerId: string | null = null;
  /** Raised hands, first raised first (participant ids, ours included). */
  raisedHands: string[] = [];
  private sendTransport: types.Transport | null = null;
  private recvTransport: types.Transport | null = null;
  private readonly handlers = new Map<keyof ClientEvents, Set<(...args: never[]) => void>>();
  private readonly consumers = new Map<string, types.Consumer>();
  /** The latest producerPaused/Resumed event per producer, numbered, for consumers still being set up. */
  private readonly pauseEvents = new Map<string, { paused: boolean; seq: number }>();
  private eventSeq = 0;
  private left = false;

  constructor(readonly signalling: SignallingClient) {}

  on<K extends keyof ClientEvents>(event: K, fn: ClientEvents[K]): void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(fn);
  }

  private emit<K extends keyof ClientEvents>(event: K, ...args: Parameters<ClientEvents[K]>): void {
    for (const fn of this.handlers.get(event) ?? []) (fn as (...a: unknown[]) => void)(...args);
  }

  /** Loads the device, joins, opens both transports and consumes everything already being sent. */
  async join(): Promise<void> {
    const s = this.signalling;
    this.listen();
    const { rtpCapabilities } = await s.request('getRouterRtpCapabilities', {});
    await this.device.load({ routerRtpCapabilities: rtpCapabilities as unknown as types.RtpCapabilities });
    const joined = await s.request('join', {
      protocolVersion: PROTOCOL_VERSION,
      rtpCapabilities: this.device.rtpCapabilities as unknown as Record<string, unknown>,
    });
    this.self = joined.self;
    for (const p of joined.participants) this.participants.set(p.id, p);
    this.activeSpeakerId = joined.activeSpeakerId;
    this.raisedHands = joined.raisedHands ?? [];
    this.emit('participants');
    if (this.raisedHands.length) this.emit('hands', this.raisedHands, null);
    this.recvTransport = await this.createTransport('recv');
    if (joined.self.role !== 'attendee') this.sendTransport = await this.createTransport('send');
    await Promise.all(joined.producers.map((p) => this.consume(p)));
  }

  private listen(): void {
    const s = this.signalling;
    s.on('participantJoined', (p) => {
      this.participants.set(p.id, p);
      this.emit('participants');
    });
    s.on('participantLeft', ({ participantId }) => {
      this.participants.delete(participantId);
      for (const t of [...this.remote.values()]) if (t.participantId === participantId) this.dropConsumer(t.consumerId);
      if (this.activeSpeakerId === participantId) this.activeSpeakerId = null;
      this.emit('participants');
    });
    s.on('newProducer', (p) => void this.consume(p).catch((err) => console.warn('consume failed', err)));
    s.on('consumerClosed', ({ consumerId }) => this.dropConsumer(consumerId));
    s.on('producerPaused', ({ producerId }) => this.setRemotePaused(producerId, true));
    s.on('producerResumed', ({ producerId }) => this.setRemotePaused(producerId, false));
    s.on('producerClosed', ({ producerId }) => this.pauseEvents.delete(producerId));
    s.on('hostAction', ({ action, producerId }) => {
      for (const [source, producer] of this.local) {
        if (producer.id !== producerId) continue;
        if (action === 'mute') producer.pause();
        else {
          this.local.delete(source);
          producer.close();
          producer.track?.stop();
        }
      }
      this.emit('hostAction', action);
      this.emit('localChanged');
    });
    s.on('consumerLayersChanged', ({ consumerId, spatialLayer }) => {
      const t = this.remote.get(consumerId);
      if (t) t.spatialLayer = spatialLayer;
    });
    s.on('activeSpeaker', ({ participantId }) => {
      this.activeSpeakerId = participantId;
      this.emit('activeSpeaker', participantId);
    });
    s.on('handsChanged', ({ raised, loweredBy }) => {
      this.raisedHands = raised;
      this.emit('hands', raised, loweredBy ?? null);
    });
    s.on('reaction', ({ participantId, emoji }) => this.emit('reaction', participantId, emoji));
    s.onClose((info) => {
      if (!this.left) this.emit('disconnected', info);
      this.closeMedia();
    });
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const info = await this.signalling.request('createTransport', { direction });
    const options = {
      id: info.id,
      iceParameters: info.iceParameters as unknown as types.IceParameters,
      iceCandidates: info.iceCandidates as unknown as types.IceCandidate[],
      dtlsParameters: info.dtlsParameters as unknown as types.DtlsParameters,
    };
    const t = direction === 'send' ? this.device.createSendTransport(options) : this.device.createRecvTransport(options);
    t.on('connect', ({ dtlsParameters }, done, fail) => {
      this.signalling
        .request('connectTransport', { transportId: t.id, dtlsParameters: dtlsParameters as unknown as { fingerprints: { algorithm: string; value: string }[] } })
        .then(() => done(), fail);
    });
    if (direction === 'send') {
      t.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
        this.signalling
          .request('produce', {
            transportId: t.id,
            kind,
            rtpParameters: rtpParameters as unknown as { codecs: Record<string, unknown>[] },
            source: appData.source as ProducerSource,
          })
          .then(({ producerId }) => done({ id: producerId }), fail);
      });
    }
    t.on('connectionstatechange', (state) => {
      if (state === 'failed') void this.signalling.request('restartIce', { transportId: t.id }).then(({ iceParameters }) =>
        t.restartIce({ iceParameters: iceParameters as unknown as types.IceParameters })).catch(() => undefined);
    });
    return t;
  }

  private async consume(p: ProducerInfo): Promise<void> {
    if (!this.recvTransport || p.participantId === this.self?.id) return;
    const c = await this.signalling.request('consume', { transportId: this.recvTransport.id, producerId: p.id });
    const seqAtAnswer = this.eventSeq;
    const consumer = await this.recvTransport.consume({
      id: c.consumerId,
      producerId: c.producerId,
      kind: c.kind,
      rtpParameters: c.rtpParameters as unknown as types.RtpParameters,
      appData: { participantId: c.participantId, source: c.source },
    });
    const remote: RemoteTrack = {
      consumerId: c.consumerId,
      producerId: c.producerId,
      participantId: c.participantId,
      source: c.source,
      kind: c.kind,
      track: consumer.track,
      paused: c.producerPaused,
      spatialLayer: null,
    };
    // A pause or resume that arrived while the consumer was being set up is newer than the answer.
    const late = this.pauseEvents.get(c.producerId);
    if (late && late.seq > seqAtAnswer) remote.paused = late.paused;
    this.remote.set(c.consumerId, remote);
    this.consumers.set(c.consumerId, consumer);
    this.emit('trackAdded', remote);
    // Consumers start paused on the server until we are ready to render them.
    await this.signalling.request('resumeConsumer', { consumerId: c.consumerId });
  }

  private dropConsumer(consumerId: string): void {
    const t = this.remote.get(consumerId);
    this.consumers.get(consumerId)?.close();
    this.consumers.delete(consumerId);
    if (!t) return;
    this.remote.delete(consumerId);
    this.emit('trackRemoved', t);
  }

  private setRemotePaused(producerId: string, paused: boolean): void {
    this.pauseEvents.set(producerId, { paused, seq: ++this.eventSeq });
    for (const t of this.remote.values()) {
      if (t.producerId !== producerId) continue;
      t.paused = paused;
      this.emit('trackPaused', t);
    }
  }

  /** Starts sending a track from `source`. The track is captured by the caller (the UI), so tests can inject one. */
  async publish(source: ProducerSource, track: MediaStreamTrack): Promise<void> {
    if (!this.sendTransport) throw new Error('this participant cannot send media');
    await this.unpublish(source);
    // mediasoup-client starts a producer paused when its track is disabled, and the node would never know: send
    // enabled and let setPaused() pause both sides.
    track.enabled = true;
    const vp8 = this.device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/vp8');
    const producer = await this.sendTransport.produce({
      track,
      appData: { source },
      ...(source === 'camera' ? { encodings: CAMERA_ENCODINGS, codec: vp8, codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
      ...(source === 'screen' ? { codec: vp8, encodings: [{ maxBitrate: 2_500_000 }] } : {}),
      ...(source === 'mic' ? { codecOptions: { opusDtx: true, opusFec: true } } : {}),
    });
    this.local.set(source, producer);
    this.unpublishWhenEnded(source, track);
    this.emit('localChanged');
  }

  /** A track the browser ends (the user stopped sharing from the browser's bar, a camera unplugged) stops sending. */
  private unpublishWhenEnded(source: ProducerSource, track: MediaStreamTrack): void {
    track.addEventListener('ended', () => {
      if (this.local.get(source)?.track === track) void this.unpublish(source);
    });
  }

  /**
   * Sends `track` instead of what `source` sends now (another camera or microphone), without a new producer: the
   * others keep their consumer and see no gap. Paused stays paused. Nothing published for `source`: publishes it.
   */
  async replaceTrack(source: ProducerSource, track: MediaStreamTrack): Promise<void> {
    const producer = this.local.get(source);
    if (!producer || producer.closed) return this.publish(source, track);
    const old = producer.track;
    await producer.replaceTrack({ track });
    if (old && old !== track) old.stop();
    this.unpublishWhenEnded(source, track);
    this.emit('localChanged');
  }

  /** The track `source` sends now, if any (for the self view and device pickers). */
  localTrack(source: ProducerSource): MediaStreamTrack | null {
    return this.local.get(source)?.track ?? null;
  }

  async raiseHand(raised: boolean): Promise<void> {
    await this.signalling.request('raiseHand', { raised });
  }

  /** Hosts and co-hosts: lowers someone's hand. */
  async lowerHand(participantId: string): Promise<void> {
    await this.signalling.request('lowerHand', { participantId });
  }

  async react(emoji: Reaction): Promise<void> {
    await this.signalling.request('react', { emoji });
  }

  /**
   * Asks for the lowest layer of every remote camera (a poor link), or hands the choice back to the server.
   * Screen shares keep theirs: they are what people read.
   */
  async preferLowLayers(low: boolean): Promise<void> {
    await Promise.all([...this.remote.values()]
      .filter((t) => t.kind === 'video' && t.source === 'camera')
      .map((t) => this.signalling.request('setPreferredLayers', { consumerId: t.consumerId, layers: low ? { spatialLayer: 0 } : null }).catch(() => undefined)));
  }

  /** Round trip, available bitrate and inbound loss, from both transports' getStats. */
  async linkStats(): Promise<LinkStats> {
    const out: LinkStats = { rttMs: null, availableOutgoingBitrate: null, packetsReceived: 0, packetsLost: 0 };
    type Stat = { type: string; state?: string; nominated?: boolean; currentRoundTripTime?: number; availableOutgoingBitrate?: number; packetsReceived?: number; packetsLost?: number; kind?: string };
    for (const t of [this.sendTransport, this.recvTransport]) {
      if (!t || t.closed) continue;
      const report = await t.getStats().catch(() => null);
      report?.forEach((s: Stat) => {
        if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated !== false) {
          if (typeof s.currentRoundTripTime === 'number') out.rttMs = Math.max(out.rttMs ?? 0, s.currentRoundTripTime * 1000);
          if (t === this.sendTransport && typeof s.availableOutgoingBitrate === 'number') out.availableOutgoingBitrate = s.availableOutgoingBitrate;
        } else if (s.type === 'inbound-rtp') {
          out.packetsReceived += s.packetsReceived ?? 0;
          out.packetsLost += Math.max(0, s.packetsLost ?? 0);
        }
      });
    }
    return out;
  }

  async unpublish(source: ProducerSource): Promise<void> {
    const producer = this.local.get(source);
    if (!producer) return;
    this.local.delete(source);
    producer.close();
    producer.track?.stop();
    this.emit('localChanged');
    await this.signalling.request('closeProducer', { producerId: producer.id }).catch(() => undefined);
  }

  /** Mutes or unmutes (pauses the producer: nothing is sent, the others see it paused). */
  async setPaused(source: ProducerSource, paused: boolean): Promise<void> {
    const producer = this.local.get(source);
    if (!producer || producer.paused === paused) return;
    if (paused) producer.pause();
    else producer.resume();
    this.emit('localChanged');
    await this.signalling.request(paused ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
  }

  async setView(pinned: string | null, visible: string[] | null = null): Promise<void> {
    await this.signalling.request('setView', { pinned, visible });
  }

  /** inbound-rtp counters per remote track: what tests and the join-time bench read. */
  async inboundStats(): Promise<Array<RemoteTrack & { packetsReceived: number; framesDecoded: number; bytesReceived: number }>> {
    const out = [];
    for (const t of this.remote.values()) {
      const consumer = this.consumers.get(t.consumerId);
      if (!consumer) continue;
      let packetsReceived = 0, framesDecoded = 0, bytesReceived = 0;
      (await consumer.getStats()).forEach((s: { type: string; packetsReceived?: number; framesDecoded?: number; bytesReceived?: number }) => {
        if (s.type !== 'inbound-rtp') return;
        packetsReceived += s.packetsReceived ?? 0;
        framesDecoded += s.framesDecoded ?? 0;
        bytesReceived += s.bytesReceived ?? 0;
      });
      out.push({ ...t, packetsReceived, framesDecoded, bytesReceived });
    }
    return out;
  }

  async leave(): Promise<void> {
    this.left = true;
    await this.signalling.request('leave', {}).catch(() => undefined);
    this.signalling.close();
    this.closeMedia();
  }

  private closeMedia(): void {
    for (const p of this.local.values()) {
      p.close();
      p.track?.stop();
    }
    this.local.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = this.recvTransport = null;
    for (const id of [...this.remote.keys()]) this.dropConsumer(id);
  }
}
