/**
 * TURN over TLS in real headless Chromium against a real coturn (Debian's) and a real edge node, all on loopback:
 * - a participant forced to relay (`iceTransportPolicy: 'relay'`) through a coturn whose only open listener is TLS
 *   exchanges audio and video both ways with a direct participant, and its page says it is relayed over TLS;
 * - where UDP is off (the node offers no UDP candidates and coturn has only TLS open), a participant still meets
 *   without doing anything, and its page names the non-UDP path.
 * The TURN credentials are the control plane's time-limited ones (HMAC of the shared secret), never a static password.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { iceServersFor } from '../../control/index.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { startCoturn, type TestTurn } from '../helpers/coturn.js';
import { startEdge, waitFor, type TestEdge } from '../helpers/edge.js';
import { waitForFlowing } from '../helpers/media-stats.js';

const MEETING = 'turn-meeting';
let edge: TestEdge;
let noUdpEdge: TestEdge;
let turn: TestTurn;
const browsers: TestBrowser[] = [];

async function join(browser: TestBrowser, participantId: string, ice: { relay?: boolean; turn?: boolean }, node = edge): Promise<Page> {
  const token = await node.token({ meetingId: MEETING, participantId, name: participantId });
  const servers = ice.turn ? iceServersFor({ urls: turn.urls, secret: turn.secret, ttlSeconds: 600 }, participantId) : [];
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => console.error(`[${participantId}] page error:`, err.message));
  const hash = new URLSearchParams({ token, ice: JSON.stringify(servers), ...(ice.relay ? { policy: 'relay' } : {}) });
  await page.goto(`${node.url}/?meeting=${MEETING}#${hash}`);
  await page.evaluate(() => window.meshmeet.joined);
  return page;
}

async function path(page: Page) {
  return waitFor('a selected ICE path', () => page.evaluate(() => window.meshmeet.client()?.mediaPath() ?? null), 30_000);
}

describe('TURN over TLS (coturn) in Chromium', { timeout: 300_000 }, () => {
  before(async () => {
    edge = await startEdge({ workers: 1 });
    turn = await startCoturn({ only: 'tls' });
    assert.deepEqual(turn.urls.map((u) => u.split(':')[0]), ['turns'], 'only TLS is open');
  });
  after(async () => {
    for (const b of browsers) await b.close();
    await turn?.stop();
    await edge?.stop();
    await noUdpEdge?.stop();
  });

  test('relay-only through TLS: media flows both ways', async () => {
    const b = await launchBrowser(['--ignore-certificate-errors']);
    browsers.push(b);
    const relayed = await join(b, 'relayed', { relay: true, turn: true });
    const direct = await join(b, 'direct', {});
    for (const source of ['mic', 'camera'] as const) {
      await waitForFlowing(relayed, 'direct', source);
      await waitForFlowing(direct, 'relayed', source);
    }
    const p = await path(relayed);
    assert.equal(p.kind, 'relay');
    assert.equal(p.relayProtocol, 'tls');
    assert.match(await relayed.locator('#media-path').textContent() ?? '', /relay \(TURN over TLS\)/);
    assert.equal((await path(direct)).kind, 'udp');
    assert.equal(await direct.locator('#media-path').textContent(), '', 'direct UDP shows no indicator');
  });

  test('a participant whose UDP is blocked still meets, with no action of theirs', async () => {
    noUdpEdge = await startEdge({ workers: 1, rtcUdp: false });
    const b = browsers[0]!;
    const one = await join(b, 'no-udp-1', { turn: true }, noUdpEdge);
    const two = await join(b, 'no-udp-2', { turn: true }, noUdpEdge);
    for (const source of ['mic', 'camera'] as const) {
      await waitForFlowing(one, 'no-udp-2', source);
      await waitForFlowing(two, 'no-udp-1', source);
    }
    const p = await path(one);
    assert.notEqual(p.kind, 'udp');
    assert.notEqual(await one.locator('#media-path').textContent(), '');
    console.log(`UDP blocked: media over ${p.kind}${p.relayProtocol ? `/${p.relayProtocol}` : ''}`);
  });
});
