/** Debian's Chromium driven by playwright-core, headless, with fake camera and microphone. Never a downloaded browser. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--auto-select-desktop-capture-source=Entire screen',
  '--autoplay-policy=no-user-gesture-required',
];

export interface TestBrowser {
  context: BrowserContext;
  close: () => Promise<void>;
}

/** One browser with a fresh --user-data-dir; each page in it is one participant. */
export async function launchBrowser(extraArgs: string[] = []): Promise<TestBrowser> {
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    permissions: ['camera', 'microphone'],
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      await fs.rm(userDataDir, { recursive: true, force: true });
    },
  };
}

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
