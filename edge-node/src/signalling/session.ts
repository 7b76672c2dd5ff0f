/**
 * One client's signalling connection: parses and validates each frame against the protocol, dispatches requests
 * to the meeting, and answers each with a response or a named error. Nothing a client sends can throw out of here.
 */
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import {
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  RequestEnvelope,
  Requests,
  describeIssues,
  type ErrorCode,
  type EventData,
  type EventName,
  type Method,
  type RequestData,
  type ResponseData,
  type TransportInfo,
} from '../../protocol/signalling.js';
import type { JoinTokenClaims } from '../../protocol/join-token.js';
import { SignallingError } from '../errors.js';
import type { Meeting } from '../media/meeting.js';
import { Participant } from '../media/participant.js';
import { canSendMedia } from '../decisions/permissions.js';

/** A WebRTC transport as the client needs it. */
function transportInfo(t: types.WebRtcTransport): TransportInfo {
  return {
    id: t.id,
    iceParameters: t.iceParameters as unknown as Record<string, unknown>,
    iceCandidates: t.iceCandidates as unknown as Record<string, unknown>[],
    dtlsParameters: t.dtlsParameters as unknown as Record<string, unknown>,
  };
}

type Handler<M extends Method> = (data: RequestData<M>) => Promise<ResponseData<M>> | ResponseData<M>;

/** Seconds a request waited behind the connection's earlier ones, and seconds it took to handle. */
export interface RequestTiming {
  queuedSeconds: number;
  handledSeconds: number;
}

export class Session {
  readonly participant: Participant;
  private closed = false;
  /** Requests run one at a time, in order, so a client's produce never overtakes its connect. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ws: WebSocket,
    readonly meeting: Meeting,
    claims: JoinTokenClaims,
    private readonly log: Logger,
    private readonly onRequest: (method: string, outcome: 'ok' | ErrorCode, timing?: RequestTiming) => void = () => {},
  ) {
    this.participant = new Participant(claims.sub, claims.name, claims.role, (event, data) => this.send(event, data), claims.screen ?? true);
  }

  /** Takes one inbound frame. */
  receive(raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const size = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw.byteLength;
    if (size > MAX_MESSAGE_BYTES) return this.fail(null, 'too_large', `message of ${size} bytes; the limit is ${MAX_MESSAGE_BYTES}`);
    if (isBinary) return this.fail(null, 'bad_request', 'binary frames are not part of the protocol');
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.concat(Array.isArray(raw) ? raw : [Buffer.from(raw)]).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return this.fail(null, 'bad_request', 'message is not valid JSON');
    }
    const env = RequestEnvelope.safeParse(json);
    if (!env.success) {
      const id = typeof (json as { id?: unknown })?.id === 'string' || typeof (json as { id?: unknown })?.id === 'number'
        ? ((json as { id: string | number }).id)
        : null;
      return this.fail(id, 'bad_request', `bad envelope: ${describeIssues(env.error)}`);
    }
    const { id, method, data } = env.data;
    if (!Object.hasOwn(Requests, method)) return this.fail(id, 'unknown_method', `unknown method '${method}'`);
    const schema = Requests[method as Method];
    const parsed = schema.safeParse(data ?? {});
    if (!parsed.success) {
      if (method === 'join' && (data as { protocolVersion?: unknown })?.protocolVersion !== PROTOCOL_VERSION) {
        return this.fail(id, 'unsupported_version', `this node speaks protocol version ${PROTOCOL_VERSION}`);
      }
      return this.fail(id, 'bad_request', `${method}: ${describeIssues(parsed.error)}`);
    }
    const receivedAt = performance.now();
    this.queue = this.queue.then(() => this.run(id, method as Method, parsed.data, receivedAt));
  }

  private async run(id: string | number, method: Method, data: unknown, receivedAt: number): Promise<void> {
    if (this.closed) return;
    const startedAt = performance.now();
    const timing = (): RequestTiming => ({ queuedSeconds: (startedAt - receivedAt) / 1000, handledSeconds: (performance.now() - startedAt) / 1000 });
    try {
      const handler = this.handlers[method] as Handler<Method>;
      const result = await handler(data as never);
      this.onRequest(method, 'ok', timing());
      this.sendRaw({ id, ok: true, data: result });
    } catch (err) {
      if (err instanceof SignallingError) {
        this.onRequest(method, err.code, timing());
        this.sendRaw({ id, ok: false, error: { code: err.code, message: err.message } });
      } else {
        this.log.error({ err, method }, 'request failed');
        this.onRequest(method, 'internal', timing());
        this.sendRaw({ id, ok: false, error: { code: 'internal', message: 'internal error' } });
      }
    }
  }

  private requireJoined(): Participant {
    if (!this.participant.joined) throw new SignallingError('not_joined', 'send join first');
    return this.participant;
  }

  private readonly handlers: { [M in Method]: Handler<M> } = {
    getRouterRtpCapabilities: () => ({ rtpCapabilities: this.meeting.router.rtpCapabilities as Record<string, unknown> }),
    join: async (d) => {
      const p = this.participant;
      await this.meeting.join(p, d.rtpCapabilities as unknown as types.RtpCapabilities);
      const transports = await this.joinTransports(d.transports ?? []);
      return {
        ...(d.transports ? { transports } : {}),
        self: p.info,
        meetingId: this.meeting.id,
        participants: this.meeting.roster().filter((o) => o.id !== p.id),
        producers: this.meeting.producerInfos().filter((i) => i.participantId !== p.id),
        activeSpeakerId: this.meeting.activeSpeakerId,
        raisedHands: this.meeting.raisedHands,
      };
    },
    createTransport: async (d) => transportInfo(await this.meeting.createTransport(this.requireJoined(), d.direction, d.forceTcp ?? false)),
    createPlainTransport: async (d) => {
      const t = await this.meeting.createPlainTransport(this.requireJoined(), d.direction);
      return { id: t.id, ip: t.tuple.localIp, port: t.tuple.localPort };
    },
    connectTransport: async (d) => {
      const t = this.requireJoined().webRtcTransport(d.transportId);
      await t.connect({ dtlsParameters: d.dtlsParameters as unknown as types.DtlsParameters }).catch((err: Error) => {
        throw new SignallingError('media_error', err.message);
      });
      return {};
    },
    restartIce: async (d) => {
      const t = this.requireJoined().webRtcTransport(d.transportId);
      return { iceParameters: await t.restartIce() };
    },
    produce: async (d) => {
      const producer = await this.meeting.produce(this.requireJoined(), d);
      return { producerId: producer.id };
    },
    closeProducer: (d) => {
      this.requireJoined().producer(d.producerId).close();
      return {};
    },
    pauseProducer: async (d) => {
      await this.meeting.setProducerPaused(this.requireJoined(), d.producerId, true);
      return {};
    },
    resumeProducer: async (d) => {
      await this.meeting.setProducerPaused(this.requireJoined(), d.producerId, false);
      return {};
    },
    consume: async (d) => {
      const c = await this.meeting.consume(this.requireJoined(), d.transportId, d.producerId);
      return {
        consumerId: c.id,
        producerId: c.producerId,
        participantId: c.appData.participantId,
        kind: c.kind,
        source: c.appData.source,
        rtpParameters: c.rtpParameters as unknown as Record<string, unknown>,
        producerPaused: this.meeting.isProducerPaused(c.producerId) ?? c.producerPaused,
      };
    },
    resumeConsumer: async (d) => {
      await this.requireJoined().consumer(d.consumerId).resume();
      return {};
    },
    setPreferredLayers: async (d) => {
      await this.meeting.setOverride(this.requireJoined(), d.consumerId, d.layers);
      return {};
    },
    setView: async (d) => {
      await this.meeting.setView(this.requireJoined(), d);
      return {};
    },
    raiseHand: (d) => {
      this.meeting.setHand(this.requireJoined().id, d.raised);
      return {};
    },
    lowerHand: (d) => {
      this.meeting.setHand(d.participantId, false, this.requireJoined());
      return {};
    },
    react: (d) => {
      this.meeting.react(this.requireJoined(), d.emoji);
      return {};
    },
    leave: () => {
      this.meeting.leave(this.participant);
      setImmediate(() => this.close(1000, 'left'));
      return {};
    },
  };

  /**
   * The transports a join asked for, opened side by side. One the node cannot open (a role that cannot send, a worker
   * error) is left out: the join stands, and the client asks for it with `createTransport` and gets the error there.
   */
  private async joinTransports(directions: readonly ('send' | 'recv')[]): Promise<(TransportInfo & { direction: 'send' | 'recv' })[]> {
    const p = this.participant;
    const opened = await Promise.all(directions.filter((d) => d === 'recv' || canSendMedia(p.role)).map(async (direction) => {
      try {
        return { direction, ...transportInfo(await this.meeting.createTransport(p, direction, false)) };
      } catch (err) {
        this.log.warn({ err, direction }, 'transport for the join not opened');
        return null;
      }
    }));
    return opened.filter((t) => t !== null);
  }

  send<E extends EventName>(event: E, data: EventData<E>): void {
    this.sendRaw({ event, data });
  }

  private fail(id: string | number | null, code: ErrorCode, message: string): void {
    this.onRequest('(invalid)', code);
    this.sendRaw({ id, ok: false, error: { code, message } });
  }

  private sendRaw(msg: unknown): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(JSON.stringify(msg));
  }

  /** Leaves the meeting (if joined) and closes the socket. Idempotent. */
  close(code = 1000, reason = ''): void {
    if (!this.closed) {
      this.closed = true;
      this.meeting.leave(this.participant);
    }
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }
}
