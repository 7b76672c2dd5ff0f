/**
 * The round trip TURN over TLS adds on loopback: in one run, one Chromium participant relayed through a real coturn
 * with only TLS open (`iceTransportPolicy: 'relay'`) and one direct (UDP) participant meet on a real edge node; both
 * transports' selected ICE candidate pairs are sampled (getStats `currentRoundTripTime`) once a second.
 *
 *   npx tsx bench/turn-rtt.ts [--samples 20] [--out bench/results/turn-rtt.json]
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { iceServersFor } from '../control/index.js';
import { launchBrowser } from './lib/browser.js';
import { startCoturn } from '../tests/helpers/coturn.js';
import { ROOT, startEdge, waitFor } from '../tests/helpers/edge.js';
import { waitForFlowing } from '../tests/helpers/media-stats.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '20' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/turn-rtt.json') },
  },
});
const samples = Math.max(3, Math.min(600, Number(values.samples)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const edge = await startEdge({ workers: 1 });
const turn = await startCoturn({ only: 'tls' });
const browser = await launchBrowser(['--ignore-certificate-errors']);
try {
  const join = async (id: string, relay: boolean): Promise<Page> => {
    const token = await edge.token({ meetingId: 'rtt', participantId: id, name: id });
    const ice = relay ? iceServersFor({ urls: turn.urls, secret: turn.secret, ttlSeconds: 600 }, id) : [];
    const page = await browser.context.newPage();
    const hash = new URLSearchParams({ token, ice: JSON.stringify(ice), ...(relay ? { policy: 'relay' } : {}) });
    await page.goto(`${edge.url}/?meeting=rtt#${hash}`);
    await page.evaluate(() => window.meshmeet.joined);
    return page;
  };
  const relayed = await join('relayed', true);
  const direct = await join('direct', false);
  await waitForFlowing(relayed, 'direct', 'camera');
  await waitForFlowing(direct, 'relayed', 'camera');
  const rtt = (page: Page) => page.evaluate(async () => (await window.meshmeet.client()!.mediaPath())?.roundTripTime ?? null);
  const meanRtt = (page: Page) => page.evaluate(async () => (await window.meshmeet.client()!.mediaPath())?.meanRoundTripTime ?? null);
  const r: number[] = [];
  const d: number[] = [];
  for (let i = 0; i < samples; i++) {
    const [a, b] = await Promise.all([rtt(relayed), rtt(direct)]);
    if (a !== null) r.push(a * 1000);
    if (b !== null) d.push(b * 1000);
    await new Promise((res) => setTimeout(res, 1000));
  }
  await waitFor('RTT samples', () => r.length > 0 && d.length > 0, 1000);
  const [relayMean, directMean] = (await Promise.all([meanRtt(relayed), meanRtt(direct)])).map((x) => (x === null ? NaN : x * 1000));
  const report = {
    samples,
    relayTlsRttMsMean: Number(relayMean!.toFixed(3)),
    directUdpRttMsMean: Number(directMean!.toFixed(3)),
    addedRttMsMean: Number((relayMean! - directMean!).toFixed(3)),
    relayTlsRttMsMedian: median(r),
    directUdpRttMsMedian: median(d),
    addedRttMs: median(r) - median(d),
    relayTlsRttMs: r,
    directUdpRttMs: d,
    note: 'getStats of each transport\'s selected candidate pair (STUN consent checks), loopback: currentRoundTripTime sampled once a second (1 ms resolution), and totalRoundTripTime / responsesReceived over the whole call',
  };
  await fs.mkdir(path.dirname(values.out!), { recursive: true });
  await fs.writeFile(values.out!, JSON.stringify(report, null, 2));
  console.log(JSON.stringify({ ...report, relayTlsRttMs: undefined, directUdpRttMs: undefined }, null, 2));
} finally {
  await browser.close();
  await turn.stop();
  await edge.stop();
}
