/** What each role may do on the edge node: pure. The control plane's host controls come in a later issue. */
import type { ProducerSource, Role } from '../../protocol/signalling.js';

/**
 * Webinar attendees only watch; everyone else may send mic and camera, and a screen unless the meeting's policy
 * (carried in the join token) keeps screen sharing to hosts.
 */
export function canProduce(role: Role, source: ProducerSource, screenAllowed = true): boolean {
  if (!canSendMedia(role)) return false;
  if (role === 'phone') return source === 'mic';
  return source !== 'screen' || screenAllowed;
}

/** Whether a role may open a transport to send media on (webinar attendees only watch). */
export function canSendMedia(role: Role): boolean {
  return role !== 'attendee';
}

/** Anyone may lower their own hand; hosts and co-hosts may lower anyone's. */
export function canLowerHand(role: Role, actorId: string, targetId: string): boolean {
  return actorId === targetId || role === 'host' || role === 'cohost';
}

/** At most this many reactions per participant in `REACTION_WINDOW_MS` (more are refused, not broadcast). */
export const REACTION_BURST = 5;
export const REACTION_WINDOW_MS = 3000;

/** Whether one more reaction is allowed, given the times (ms) of the participant's recent ones. Pure. */
export function reactionAllowed(recent: readonly number[], now: number): boolean {
  return recent.filter((t) => now - t < REACTION_WINDOW_MS).length < REACTION_BURST;
}

/** Plain RTP transports (no ICE, no DTLS) are for the SIP gateway beside the node only, never for browsers. */
export function canUsePlainTransport(role: Role): boolean {
  return role === 'phone';
}
