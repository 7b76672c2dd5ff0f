/**
 * `npm start` (scripts/dev.ts) end to end, after security defect 2: it serves no raw token endpoint any more; the
 * link it prints is a control-plane meeting that lets guests in by name. Two guests open that link in headless
 * Chromium, type a name, and receive each other's audio and video. Both the join page and the portal run under the
 * Content-Security-Policy without a single violation (defect 7).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { ROOT, freePortBase, waitFor } from '../helpers/edge.js';

let child: ChildProcess;
let output = '';
let dataDir: string;
let browser: TestBrowser;
let link: string;
let controlUrl: string;
let edgeUrl: string;
const violations: string[] = [];

function watch(page: Page, who: string): Page {
  page.on('console', (msg) => {
    if (/content security policy|refused to (load|execute|apply|connect|frame)/i.test(msg.text())) violations.push(`${who}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => console.error(`[${who}] page error:`, err.message));
  return page;
}

async function receiving(page: Page, fromName: string): Promise<boolean> {
  return page.evaluate(async (name) => {
    const c = window.meshmeet.client();
    if (!c) return false;
    const stats = await c.inboundStats();
    const names = [...document.querySelectorAll('#tiles .tile.person .name')].map((n) => n.textContent);
    return names.includes(name) && stats.some((s) => s.kind === 'video' && s.framesDecoded > 0) && stats.some((s) => s.kind === 'audio' && s.packetsReceived > 0);
  }, fromName);
}

describe('npm start: the printed link, two guests meet (security defect 2)', { timeout: 300_000 }, () => {
  before(async () => {
    // npm start runs the control plane (base), three edge nodes (HTTP base+1..3, media base+10/20/30) and their
    // gossip (base+35..37).
    const base = await freePortBase(40);
    controlUrl = `http://127.0.0.1:${base}`;
    edgeUrl = `http://127.0.0.1:${base + 1}`;
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-dev-'));
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        CONTROL_HTTP_PORT: String(base), CONTROL_PUBLIC_URL: controlUrl, CONTROL_DATA_DIR: dataDir, CONTROL_LOG_LEVEL: 'warn',
        EDGE_HTTP_PORT: String(base + 1), EDGE_RTC_BASE_PORT: String(base + 10), EDGE_P2P_PORT: String(base + 35), EDGE_WORKERS: '1',
        EDGE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    link = await waitFor('npm start to print its link', () => {
      if (child.exitCode !== null) throw new Error(`dev server exited ${child.exitCode}: ${output}`);
      return /^\s+(http:\/\/\S+\/join\/\?meeting=[a-z0-9]+)\s*$/m.exec(output)?.[1];
    }, 180_000, 250);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  test('no raw token minting is served', async () => {
    for (const url of [`${edgeUrl}/dev/token?meeting=anything&name=x`, `${controlUrl}/dev/token?meeting=anything&name=x`]) {
      const r = await fetch(url);
      const text = await r.text();
      assert.doesNotMatch(text, /"token"\s*:/, url);
    }
    assert.ok(link.startsWith(`${controlUrl}/join/?meeting=`), link);
  });

  test('two guests open the printed link, type a name, and see and hear each other', async () => {
    const pages: Page[] = [];
    for (const name of ['Ada', 'Bo']) {
      const page = watch(await browser.context.newPage(), name);
      await page.goto(link);
      await page.fill('#join-name', name);
      await page.click('#join-button');
      await page.evaluate(() => window.meshmeet.joined);
      pages.push(page);
    }
    const dump = async () => Promise.all(pages.map((p) => p.evaluate(async () => ({
      names: [...document.querySelectorAll('#tiles .tile .name')].map((n) => n.textContent),
      status: document.querySelector('#status')?.textContent, error: document.querySelector('#join-error')?.textContent,
      stats: await window.meshmeet.client()?.inboundStats(),
    }))));
    await waitFor('Ada receiving Bo', () => receiving(pages[0]!, 'Bo'), 90_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await dump())} ${violations.join('\n')}`);
    });
    await waitFor('Bo receiving Ada', () => receiving(pages[1]!, 'Ada'), 90_000);
    assert.deepEqual(violations, []);
  });

  test('the portal and the sign-in page run under the CSP without violations', async () => {
    const page = watch(await browser.context.newPage(), 'portal');
    await page.goto(`${controlUrl}/app/`);
    await page.waitForLoadState('networkidle');
    assert.ok((await page.locator('body').innerText()).length > 0);
    await page.goto(`${controlUrl}/auth/login`);
    await page.waitForSelector('input[name=email]');
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).fontFamily.includes('system-ui')), true, 'the hashed inline style applies');
    assert.deepEqual(violations, []);
  });
});
