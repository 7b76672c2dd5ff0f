/**
 * Debian's Chromium driven by playwright-core, headless, with fake camera and microphone. Never a downloaded browser.
 * Shared by the bench (browser participants, join-time) and the tests (tests/helpers/browser.ts re-exports it).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

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
  /** The profile folder: it is on the command line of every Chromium process of this browser. */
  userDataDir: string;
  close: () => Promise<void>;
}

/** One browser with a fresh --user-data-dir; each page in it is one participant. */
export async function launchBrowser(extraArgs: string[] = [], opts: { viewport?: { width: number; height: number } } = {}): Promise<TestBrowser> {
  const userDataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    permissions: ['camera', 'microphone'],
    ...(opts.viewport ? { viewport: opts.viewport } : {}),
  });
  return {
    context,
    userDataDir,
    close: async () => {
      await context.close().catch(() => undefined);
      await fs.rm(userDataDir, { recursive: true, force: true });
    },
  };
}
