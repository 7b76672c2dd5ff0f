/**
 * The signalling protocol between a browser client and an edge node: WebSocket, JSON text frames.
 *
 * This module is the single definition of the protocol; the edge node validates every inbound frame with it and the
 * web client imports it for its own requests and to check what the node sends back.
 *
 * - client -> node: `{ id, method, data }` requests (ids are the client's, unique per connection).
 * - node -> client: `{ id, ok: true, data }` or `{ id, ok: false, error: { code, message } }` responses, and
 *   `{ event, data }` notifications.
 *
 * The join token travels in the WebSocket URL (`/ws/:meetingId?token=...`); the socket is closed with one of
 * `CloseCodes` when it is missing, invalid, expired or meant for another meeting.
 */
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;
/** Inbound frames larger than this are refused with an error response (the connection stays up). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export const CloseCodes = {
  normal: 1000,
  goingAway: 1001,
  /** Missing, malformed, expired or badly signed join token. */
  unauthorized: 4401,
  /** A valid token for a different meeting than the one in the URL. */
  forbidden: 4403,
  /** The participant joined again from another connection. */
  replaced: 4409,
  /** A host removed this participant (the control plane bars re-entry). */
  removed: 4410,
  /** A host ended the meeting for everyone. */
  meetingEnded: 4411,
  /** The node is shutting down; reconnect (the control plane will route to another node). */
  nodeShutdown: 4503,
  /** The node will not take this participant (draining, full): reconnect where the `redirect` event said. */
  redirected: 4307,
} as const;

const Id = z.string().min(1).max(128);
/** mediasoup validates the deep structure of RTP objects itself; here we check the shape that we read. */
const Obj = z.looseObject({});
/** What a device can receive: at least one codec, each with a kind, a MIME type and a clock rate. */
const RtpCodecCapability = z.looseObject({
  kind: z.enum(['audio', 'video']),
  mimeType: z.string().regex(/^(audio|video)\/[A-Za-z0-9.+-]{1,64}$/, 'not a MIME type like audio/opus'),
  clockRate: z.number().int().positive().max(1_000_000),
  preferredPayloadType: z.number().int().min(0).max(127).optional(),
  channels: z.number().int().min(1).max(16).optional(),
});
const RtpCapabilitiesShape = z.looseObject({ codecs: z.array(RtpCodecCapability).min(1).max(64), headerExtensions: z.array(Obj).max(64).optional() });
/** Checked against that shape (the field at fault is named); typed loosely, as mediasoup's own type is what callers hold. */
const RtpCapabilities = Obj.superRefine((value, ctx) => {
  const r = RtpCapabilitiesShape.safeParse(value);
  if (!r.success) for (const i of r.error.issues.slice(0, 5)) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
});
const RtpParameters = z.looseObject({ codecs: z.array(Obj).min(1).max(64), encodings: z.array(Obj).max(8).optional() });
const DtlsParameters = z.looseObject({
  role: z.enum(['auto', 'client', 'server']).optional(),
  fingerprints: z.array(z.object({ algorithm: z.string().max(32), value: z.string().max(256) })).min(1).max(8),
});
export const MediaKind = z.enum(['audio', 'video']);
/** What a producer carries, so that viewers can lay it out. */
export const ProducerSource = z.enum(['mic', 'camera', 'screen']);
export type ProducerSource = z.infer<typeof ProducerSource>;
/** `phone`: a caller bridged in by the SIP gateway (audio only; the one role that may open plain RTP transports). */
export const Role = z.enum(['host', 'cohost', 'panelist', 'participant', 'attendee', 'phone']);
export type Role = z.infer<typeof Role>;
const Layer = z.number().int().min(0).max(2);
/** The short reactions a participant can send (shown briefly to everyone). */
export const Reaction = z.enum(['👍', '👏', '😂', '❤️', '🎉', '😮']);
export type Reaction = z.infer<typeof Reaction>;

/** Every request method with its data schema. */
export const Requests = {
  join: z.object({
    protocolVersion: z.literal(PROTOCOL_VERSION),
    rtpCapabilities: RtpCapabilities,
    /**
     * WebRTC transports to open with the join (saves a `createTransport` round trip each): their parameters come in
     * the answer's `transports`. A `send` one is skipped for a role that cannot send.
     */
    transports: z.array(z.enum(['send', 'recv'])).max(2).refine((d) => new Set(d).size === d.length, 'each direction at most once').optional(),
  }),
  getRouterRtpCapabilities: z.object({}),
  createTransport: z.object({ direction: z.enum(['send', 'recv']), forceTcp: z.boolean().optional() }),
  /**
   * Phone role only (the SIP gateway, beside the node): a plain RTP transport (comedia: the node learns the gateway's
   * address from its first packet; RTP and RTCP on one port). `send` carries the caller's Opus, `recv` the meeting's.
   */
  createPlainTransport: z.object({ direction: z.enum(['send', 'recv']) }),
  connectTransport: z.object({ transportId: Id, dtlsParameters: DtlsParameters }),
  restartIce: z.object({ transportId: Id }),
  produce: z.object({
    transportId: Id,
    kind: MediaKind,
    rtpParameters: RtpParameters,
    source: ProducerSource,
  }),
  closeProducer: z.object({ producerId: Id }),
  pauseProducer: z.object({ producerId: Id }),
  resumeProducer: z.object({ producerId: Id }),
  consume: z.object({ transportId: Id, producerId: Id }),
  resumeConsumer: z.object({ consumerId: Id }),
  /** A manual override of the server's layer choice for one consumer; `null` returns it to automatic. */
  setPreferredLayers: z.object({
    consumerId: Id,
    layers: z.object({ spatialLayer: Layer, temporalLayer: Layer.optional() }).nullable(),
  }),
  /** What the viewer shows: the participant pinned to the large tile, if any, and which tiles are on screen. */
  setView: z.object({
    pinned: Id.nullable(),
    visible: z.array(Id).max(1000).nullable(),
  }),
  leave: z.object({}),
  /** Raise or lower one's own hand. */
  raiseHand: z.object({ raised: z.boolean() }),
  /** A host or co-host lowers someone's hand. */
  lowerHand: z.object({ participantId: Id }),
  /** Send a short reaction to everyone. */
  react: z.object({ emoji: Reaction }),
} as const;
export type Method = keyof typeof Requests;
export type RequestData<M extends Method> = z.infer<(typeof Requests)[M]>;

export const RequestEnvelope = z.object({
  id: z.union([z.string().min(1).max(64), z.number().int().nonnegative()]),
  method: z.string().max(64),
  data: z.unknown().optional(),
});
export type RequestEnvelope = z.infer<typeof RequestEnvelope>;

export const ErrorCodes = z.enum([
  'bad_request', // malformed JSON, wrong envelope, or data not matching the method's schema
  'too_large', // frame over MAX_MESSAGE_BYTES
  'unknown_method',
  'not_joined', // a media request before `join`
  'already_joined',
  'not_found', // an id this participant does not own, or that does not exist
  'forbidden', // the participant's role does not allow it
  'unsupported_version',
  'media_error', // mediasoup refused the parameters
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCodes>;

export const ParticipantInfo = z.object({ id: Id, name: z.string(), role: Role });
export type ParticipantInfo = z.infer<typeof ParticipantInfo>;
export const ProducerInfo = z.object({
  id: Id,
  participantId: Id,
  kind: MediaKind,
  source: ProducerSource,
  paused: z.boolean(),
});
export type ProducerInfo = z.infer<typeof ProducerInfo>;

const TransportInfo = z.object({
  id: Id,
  iceParameters: Obj,
  iceCandidates: z.array(Obj),
  dtlsParameters: Obj,
});
export type TransportInfo = z.infer<typeof TransportInfo>;

/** Response data, per method. */
export const Responses = {
  join: z.object({
    self: ParticipantInfo,
    meetingId: Id,
    participants: z.array(ParticipantInfo),
    producers: z.array(ProducerInfo),
    activeSpeakerId: Id.nullable(),
    /** Raised hands, first raised first. */
    raisedHands: z.array(Id).optional(),
    /** The transports the join asked for (those the node could open; ask for a missing one with `createTransport`). */
    transports: z.array(TransportInfo.extend({ direction: z.enum(['send', 'recv']) })).max(2).optional(),
  }),
  getRouterRtpCapabilities: z.object({ rtpCapabilities: Obj }),
  createTransport: TransportInfo,
  createPlainTransport: z.object({ id: Id, ip: z.string(), port: z.number().int().min(1).max(65535) }),
  connectTransport: z.object({}),
  restartIce: z.object({ iceParameters: Obj }),
  produce: z.object({ producerId: Id }),
  closeProducer: z.object({}),
  pauseProducer: z.object({}),
  resumeProducer: z.object({}),
  consume: z.object({
    consumerId: Id,
    producerId: Id,
    participantId: Id,
    kind: MediaKind,
    source: ProducerSource,
    rtpParameters: Obj,
    producerPaused: z.boolean(),
  }),
  resumeConsumer: z.object({}),
  setPreferredLayers: z.object({}),
  setView: z.object({}),
  leave: z.object({}),
  raiseHand: z.object({}),
  lowerHand: z.object({}),
  react: z.object({}),
} satisfies Record<Method, z.ZodType>;
export type ResponseData<M extends Method> = z.infer<(typeof Responses)[M]>;

export const ResponseEnvelope = z.discriminatedUnion('ok', [
  z.object({ id: z.union([z.string(), z.number()]), ok: z.literal(true), data: z.unknown() }),
  z.object({
    id: z.union([z.string(), z.number()]).nullable(),
    ok: z.literal(false),
    error: z.object({ code: ErrorCodes, message: z.string() }),
  }),
]);
export type ResponseEnvelope = z.infer<typeof ResponseEnvelope>;

/** Server events, each with its data schema. */
export const Events = {
  participantJoined: ParticipantInfo,
  participantLeft: z.object({ participantId: Id }),
  newProducer: ProducerInfo,
  producerPaused: z.object({ producerId: Id }),
  producerResumed: z.object({ producerId: Id }),
  producerClosed: z.object({ producerId: Id }),
  consumerClosed: z.object({ consumerId: Id, producerId: Id }),
  consumerLayersChanged: z.object({ consumerId: Id, spatialLayer: z.number().int().nullable() }),
  activeSpeaker: z.object({ participantId: Id.nullable() }),
  /** A host acted on this participant's media: the client updates its buttons. */
  hostAction: z.object({ action: z.enum(['mute', 'stopVideo', 'stopScreen']), producerId: Id }),
  /** The raised hands changed: all of them, first raised first (`by`: who lowered one, when a host did). */
  handsChanged: z.object({ raised: z.array(Id).max(1000), loweredBy: Id.optional() }),
  /** Someone sent a reaction. */
  reaction: z.object({ participantId: Id, emoji: Reaction }),
  /** The node is going away (SIGTERM): the client should reconnect through the control plane. */
  shutdown: z.object({ reason: z.string() }),
  /**
   * Move to another node (this one is draining or full): reconnect to `nodeUrl` (a ws(s) base URL) with the same
   * token, keeping local tracks; `null` means reconnect through the control plane (POST /meetings/:id/join).
   */
  redirect: z.object({ nodeUrl: z.string().max(512).nullable(), reason: z.enum(['draining', 'full']) }),
} as const;
export type EventName = keyof typeof Events;
export type EventData<E extends EventName> = z.infer<(typeof Events)[E]>;

export const EventEnvelope = z.object({ event: z.string(), data: z.unknown() });

/** Parses one event frame's data against its schema; throws on a malformed or unknown event. */
export function parseEvent(raw: unknown): { [E in EventName]: { event: E; data: EventData<E> } }[EventName] {
  const env = EventEnvelope.parse(raw);
  if (!(env.event in Events)) throw new Error(`unknown event '${env.event}'`);
  const schema = Events[env.event as EventName];
  return { event: env.event, data: schema.parse(env.data) } as never;
}

/** Describes a zod error in one line, naming the fields at fault. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
