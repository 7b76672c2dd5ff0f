/**
 * Join time: from the moment a participant's page has its join token to the first remote video frame it paints,
 * in real headless Chromium against a real edge node on this machine. One participant sends camera and mic; then
 * N others join one after another (default 10), each in a fresh page.
 *
 *   npm run bench:join -- [--joins 10] [--out bench/results/join-time.json]
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchBrowser } from './lib/browser.js';
import { ROOT, startEdge, waitFor } from '../tests/helpers/edge.js';
import { buildWeb } from '../web/build.js';

const { values } = parseArgs({
  options: {
    joins: { type: 'string', default: '10' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/join-time.json') },
  },
});
const joins = Number(values.joins);
if (!Number.isInteger(joins) || joins < 1 || joins > 100) throw new Error('--joins must be 1..100');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

await buildWeb();
const edge = await startEdge({ workers: 1 });
const browser = await launchBrowser();
const meetingId = 'bench-join';
try {
  const host = await browser.context.newPage();
  await host.goto(`${edge.url}/?meeting=${meetingId}#token=${await edge.token({ meetingId, participantId: 'host' })}`);
  await host.evaluate(() => window.meshmeet.joined);

  const samples: Array<{ tokenToFrameMs: number; pageOpenToFrameMs: number }> = [];
  for (let i = 0; i < joins; i++) {
    const token = await edge.token({ meetingId, participantId: `joiner-${i}` });
    const page = await browser.context.newPage();
    await page.goto(`${edge.url}/?meeting=${meetingId}&media=none#token=${token}`);
    const t = await waitFor(`joiner ${i}'s first remote frame`, () =>
      page.evaluate(() => {
        const { joinStart, firstRemoteFrame } = window.meshmeet.timing;
        return joinStart !== undefined && firstRemoteFrame !== undefined ? { joinStart, firstRemoteFrame } : null;
      }), 60_000, 50);
    samples.push({ tokenToFrameMs: t.firstRemoteFrame - t.joinStart, pageOpenToFrameMs: t.firstRemoteFrame });
    console.log(`join ${i + 1}/${joins}: token -> first remote frame ${(t.firstRemoteFrame - t.joinStart).toFixed(0)} ms (page open -> frame ${t.firstRemoteFrame.toFixed(0)} ms)`);
    await page.close();
  }
  const sorted = samples.map((s) => s.tokenToFrameMs).sort((a, b) => a - b);
  const sortedOpen = samples.map((s) => s.pageOpenToFrameMs).sort((a, b) => a - b);
  const report = {
    bench: 'join-time',
    date: new Date().toISOString(),
    machine: { cores: (await import('node:os')).availableParallelism(), node: process.version },
    joins,
    tokenToFirstFrameMs: { p50: percentile(sorted, 50), max: sorted.at(-1)!, min: sorted[0]! },
    pageOpenToFirstFrameMs: { p50: percentile(sortedOpen, 50), max: sortedOpen.at(-1)! },
    samples,
  };
  await fs.mkdir(path.dirname(values.out!), { recursive: true });
  await fs.writeFile(values.out!, JSON.stringify(report, null, 2));
  console.log(`\ntoken -> first remote video frame, ${joins} joins: p50 ${report.tokenToFirstFrameMs.p50.toFixed(0)} ms, max ${report.tokenToFirstFrameMs.max.toFixed(0)} ms`);
  console.log(`page open -> first remote video frame: p50 ${report.pageOpenToFirstFrameMs.p50.toFixed(0)} ms, max ${report.pageOpenToFirstFrameMs.max.toFixed(0)} ms`);
  console.log(`report: ${path.relative(process.cwd(), values.out!)}`);
} finally {
  await browser.close();
  await edge.stop();
}
