/** G.711 (PCMU payload type 0, PCMA 8) to and from 16-bit PCM at 8 kHz, with alawmulaw's tables. */
import alawmulaw from 'alawmulaw';

const { alaw, mulaw } = alawmulaw;

export type G711 = 'PCMU' | 'PCMA';
export const G711_PAYLOAD_TYPES: Record<G711, number> = { PCMU: 0, PCMA: 8 };

export function decodeG711(codec: G711, payload: Uint8Array): Int16Array {
  return codec === 'PCMU' ? mulaw.decode(payload) : alaw.decode(payload);
}

export function encodeG711(codec: G711, pcm: Int16Array): Uint8Array {
  return codec === 'PCMU' ? mulaw.encode(pcm) : alaw.encode(pcm);
}
