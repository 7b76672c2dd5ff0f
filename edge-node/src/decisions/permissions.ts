/** What each role may do on the edge node: pure. The control plane's host controls come in a later issue. */
import type { ProducerSource, Role } from '../../protocol/signalling.js';

/**
 * Webinar attendees only watch; everyone else may send mic and camera, and a screen unless the meeting's policy
 * (carried in the join token) keeps screen sharing to hosts.
 */
export function canProduce(role: Role, source: ProducerSource, screenAllowed = true): boolean {
  if (role === 'attendee') return false;
  return source !== 'screen' || screenAllowed;
}
