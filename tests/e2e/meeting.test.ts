/**
 * End to end in real headless Chromium against a real edge node: three participants meet, each receives the others'
 * audio and video (inbound-rtp packets and decoded frames grow), the active speaker is named to all, a pin moves a participant who is not the active
 * speaker to the top layer, one shares a screen through the product's Share Screen path and the others decode it,
 * the node's byte counters show the media it forwarded, one leaves and the others drop its tiles, and a token for
 * another meeting is refused.
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
    const names = await pages.get('alice')!.locator('#tiles .tile.person .name').allTextContents();
    assert.deepEqual(names.sort(), ['Name bob', 'Name carol']);
  });

  test('the active speaker reaches every client over signalling', async () => {
    // Only carol makes a sound: the node's ActiveSpeakerObserver must name her to everyone.
    for (const id of ['alice', 'bob']) await pages.get(id)!.click('#btn-mic');
    for (const viewer of ['alice', 'bob']) {
      await waitFor(`${viewer} to hear that carol is speaking`, () =>
        pages.get(viewer)!.evaluate(() => window.meshmeet.client()?.activeSpeakerId === 'carol'), 60_000);
    }
    await waitFor('alice\'s participant list to mark carol as speaking', async () =>
      (await pages.get('alice')!.locator('#participant-list li.speaking').allTextContents()).join().includes('Name carol'));
    for (const id of ['alice', 'bob']) await pages.get(id)!.click('#btn-mic');
  });

  test('pinning a participant who is not the active speaker moves them to the high layer, the other to a lower one', async () => {
    const alice = pages.get('alice')!;
    // Bob and carol go quiet, so neither can become the active speaker while we look: only the pin can move a layer.
    for (const id of ['bob', 'carol']) await pages.get(id)!.click('#btn-mic');
    const layersSeenByAlice = async () => {
      const list = await stats(alice);
      return { bob: find(list, 'bob', 'camera')?.spatialLayer ?? null, carol: find(list, 'carol', 'camera')?.spatialLayer ?? null };
    };
    // Before the pin: at most one of them (the last speaker) has the top layer; pin one who has not.
    const before = await waitFor('alice to receive both cameras at known layers', async () => {
      const l = await layersSeenByAlice();
      return l.bob !== null && l.carol !== null && (l.bob < 2 || l.carol < 2) ? l : null;
    }, 60_000);
    const [pinned, other] = before.bob! < 2 ? (['bob', 'carol'] as const) : (['carol', 'bob'] as const);
    await alice.click(`.tile[data-participant-id="${pinned}"]`);
    await waitFor(`${pinned} (pinned, was at layer ${before[pinned]}) at the top layer and ${other} below it, as alice sees them`, async () => {
      const l = await layersSeenByAlice();
      return l[pinned] === 2 && l[other] !== null && l[other]! < 2;
    }, 60_000);
    await alice.click(`.tile[data-participant-id="${pinned}"]`); // unpin
    for (const id of ['bob', 'carol']) await pages.get(id)!.click('#btn-mic');
  });

  test('a screen share through the Share Screen path reaches the others and is decoded', async () => {
    const alice = pages.get('alice')!;
    // The product's own path (getDisplayMedia, then produce as 'screen'): if it throws, the test fails.
    await alice.evaluate(() => window.meshmeet.shareScreen());
    await waitForFlowing('bob', 'alice', 'screen');
    await waitForFlowing('carol', 'alice', 'screen');
    assert.equal(await pages.get('bob')!.locator('#tiles .tile.screen video').count(), 1);
  });

  test('the node counts the media bytes it really forwarded', async () => {
    const text = await (await fetch(`${edge.url}/metrics`)).text();
    const bytes = (direction: string) => Number(new RegExp(`^edge_transport_bytes\\{direction="${direction}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    // Three participants have sent audio, video and a screen for seconds: far more than 100 kB each way.
    assert.ok(bytes('in') > 100_000, `bytes in: ${bytes('in')}`);
    assert.ok(bytes('out') > 100_000, `bytes out: ${bytes('out')}`);
    assert.match(text, /^edge_participants 3$/m);
    assert.match(text, /^edge_producers 7$/m, 'three mics, three cameras, one screen');
    // each client's transports came with its join answer: no createTransport round trips
    assert.match(text, /^edge_transports 6$/m, 'a send and a receive transport each');
    assert.doesNotMatch(text, /^edge_signalling_requests_total\{method="createTransport"/m);
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
