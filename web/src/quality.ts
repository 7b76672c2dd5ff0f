/**
 * Connection quality from two getStats samples: pure. Loss is counted between the samples (inbound RTP), the round
 * trip and available bitrate are the latest. `adviseLowLayers` adds hysteresis: ask for low layers after two poor
 * samples in a row, go back after three good ones, so one bad second does not flip the video back and forth.
 */
import type { LinkStats } from './meeting-client.js';

export type Quality = 'good' | 'fair' | 'poor' | 'unknown';

export interface Assessment {
  quality: Quality;
  /** Lost / (lost + received) between the samples, 0..1 (null without new packets). */
  loss: number | null;
  rttMs: number | null;
  bitrate: number | null;
  /** What to tell the user, e.g. "Connection: poor (9% loss, 640 ms round trip)". */
  label: string;
}

export const LIMITS = {
  poor: { loss: 0.08, rttMs: 600, bitrate: 150_000 },
  fair: { loss: 0.02, rttMs: 250, bitrate: 400_000 },
} as const;

export function assessQuality(prev: LinkStats | null, cur: LinkStats): Assessment {
  const received = prev ? cur.packetsReceived - prev.packetsReceived : 0;
  const lost = prev ? cur.packetsLost - prev.packetsLost : 0;
  const loss = received + lost > 20 && lost >= 0 ? lost / (received + lost) : null;
  const { rttMs, availableOutgoingBitrate: bitrate } = cur;
  const over = (l: { loss: number; rttMs: number; bitrate: number }) =>
    (loss !== null && loss > l.loss) || (rttMs !== null && rttMs > l.rttMs) || (bitrate !== null && bitrate < l.bitrate);
  const known = loss !== null || rttMs !== null || bitrate !== null;
  const quality: Quality = !known ? 'unknown' : over(LIMITS.poor) ? 'poor' : over(LIMITS.fair) ? 'fair' : 'good';
  const parts = [
    loss !== null ? `${Math.round(loss * 100)}% loss` : null,
    rttMs !== null ? `${Math.round(rttMs)} ms round trip` : null,
    bitrate !== null ? `${Math.round(bitrate / 1000)} kbps up` : null,
  ].filter(Boolean);
  const label = `Connection: ${quality === 'unknown' ? 'measuring' : quality}${parts.length ? ` (${parts.join(', ')})` : ''}`;
  return { quality, loss, rttMs, bitrate, label };
}

/** Whether to ask for low layers now, given the decision so far and the latest qualities (newest last). */
export function adviseLowLayers(low: boolean, recent: readonly Quality[]): boolean {
  const last = (n: number, q: Quality) => recent.length >= n && recent.slice(-n).every((r) => r === q);
  if (!low) return last(2, 'poor');
  return !last(3, 'good');
}
