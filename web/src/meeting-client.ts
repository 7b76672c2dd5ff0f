/**
 * A participant's side of a meeting: signalling plus mediasoup-client. It owns the device, one send and one receive
 * transport, the local producers and the consumers of everyone else, and reports changes to the UI as events.
 * No DOM here: the UI renders what this tells it.
 */
import { Device, types } from 'mediasoup-client';
import type { ParticipantInfo, ProducerInfo, ProducerSource, Reaction } from '../../edge-node/protocol/signalling.js';
import { CloseCodes, PROTOCOL_VERSION } from '../../edge-node/protocol/signalling.js';
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
  /** The node went away or asked us to move: reconnecting elsewhere, local tracks kept. */
  reconnecting: (reason: string) => void;
  /** Back in the meeting on `nodeUrl`, local tracks republished. */
  reconnected: (nodeUrl: string) => void;
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

/** Where to go next when the node is lost: a node URL and a join token for it (e.g. POST /meetings/:id/join again). */
export type Rejoin = (hint: { failedUrl: string; reason: string; attempt: number }) => Promise<{ nodeUrl: string; token: string }>;

export interface MeetingClientOptions {
  meetingId: string;
  /** ws(s) base URL of the node `signalling` is connected to, and the token it was given. */
  nodeUrl: string;
  token: string;
  /** Without it, a lost node ends the meeting for this client (the `disconnected` event). */
  rejoin?: Rejoin;
  /** Give up reconnecting after this long (ms); default 45 s. */
  giveUpAfterMs?: number;
  /** Opens a signalling connection (tests pass one over `ws`). */
  connect?: (nodeUrl: string, meetingId: string, token: string) => SignallingClient;
  /** TURN servers (from the join response) and, for tests, a forced relay policy. */
  ice?: IceOptions;
}

/** Close codes after which the client looks for another node; the others (removed, ended, replaced, bad token) are final. */
const MOVE_CODES: ReadonlySet<number> = new Set([CloseCodes.nodeShutdown, CloseCodes.redirected, 1001, 1006, 1011, 1012, 1013, 1014]);

/** Camera simulcast: three spatial layers (the server picks one per viewer), three temporal layers each. */
const CAMERA_ENCODINGS: types.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_200_000, scalabilityMode: 'L1T3' },
];

/** TURN servers and policy for both transports (from the join response; `relay` forces TURN, for tests). */
export interface IceOptions {
  iceServers?: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
}

/**
 * The media path in use, from the selected ICE candidate pair: `udp` (direct, the normal case), `tcp` (ICE over TCP
 * to the node), or `relay` through TURN (`relayProtocol` udp, tcp or tls). ICE tries every candidate at once and
 * prefers them in that order (host UDP, then host TCP, then relayed), so the fallback needs nobody's action.
 */
export interface MediaPath {
  kind: 'udp' | 'tcp' | 'relay';
  relayProtocol: string | null;
  /** Seconds, from the selected pair's STUN consent checks: the latest, and the mean over all of them. */
  roundTripTime: number | null;
  meanRoundTripTime: number | null;
}

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
  private moving = false;
  /** Producers announced and not closed: a retried consume gives up on one that closed meanwhile. */
  private readonly offered = new Set<string>();

  constructor(
    public signalling: SignallingClient,
    private readonly options: MeetingClientOptions | null = null,
  ) {}

  /** The node this client is connected to (ws(s) base URL), when known. */
  get nodeUrl(): string | null {
    return this.options?.nodeUrl ?? null;
  }

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
    // Every node of a cluster has the same router codecs: a device loaded on one node works on the next.
    if (!this.device.loaded) await this.device.load({ routerRtpCapabilities: rtpCapabilities as unknown as types.RtpCapabilities });
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
    await Promise.all(joined.producers.map((p) => this.consumeSoon(p)));
  }

  /**
   * Consumes a producer, trying again a few times when the node cannot get it yet (a producer on another node whose
   * pipe is being built, or whose node just died): a failure here never fails the join.
   */
  private async consumeSoon(p: ProducerInfo): Promise<void> {
    const s = this.signalling;
    this.offered.add(p.id);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.consume(p);
      } catch (err) {
        if (attempt >= 4 || s !== this.signalling || !this.offered.has(p.id) || (err as { code?: string }).code === 'closed') {
          console.warn('consume failed', p.id, (err as Error).message);
          return;
        }
        await new Promise((r) => setTimeout(r, 700 * attempt));
      }
    }
  }

  private listen(): void {
    const s = this.signalling;
    // Events of a connection this client has moved away from are ignored.
    const on: SignallingClient['on'] = (event, fn) => s.on(event, (d) => {
      if (s === this.signalling) fn(d);
    });
    on('participantJoined', (p) => {
      this.participants.set(p.id, p);
      this.emit('participants');
    });
    on('participantLeft', ({ participantId }) => {
      this.participants.delete(participantId);
      for (const t of [...this.remote.values()]) if (t.participantId === participantId) this.dropConsumer(t.consumerId);
      if (this.activeSpeakerId === participantId) this.activeSpeakerId = null;
      this.emit('participants');
    });
    on('newProducer', (p) => void this.consumeSoon(p));
    on('producerClosed', ({ producerId }) => {
      this.offered.delete(producerId);
      this.pauseEvents.delete(producerId);
    });
    on('consumerClosed', ({ consumerId }) => this.dropConsumer(consumerId));
    on('producerPaused', ({ producerId }) => this.setRemotePaused(producerId, true));
    on('producerResumed', ({ producerId }) => this.setRemotePaused(producerId, false));
    on('hostAction', ({ action, producerId }) => {
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
    on('consumerLayersChanged', ({ consumerId, spatialLayer }) => {
      const t = this.remote.get(consumerId);
      if (t) t.spatialLayer = spatialLayer;
    });
    on('activeSpeaker', ({ participantId }) => {
      this.activeSpeakerId = participantId;
      this.emit('activeSpeaker', participantId);
    });
    on('handsChanged', ({ raised, loweredBy }) => {
      this.raisedHands = raised;
      this.emit('hands', raised, loweredBy ?? null);
    });
    on('reaction', ({ participantId, emoji }) => this.emit('reaction', participantId, emoji));
    on('redirect', ({ nodeUrl, reason }) => {
      if (s === this.signalling) void this.move(reason, nodeUrl);
    });
    s.onClose((info) => {
      if (s !== this.signalling || this.moving) return; // an old connection, closed by our own move
      if (!this.left && this.options?.rejoin && MOVE_CODES.has(info.code)) return void this.move(`connection closed (${info.code})`, null);
      if (!this.left) this.emit('disconnected', info);
      this.closeMedia();
    });
  }

  /**
   * Moves to another node, keeping the local tracks: to `nodeUrl` (a redirect) with the same token, or where
   * `rejoin` says. Retries with a growing pause until `giveUpAfterMs`, then gives up with `disconnected`.
   */
  private async move(reason: string, nodeUrl: string | null): Promise<void> {
    const o = this.options;
    if (this.moving || this.left || !o) return;
    this.moving = true;
    this.emit('reconnecting', reason);
    const keep = [...this.local].map(([source, p]) => ({ source, track: p.track, paused: p.paused }));
    const old = this.signalling;
    // Told where to go (a drain): join there first, then let go of this node (make before break).
    if (nodeUrl && (await this.moveFirst(nodeUrl, keep))) {
      this.moving = false;
      this.emit('reconnected', nodeUrl);
      return;
    }
    this.closeMedia(false);
    old.close();
    const connect = o.connect ?? ((url, meetingId, token) => SignallingClient.connect(url, meetingId, token));
    const until = Date.now() + (o.giveUpAfterMs ?? 45_000);
    let next: { nodeUrl: string; token: string } | null = nodeUrl ? { nodeUrl, token: o.token } : null;
    let lastError = reason;
    for (let attempt = 1; Date.now() < until && !this.left; attempt++) {
      let s: SignallingClient | null = null;
      try {
        const target = next ?? (o.rejoin ? await o.rejoin({ failedUrl: o.nodeUrl, reason: lastError, attempt }) : null);
        if (!target) break;
        next = null;
        s = connect(target.nodeUrl, o.meetingId, target.token);
        const redirected = s;
        s.on('redirect', (r) => r.nodeUrl && redirected !== this.signalling && (next = { nodeUrl: r.nodeUrl, token: target.token }));
        this.signalling = s;
        o.nodeUrl = target.nodeUrl;
        o.token = target.token;
        this.participants.clear();
        this.emit('participants');
        await this.join();
        for (const k of keep) {
          if (!k.track || k.track.readyState !== 'live') continue;
          await this.publish(k.source, k.track);
          if (k.paused) await this.setPaused(k.source, true);
        }
        this.moving = false;
        this.emit('reconnected', target.nodeUrl);
        return;
      } catch (err) {
        lastError = (err as Error).message;
        this.closeMedia(false);
        s?.close();
        if (!next) await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 3000)));
      }
    }
    this.moving = false;
    for (const k of keep) k.track?.stop();
    if (!this.left) this.emit('disconnected', { code: CloseCodes.nodeShutdown, reason: `could not reconnect: ${lastError}`.slice(0, 200) });
  }

  /**
   * Joins `nodeUrl` and republishes while the current connection and its media keep running; then closes the old
   * ones. Returns false (having put everything back as it was) when the new node cannot be joined.
   */
  private async moveFirst(nodeUrl: string, keep: Array<{ source: ProducerSource; track: MediaStreamTrack | null; paused: boolean }>): Promise<boolean> {
    const o = this.options!;
    const old = {
      signalling: this.signalling, send: this.sendTransport, recv: this.recvTransport,
      consumers: new Map(this.consumers), remote: new Map(this.remote), local: new Map(this.local), participants: new Map(this.participants),
    };
    const connect = o.connect ?? ((url, meetingId, token) => SignallingClient.connect(url, meetingId, token));
    const s = connect(nodeUrl, o.meetingId, o.token);
    this.signalling = s;
    this.sendTransport = this.recvTransport = null;
    this.consumers.clear();
    this.remote.clear();
    this.local.clear();
    try {
      await this.join();
      for (const k of keep) {
        if (!k.track || k.track.readyState !== 'live') continue;
        await this.publish(k.source, k.track);
        if (k.paused) await this.setPaused(k.source, true);
      }
    } catch (err) {
      console.warn('could not join the new node before leaving this one', (err as Error).message);
      // Back to the old connection's state; the caller then moves the usual way.
      this.closeMedia(false);
      s.close();
      this.signalling = old.signalling;
      this.sendTransport = old.send;
      this.recvTransport = old.recv;
      for (const [k, v] of old.consumers) this.consumers.set(k, v);
      for (const [k, v] of old.remote) this.remote.set(k, v);
      for (const [k, v] of old.local) this.local.set(k, v);
      for (const [k, v] of old.participants) this.participants.set(k, v);
      return false;
    }
    o.nodeUrl = nodeUrl;
    for (const p of old.local.values()) p.close(); // the track lives on (stopTracks: false)
    for (const c of old.consumers.values()) c.close();
    old.send?.close();
    old.recv?.close();
    for (const t of old.remote.values()) this.emit('trackRemoved', t);
    old.signalling.close();
    return true;
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const info = await this.signalling.request('createTransport', { direction });
    const options = {
      id: info.id,
      iceParameters: info.iceParameters as unknown as types.IceParameters,
      iceCandidates: info.iceCandidates as unknown as types.IceCandidate[],
      dtlsParameters: info.dtlsParameters as unknown as types.DtlsParameters,
      iceServers: this.options?.ice?.iceServers ?? [],
      iceTransportPolicy: this.options?.ice?.iceTransportPolicy ?? 'all',
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
      // The track outlives its producer: a move to another node republishes it.
      stopTracks: false,
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
  async inboundStats(): Promise<Array<RemoteTrack & { packetsReceived: number; framesDecoded: number; bytesReceived: number; audioLevel: number }>> {
    const out = [];
    for (const t of this.remote.values()) {
      const consumer = this.consumers.get(t.consumerId);
      if (!consumer) continue;
      let packetsReceived = 0, framesDecoded = 0, bytesReceived = 0, audioLevel = 0;
      (await consumer.getStats()).forEach((s: { type: string; packetsReceived?: number; framesDecoded?: number; bytesReceived?: number; audioLevel?: number }) => {
        if (s.type !== 'inbound-rtp') return;
        packetsReceived += s.packetsReceived ?? 0;
        framesDecoded += s.framesDecoded ?? 0;
        bytesReceived += s.bytesReceived ?? 0;
        audioLevel = Math.max(audioLevel, s.audioLevel ?? 0);
      });
      out.push({ ...t, packetsReceived, framesDecoded, bytesReceived, audioLevel });
    }
    return out;
  }

  /** The path media takes on the first connected transport (receive first), or null before ICE has chosen. */
  async mediaPath(): Promise<MediaPath | null> {
    for (const t of [this.recvTransport, this.sendTransport]) {
      if (!t) continue;
      const report = await t.getStats();
      const byId = new Map<string, Record<string, unknown>>();
      report.forEach((s: Record<string, unknown>) => byId.set(s.id as string, s));
      let pair: Record<string, unknown> | undefined;
      for (const s of byId.values()) {
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId as string);
      }
      pair ??= [...byId.values()].find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
      const local = pair && byId.get(pair.localCandidateId as string);
      if (!pair || !local) continue;
      const relayed = local.candidateType === 'relay';
      return {
        kind: relayed ? 'relay' : local.protocol === 'tcp' ? 'tcp' : 'udp',
        relayProtocol: relayed ? ((local.relayProtocol as string | undefined) ?? null) : null,
        roundTripTime: (pair.currentRoundTripTime as number | undefined) ?? null,
        meanRoundTripTime: pair.responsesReceived ? (pair.totalRoundTripTime as number) / (pair.responsesReceived as number) : null,
      };
    }
    return null;
  }

  async leave(): Promise<void> {
    this.left = true;
    await this.signalling.request('leave', {}).catch(() => undefined);
    this.signalling.close();
    this.closeMedia();
  }

  private closeMedia(stopTracks = true): void {
    for (const p of this.local.values()) {
      p.close();
      if (stopTracks) p.track?.stop();
    }
    this.local.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = this.recvTransport = null;
    for (const id of [...this.remote.keys()]) this.dropConsumer(id);
  }
}
