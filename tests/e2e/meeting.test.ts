/**
 * End to end in real headless Chromium against a real edge node: three participants meet, each receives the others'
 * audio and video (inbound-rtp packets and decoded frames grow), one shares a screen that the others decode, one
 * leaves and the others drop its tiles, and a token for another meeting is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, pageStats, type TestBrowser } from '../helpers/browser.js';
import { startEdge, waitFor, type TestEdge } from '../helpers/edge.js';

type Stat = {
  participantId: string; source: string; kind: string; packetsReceived: number; framesDecoded: number; spatialLayer: number | null;
};

const MEETING = 'e2e-meeting';
let edge: TestEdge;
let browser: TestBrowser;
const pages = new Map<string, Page>();

const stats = (page: Page): Promise<Stat[]> => pageStats(page);

function find(list: Stat[], participantId: string, source: string): Stat | undefined {
  return list.find((s) => s.participantId === participantId && s.source === source);
}

/** Waits until `viewer` receives `source` from `from` and its counters grow between two samples. */
async function waitForFlowing(viewer: string, from: string, source: 'mic' | 'camera' | 'screen'): Promise<void> {
  const page = pages.get(viewer)!;
  const metric = source === 'mic' ? 'packetsReceived' : 'framesDecoded';
  const first = await waitFor(`${viewer} receiving ${from}'s ${source}`, async () => {
    const s = find(await stats(page), from, source);
    return s && s[metric] > 0 ? s : null;
  }, 60_000);
  await waitFor(`${viewer}'s ${metric} of ${from}'s ${source} to grow`, async () => {
    const s = find(await stats(page), from, source);
    return s && s[metric] > first[metric] && s.packetsReceived > first.packetsReceived;
  }, 30_000);
}

async function joinPage(participantId: string, meetingId = MEETING, tokenMeeting = meetingId): Promise<Page> {
  const token = await edge.token({ meetingId: tokenMeeting, participantId, name: `Name ${participantId}` });
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[${participantId}] page error:`, err.message));
  await page.goto(`${edge.url}/?meeting=${meetingId}#token=${token}`);
  return page;
}

describe('a meeting in Chromium', { timeout: 300_000 }, () => {
  before(async () => {
    edge = await startEdge({ workers: 1 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await edge?.stop();
  });

  test('three participants each receive the other two\'s audio and video', async () => {
    for (const id of ['alice', 'bob', 'carol']) {
      const page = await joinPage(id);
      pages.set(id, page);
      await page.evaluate(() => window.meshmeet.joined);
    }
    for (const viewer of pages.keys()) {
      for (const from of pages.keys()) {
        if (from === viewer) continue;
        await waitForFlowing(viewer, from, 'mic');
        await waitForFlowing(viewer, from, 'camera');
      }
    }
    // The page shows a named tile per remote participant.
    const names = await pages.get('alice')!.locator('#grid .tile:not(.self) .name').allTextContents();
    assert.deepEqual(names.sort(), ['Name bob', 'Name carol']);
  });

  test('the server sends the pinned participant\'s high layer and a lower one for the thumbnail', async () => {
    const alice = pages.get('alice')!;
    await alice.click('.tile[data-participant-id="bob"]');
    await waitFor('bob at the top layer and carol below it, as alice sees them', async () => {
      const list = await stats(alice);
      const bob = find(list, 'bob', 'camera')?.spatialLayer;
      const carol = find(list, 'carol', 'camera')?.spatialLayer;
      return bob === 2 && carol !== null && carol !== undefined && carol < 2;
    }, 60_000);
    await alice.click('.tile[data-participant-id="bob"]'); // unpin
  });

  test('a screen share reaches the others and is decoded', async () => {
    const alice = pages.get('alice')!;
    const how = await alice.evaluate(async () => {
      try {
        await window.meshmeet.shareScreen();
        return 'getDisplayMedia';
      } catch {
        // Headless Chromium may refuse screen capture: share an animated canvas instead.
        const canvas = Object.assign(document.createElement('canvas'), { width: 1280, height: 720 });
        const g = canvas.getContext('2d')!;
        let n = 0;
        setInterval(() => {
          g.fillStyle = `hsl(${(n += 7) % 360} 70% 50%)`;
          g.fillRect(0, 0, 1280, 720);
          g.fillStyle = '#fff';
          g.font = '64px sans-serif';
          g.fillText(`slide ${n}`, 100, 360);
        }, 66);
        await window.meshmeet.publish('screen', canvas.captureStream(15).getVideoTracks()[0]!);
        return 'canvas';
      }
    });
    console.log(`screen share source: ${how}`);
    await waitForFlowing('bob', 'alice', 'screen');
    await waitForFlowing('carol', 'alice', 'screen');
    assert.equal(await pages.get('bob')!.locator('#stage video').count(), 1);
  });

  test('when one leaves, the others drop its tiles', async () => {
    await pages.get('carol')!.click('#btn-leave');
    for (const viewer of ['alice', 'bob']) {
      const page = pages.get(viewer)!;
      await waitFor(`${viewer} to drop carol`, async () => {
        const tiles = await page.locator('.tile[data-participant-id="carol"]').count();
        const tracks = (await stats(page)).filter((s) => s.participantId === 'carol').length;
        return tiles === 0 && tracks === 0;
      }, 15_000);
    }
    assert.equal(await pages.get('alice')!.locator('#participant-list li').count(), 2);
  });

  test('a token for another meeting is refused', async () => {
    const page = await joinPage('mallory', MEETING, 'some-other-meeting');
    await waitFor('the join error', async () => /another meeting/.test(await page.locator('#join-error').textContent() ?? ''));
    assert.equal(await page.locator('#meeting-view').isHidden(), true);
    // Nobody in the meeting saw mallory.
    const list = await pages.get('alice')!.locator('#participant-list li').allTextContents();
    assert.ok(!list.some((n) => n.includes('mallory')));
  });
});
