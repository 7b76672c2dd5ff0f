/** What each role may do on the edge node: pure. The control plane's host controls come in a later issue. */
import type { ProducerSource, Role } from '../../protocol/signalling.js';

/** Webinar attendees only watch; everyone else may send mic, camera and screen. */
export function canProduce(role: Role, _source: ProducerSource): boolean {
  return role !== 'attendee';
}
