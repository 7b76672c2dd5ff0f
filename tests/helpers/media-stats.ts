/** What a Chromium participant receives, read through the page's `window.meshmeet` hooks. */
import type { Page } from 'playwright-core';
import { waitFor } from './edge.js';

export type InboundStat = {
  participantId: string; source: string; kind: string; packetsReceived: number; framesDecoded: number; audioLevel: number;
};

export async function inboundStats(page: Page): Promise<InboundStat[]> {
  return page.evaluate(async () => {
    const c = window.meshmeet.client();
    if (!c) return [];
    return (await c.inboundStats()).map(({ participantId, source, kind, packetsReceived, framesDecoded, audioLevel }) =>
      ({ participantId, source, kind, packetsReceived, framesDecoded, audioLevel }));
  });
}

/** Waits until `page` receives `source` from `from` and its counters grow between two samples. */
export async function waitForFlowing(page: Page, from: string, source: 'mic' | 'camera' | 'screen', timeoutMs = 60_000): Promise<InboundStat> {
  const metric = source === 'mic' ? 'packetsReceived' : 'framesDecoded';
  const find = async () => (await inboundStats(page)).find((s) => s.participantId === from && s.source === source);
  const first = await waitFor(`receiving ${from}'s ${source}`, async () => {
    const s = await find();
    return s && s[metric] > 0 ? s : null;
  }, timeoutMs);
  return waitFor(`${metric} of ${from}'s ${source} to grow`, async () => {
    const s = await find();
    return s && s[metric] > first[metric] && s.packetsReceived > first.packetsReceived ? s : null;
  }, timeoutMs / 2);
}
