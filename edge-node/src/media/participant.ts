/**
 * One participant of a meeting on this node: its transports, producers and consumers. Every id a request names is
 * looked up here, so a participant can only touch what it owns. `close()` closes its transports, and with them its
 * producers and consumers.
 */
import type { types } from 'mediasoup';
import type { EventData, EventName, ParticipantInfo, ProducerSource, Role } from '../../protocol/signalling.js';
import type { ViewerState } from '../decisions/layers.js';

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

export const LIMITS = { transports: 4, producers: 6, consumers: 600 } as const;

export type Notify = <E extends EventName>(event: E, data: EventData<E>) => void;

export class Participant {
  /** WebRTC transports, and plain RTP ones for the phone role (appData.plain). */
  readonly transports = new Map<string, types.WebRtcTransport | types.PlainTransport>();
  readonly producers = new Map<string, types.Producer<ProducerMeta>>();
  readonly consumers = new Map<string, types.Consumer<ConsumerMeta>>();
  view: ViewerState = { pinned: null, visible: null };
  rtpCapabilities: types.RtpCapabilities | null = null;
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
