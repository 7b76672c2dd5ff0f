/**
 * Real media across workers of one node, in Chromium: with one participant per router, three participants are on
 * three workers and see and hear each other through pipeToRouter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, pageStats, type TestBrowser } from '../helpers/browser.js';
import { startEdge, waitFor, type TestEdge } from '../helpers/edge.js';

const MEETING = 'e2e-workers';
let edge: TestEdge;
let browser: TestBrowser;
const pages = new Map<string, Page>();

async function decoded(viewer: string, from: string, source: 'mic' | 'camera'): Promise<number> {
  const s = (await pageStats(pages.get(viewer)!)).find((x) => x.participantId === from && x.source === source);
  return s ? (source === 'mic' ? s.packetsReceived : s.framesDecoded) : 0;
}

describe('a meeting spread over three workers, in Chromium', { timeout: 300_000 }, () => {
  before(async () => {
    edge = await startEdge({ workers: 3, routerParticipants: 1 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await edge?.stop();
  });

  test('participants on different workers see and hear each other', async () => {
    for (const id of ['alice', 'bob', 'carol']) {
      const page = await browser.context.newPage();
      await page.goto(`${edge.url}/?meeting=${MEETING}#token=${await edge.token({ meetingId: MEETING, participantId: id })}`);
      await page.evaluate(() => window.meshmeet.joined);
      pages.set(id, page);
    }
    const meeting = edge.node.meetingOf(MEETING)!;
    assert.equal(new Set(['alice', 'bob', 'carol'].map((id) => meeting.workerOf(id))).size, 3, 'one worker each');
    for (const viewer of pages.keys()) {
      for (const from of pages.keys()) {
        if (from === viewer) continue;
        for (const source of ['mic', 'camera'] as const) {
          const first = await waitFor(`${viewer} receiving ${from}'s ${source}`, async () => (await decoded(viewer, from, source)) || null, 60_000);
          await waitFor(`${viewer}'s ${from} ${source} to grow`, async () => (await decoded(viewer, from, source)) > first, 30_000);
        }
      }
    }
    // Each producer piped once to each of the two other workers.
    assert.equal(meeting.workerPipes, 6 * 2);
  });
});
