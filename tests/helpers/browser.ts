/** The tests' browser: the launcher lives in bench/lib/browser.ts (shared with the bench); page hooks of our client here. */
import type { Page } from 'playwright-core';

export { CHROMIUM, CHROMIUM_FLAGS, launchBrowser, type TestBrowser } from '../../bench/lib/browser.js';

/** What a page's meeting client receives, per remote track (inbound-rtp counters; no track objects). */
export interface PageStat {
  consumerId: string;
  participantId: string;
  source: string;
  kind: string;
  paused: boolean;
  spatialLayer: number | null;
  packetsReceived: number;
  framesDecoded: number;
}

export async function pageStats(page: Page): Promise<PageStat[]> {
  return page.evaluate(async () => {
    const c = window.meshmeet.client();
    if (!c) return [];
    return (await c.inboundStats()).map(({ consumerId, participantId, source, kind, paused, spatialLayer, packetsReceived, framesDecoded }) =>
      ({ consumerId, participantId, source, kind, paused, spatialLayer, packetsReceived, framesDecoded }));
  });
}
