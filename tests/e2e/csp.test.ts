/**
 * The web client under a strict Content-Security-Policy (`default-src 'self'`, no inline scripts or styles, no eval),
 * in real Chromium: the built client is served with that header by a tiny static server, joins a real edge node,
 * lays out its stage, opens the reaction menu and the device panel, and the page reports no CSP violation.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { WEB_ROOT, startEdge, waitFor, type TestEdge } from '../helpers/edge.js';

const CSP = "default-src 'self'; connect-src 'self' ws://127.0.0.1:*; media-src 'self' blob: mediastream:";
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

let edge: TestEdge;
let browser: TestBrowser;
let server: http.Server;
let base: string;

describe('the client under a strict CSP', { timeout: 120_000 }, () => {
  before(async () => {
    edge = await startEdge({ workers: 1 });
    browser = await launchBrowser();
    server = http.createServer((req, res) => {
      const name = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/+/, '') || 'index.html';
      const file = path.join(WEB_ROOT, path.normalize(name).replace(/^(\.\.[/\\])+/, ''));
      fs.readFile(file).then((body) => {
        res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP });
        res.end(body);
      }, () => {
        res.writeHead(404);
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await browser?.close();
    await edge?.stop();
    server?.close();
  });

  test('joins, lays out, opens menus and panels without a single violation', async () => {
    await browser.context.addInitScript(() => {
      (window as unknown as { cspViolations: string[] }).cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { cspViolations: string[] }).cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
    });
    const page = await browser.context.newPage();
    const token = await edge.token({ meetingId: 'csp', participantId: 'strict' });
    await page.goto(`${base}/?meeting=csp#token=${token}&node=${edge.wsUrl}`);
    await page.evaluate(() => window.meshmeet.joined);
    await waitFor('the self tile laid out', async () => (await page.evaluate(() => window.meshmeet.layout()))?.rects.self);
    await page.click('#btn-react');
    await page.click('#react-menu button');
    await page.click('#btn-settings');
    await page.locator('#meeting-devices select').first().waitFor();
    // The tiles are placed by setting element.style from script, which the policy allows: check they moved.
    const box = await page.locator('#tiles .tile.self').boundingBox();
    assert.ok(box && box.width > 200, 'the self tile has its computed size');
    assert.deepEqual(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations), []);
  });
});
