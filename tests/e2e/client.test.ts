/**
 * The meeting client as people use it, in real headless Chromium against a real control plane (real PostgreSQL)
 * and a real edge node: three participants (two at 1280x800, one on a 390x844 phone) go through the pre-join device
 * check and meet; gallery and speaker views fill the stage without overlap; the phone has no horizontal overflow;
 * a tile is pinned from the keyboard; a camera switch (Chromium's second fake camera) keeps the others decoding
 * the same consumer; hands go up in order and a host lowers one; a reaction reaches everyone; chat works with an
 * unread count; axe-core finds no serious or critical violation on the sign-in page, the portal, the pre-join
 * page and the meeting.
 *
 * Screenshots go to test-artifacts/screenshots/ (gitignored; MESHMEET_ARTIFACTS overrides the folder).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { computeLayout, coverage } from '../../web/src/layout.js';
import { CHROMIUM, CHROMIUM_FLAGS } from '../helpers/browser.js';
import { ROOT, waitFor } from '../helpers/edge.js';
import { register } from '../helpers/http-browser.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

type User = { key: string; name: string; email: string; password: string; id?: string; page?: Page };
const users: User[] = [
  { key: 'alice', name: 'Alice Host', email: 'alice@client.test', password: 'alice-password-1' },
  { key: 'bob', name: 'Bob Desk', email: 'bob@client.test', password: 'bob-password-12' },
  { key: 'carol', name: 'Carol Phone', email: 'carol@client.test', password: 'carol-password-1' },
];
const [alice, bob, carol] = users as [User, User, User];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const ARTIFACTS = process.env.MESHMEET_ARTIFACTS ?? path.join(ROOT, 'test-artifacts');
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const axeSource = await fs.readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let sys: TestSystem;
let browser: Browser;
let meetingId: string;

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

/** axe-core in the page: the serious and critical violations, as readable lines. */
async function axe(page: Page, what: string): Promise<void> {
  await page.evaluate(`${axeSource}\n;0`);
  const violations = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: Document, o: unknown) => Promise<{ violations: Array<{ id: string; impact: string; help: string; nodes: Array<{ target: string[] }> }> }> } })
      .axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`);
  });
  assert.deepEqual(violations, [], `axe on ${what}`);
}

type Stat = { participantId: string; source: string; consumerId: string; framesDecoded: number; packetsReceived: number; spatialLayer: number | null };
async function stats(page: Page): Promise<Stat[]> {
  return page.evaluate(async () => {
    const c = window.meshmeet.client();
    if (!c) return [];
    return (await c.inboundStats()).map(({ participantId, source, consumerId, framesDecoded, packetsReceived, spatialLayer }) =>
      ({ participantId, source, consumerId, framesDecoded, packetsReceived, spatialLayer }));
  });
}

/**
 * Waits until `page` receives more and more of `from`'s `source` (decoded frames of a camera, packets of a
 * microphone); returns the consumer's counters.
 */
async function flowing(page: Page, from: User, source: 'mic' | 'camera', what: string): Promise<Stat> {
  const metric = source === 'mic' ? 'packetsReceived' : 'framesDecoded';
  const find = async () => (await stats(page)).find((s) => s.participantId === from.id && s.source === source);
  const first = await waitFor(`${what}: ${from.name}'s ${source} arriving`, async () => {
    const s = await find();
    return s && s[metric] > 0 ? s : null;
  }, 60_000);
  return waitFor(`${what}: ${from.name}'s ${source} keeps coming`, async () => {
    const s = await find();
    return s && s[metric] > first[metric] + 10 ? s : null;
  }, 30_000);
}
const decoding = (page: Page, from: User, what: string) => flowing(page, from, 'camera', what);

/** The tiles' rectangles as the browser draws them, and the stage's. */
async function drawn(page: Page) {
  return page.evaluate(() => {
    const stage = document.getElementById('stage')!.getBoundingClientRect();
    const tiles = [...document.querySelectorAll<HTMLElement>('#tiles .tile')].filter((t) => !t.hidden).map((t) => {
      const r = t.getBoundingClientRect();
      return { id: t.dataset.tileId!, x: r.x, y: r.y, w: r.width, h: r.height };
    });
    return { stage: { x: stage.x, y: stage.y, w: stage.width, h: stage.height }, tiles };
  });
}

/** No tile overlaps another or leaves the stage, as drawn; returns the share of the stage the tiles cover. */
async function checkStage(page: Page, expectTiles: number, what: string): Promise<number> {
  const { stage, tiles } = await waitFor(`${what}: ${expectTiles} tiles drawn`, async () => {
    const d = await drawn(page);
    return d.tiles.length === expectTiles ? d : null;
  });
  for (const t of tiles) {
    assert.ok(t.x >= stage.x - 0.5 && t.y >= stage.y - 0.5 && t.x + t.w <= stage.x + stage.w + 0.5 && t.y + t.h <= stage.y + stage.h + 0.5,
      `${what}: ${t.id} leaves the stage ${JSON.stringify(t)} ${JSON.stringify(stage)}`);
  }
  for (let i = 0; i < tiles.length; i++) {
    for (let j = i + 1; j < tiles.length; j++) {
      const a = tiles[i]!, b = tiles[j]!;
      const overlap = a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;
      assert.ok(!overlap, `${what}: ${a.id} overlaps ${b.id}`);
    }
  }
  return tiles.reduce((n, t) => n + t.w * t.h, 0) / (stage.w * stage.h);
}

async function noHorizontalOverflow(page: Page, what: string): Promise<void> {
  const o = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
    offenders: [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`),
  }));
  assert.ok(o.scroll <= o.width, `${what}: page is ${o.scroll}px wide in a ${o.width}px window`);
  assert.deepEqual(o.offenders, [], `${what}: elements past the right edge`);
}

async function signIn(u: User, viewport: { width: number; height: number }): Promise<Page> {
  const ctx = await browser.newContext({ viewport, permissions: ['camera', 'microphone'] });
  const page = await ctx.newPage();
  page.on('pageerror', (err) => console.error(`[${u.key}] page error:`, err.message));
  await page.goto(`${sys.controlUrl}/auth/login?returnTo=${encodeURIComponent('/app/')}`);
  await page.waitForURL(/\/auth\/interaction\//);
  await page.fill('input[name="email"]', u.email);
  await page.fill('input[name="password"]', u.password);
  await page.click('form[action$="/login"] button[type="submit"]');
  await page.waitForURL(/\/app\/$/);
  await page.locator('#signed-in-as').waitFor();
  u.id = await page.evaluate(async () => ((await (await fetch('/auth/me')).json()) as { id: string }).id);
  u.page = page;
  return page;
}

describe('the meeting client, end to end', { timeout: 900_000 }, () => {
  before(async () => {
    await fs.mkdir(SHOTS, { recursive: true });
    sys = await startSystem();
    // Three fake cameras, so a camera switch is a real device switch. (Chromium's fake_device_1 is a Y16 "depth"
    // camera whose frames the encoder drops; the test switches to fake_device_2, MJPEG, like most webcams.)
    const flags = CHROMIUM_FLAGS.map((f) => (f === '--use-fake-device-for-media-stream' ? '--use-fake-device-for-media-stream=device-count=3' : f));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: flags });
    for (const u of users) {
      const res = await register(sys.controlUrl, { email: u.email, password: u.password, displayName: u.name });
      assert.equal(res.status, 201);
    }
  }, { timeout: 600_000 });
  after(async () => {
    await browser?.close().catch(() => undefined);
    await sys?.stop();
  });

  test('the sign-in page and the signed-out portal have no serious accessibility violations', async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP });
    const page = await ctx.newPage();
    await page.goto(sys.appUrl);
    await page.locator('#register-form').waitFor();
    await axe(page, 'the signed-out portal');
    await page.goto(`${sys.controlUrl}/auth/login?returnTo=%2Fapp%2F`);
    await page.waitForURL(/\/auth\/interaction\//);
    await axe(page, 'the sign-in page');
    await shot(page, 'sign-in');
    await ctx.close();
  });

  test('everyone signs in; the host starts an instant meeting, shown as live; the dashboard is accessible', async () => {
    await signIn(alice, DESKTOP);
    await signIn(bob, DESKTOP);
    await signIn(carol, PHONE);
    const page = alice.page!;
    await page.fill('#nm-title', 'Design review');
    await page.selectOption('#nm-access', 'link');
    await page.click('#nm-create');
    const item = page.locator('li.meeting', { hasText: 'Design review' });
    await item.waitFor();
    meetingId = (await item.getAttribute('data-meeting-id'))!;
    assert.match(await item.locator('.badge').first().textContent() ?? '', /live/);
    await axe(page, 'the dashboard');
    await shot(page, 'dashboard');
  });

  test('the portal: the access setting explained, a meeting edited and deleted; a stranger told why a private link fails', async () => {
    const page = alice.page!;
    assert.match(await page.locator('#nm-access-help').textContent() ?? '', /Only the people you invite/);
    await page.selectOption('#nm-access', 'link');
    assert.match(await page.locator('#nm-access-help').textContent() ?? '', /Anyone who has the link/);
    await page.selectOption('#nm-access', 'invited');
    await page.fill('#nm-title', 'Planning');
    await page.click('#nm-create');
    const item = page.locator('li.meeting', { hasText: 'Planning' });
    await item.waitFor();
    const id = (await item.getAttribute('data-meeting-id'))!;
    // Bob has the link but is not invited: the page says why and what to do.
    await bob.page!.goto(`${sys.appUrl}?meeting=${id}`);
    await waitFor('bob\'s explanation', async () => /invited people only.*ask them to invite you/.test(await bob.page!.locator('#meeting-missing').textContent() ?? ''));
    await axe(bob.page!, 'the meeting-not-found page');

    await item.locator('button.edit-meeting').click();
    const form = item.locator('form.edit-form');
    await form.locator('input').first().fill('Planning, moved');
    await form.locator('select').last().selectOption('link');
    await axe(page, 'the edit form');
    await form.locator('button.save-meeting').click();
    const edited = page.locator(`li.meeting[data-meeting-id="${id}"]`);
    await waitFor('the edited meeting', async () => /Planning, moved/.test(await edited.textContent() ?? '') && /anyone with the link/.test(await edited.textContent() ?? ''));
    await bob.page!.goto(`${sys.appUrl}?meeting=${id}`);
    await bob.page!.locator('#lobby-join').waitFor();
    await bob.page!.goto(sys.appUrl);

    await edited.locator('button.delete-meeting').click();
    assert.match(await edited.locator('button.delete-meeting').textContent() ?? '', /Click again/);
    await edited.locator('button.delete-meeting').click();
    await waitFor('the meeting gone from the list', async () => (await page.locator(`li.meeting[data-meeting-id="${id}"]`).count()) === 0);
    assert.equal(await page.evaluate(async (path) => (await fetch(path)).status, `/meetings/${id}`), 404);
  });

  test('pre-join: camera preview, a live mic level, cameras to pick; join with the mic off', async () => {
    // Bob's devices are slow to open (3 s, like a camera waking up), and he joins at once, before they have opened:
    // he still goes in with his microphone and camera.
    await bob.page!.context().addInitScript(`{
      const open = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (c) => new Promise((r) => setTimeout(r, 3000)).then(() => open(c));
    }`);
    for (const u of users) await u.page!.goto(`${sys.appUrl}?meeting=${meetingId}`);
    await bob.page!.click('#lobby-join');
    const page = carol.page!;
    await page.locator('#lobby .device-preview').waitFor();
    await waitFor('the camera preview to play', () => page.evaluate(() => document.querySelector<HTMLVideoElement>('#lobby .device-preview')!.videoWidth > 0));
    await waitFor('the mic level to move', async () => Number(await page.locator('#lobby [role=meter]').getAttribute('aria-valuenow')) > 0, 20_000);
    assert.equal(await page.locator('#lobby select.device-videoinput option').count(), 3, 'every fake camera listed');
    await noHorizontalOverflow(page, 'the phone lobby');
    await axe(page, 'the pre-join page (phone)');
    await shot(page, 'prejoin-phone');
    await axe(alice.page!, 'the pre-join page (desktop)');
    await shot(alice.page!, 'prejoin-desktop');
    // Carol joins with her microphone off.
    await page.click('#lobby .toggle-mic');
    assert.equal(await page.locator('#lobby .toggle-mic').getAttribute('aria-pressed'), 'false');
    for (const u of users) {
      if (u !== bob) await u.page!.click('#lobby-join');
      await u.page!.evaluate(() => window.meshmeet.joined);
    }
    assert.equal(await page.locator('#btn-mic').getAttribute('aria-pressed'), 'false', 'carol is muted');
    await waitFor('alice sees carol muted in the list', async () =>
      (await alice.page!.locator(`#participant-list li[data-participant-id="${carol.id}"]`).getAttribute('class') ?? '').includes('muted'));
    for (const viewer of users) for (const from of users) if (viewer !== from) await decoding(viewer.page!, from, `${viewer.key}`);
    for (const [viewer, from] of [[bob, alice], [carol, alice], [alice, bob]] as const) await flowing(viewer.page!, from, 'mic', viewer.key);
  });

  test('gallery fills the stage at 1280x800 and on a phone; no horizontal overflow on the phone', async () => {
    const page = alice.page!;
    // The connection mark reads getStats: on loopback it settles on good (or fair on a busy machine), with numbers.
    const q = await waitFor('a connection assessment', async () => {
      const v = await page.evaluate(() => window.meshmeet.quality());
      return v.quality !== 'unknown' ? v : null;
    });
    assert.match(q.label, /ms round trip/);
    assert.match(await page.locator('#quality').getAttribute('aria-label') ?? '', /^Connection: (good|fair|poor) \(/);
    await page.selectOption('#layout-select', 'gallery');
    const share = await checkStage(page, 3, 'gallery, desktop');
    const layout = (await page.evaluate(() => window.meshmeet.layout()))!;
    assert.equal(layout.kind, 'gallery');
    const computed = coverage(computeLayout({ width: layout.width, height: layout.height, people: ['a', 'b', 'c'], mode: 'gallery' }), layout.width, layout.height);
    assert.ok(Math.abs(share - computed) < 0.02, `drawn ${share} vs computed ${computed}`);
    assert.ok(share > 0.5, `3 tiles cover ${share} of the stage`);
    // What the layout gives 1..9 people on this stage, and on the whole width with the panels closed.
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);
    const table = (w: number, h: number) => Array.from({ length: 9 }, (_, i) =>
      `${i + 1}: ${(coverage(computeLayout({ width: w, height: h, people: ids(i + 1), mode: 'gallery' }), w, h) * 100).toFixed(0)}%`).join(', ');
    console.log(`stage ${layout.width}x${layout.height} (panels open) at 1280x800, tiles cover: ${table(layout.width, layout.height)}; drawn in Chromium for 3: ${(share * 100).toFixed(1)}%`);
    await page.click('#btn-people');
    await page.click('#btn-chat');
    const wide = (await waitFor('the stage to widen', async () => {
      const l = await page.evaluate(() => window.meshmeet.layout());
      return l && l.width > 1200 ? l : null;
    }))!;
    const shareWide = await checkStage(page, 3, 'gallery, panels closed');
    console.log(`stage ${wide.width}x${wide.height} (panels closed) at 1280x800, tiles cover: ${table(wide.width, wide.height)}; drawn in Chromium for 3: ${(shareWide * 100).toFixed(1)}%`);
    await shot(page, 'gallery-desktop-full');
    await page.click('#btn-people');
    await page.click('#btn-chat');
    await checkStage(page, 3, 'gallery, panels open again');
    await shot(page, 'gallery-desktop');

    const phone = carol.page!;
    await checkStage(phone, 3, 'gallery, phone');
    await noHorizontalOverflow(phone, 'the phone meeting');
    const leave = await phone.locator('#btn-leave').boundingBox();
    assert.ok(leave && leave.x + leave.width <= PHONE.width && leave.y + leave.height <= PHONE.height, 'Leave is on screen');
    await axe(phone, 'the meeting (phone)');
    await shot(phone, 'gallery-phone');
  });

  test('speaker view: one large tile and a strip, no overlap; a tile pinned with Enter', async () => {
    const page = alice.page!;
    await page.selectOption('#layout-select', 'speaker');
    await checkStage(page, 3, 'speaker, desktop');
    const l = (await page.evaluate(() => window.meshmeet.layout()))!;
    assert.equal(l.kind, 'speaker');
    const areas = Object.values(l.rects).map((r) => r.w * r.h).sort((a, b) => b - a);
    assert.ok(areas[0]! > 3 * areas[1]!, 'the speaker is much larger than the strip');
    await shot(page, 'speaker-desktop');
    // Keyboard: Tab reaches the tiles; Enter on Bob's pins him (large, aria-pressed) and the node sends his top layer.
    const tile = page.locator(`#tiles .tile[data-participant-id="${bob.id}"]`);
    await tile.focus();
    await page.keyboard.press('Enter');
    assert.equal(await tile.getAttribute('aria-pressed'), 'true');
    await waitFor('bob large on alice\'s stage', async () => (await page.evaluate(() => window.meshmeet.layout()))?.rects[bob.id!]?.w === Math.max(...Object.values((await page.evaluate(() => window.meshmeet.layout()))!.rects).map((r) => r.w)));
    await waitFor('the node to send bob\'s top layer to alice', async () => (await stats(page)).find((s) => s.participantId === bob.id && s.source === 'camera')?.spatialLayer === 2, 60_000);
    await page.keyboard.press('Enter');
    assert.equal(await tile.getAttribute('aria-pressed'), 'false');
    await axe(page, 'the meeting (desktop)');
    await page.selectOption('#layout-select', 'gallery');
  });

  test('switching camera keeps the others decoding the same consumer', async () => {
    const page = alice.page!;
    const before = await decoding(bob.page!, alice, 'bob before the switch');
    const oldLabel = await page.evaluate(() => window.meshmeet.client()!.localTrack('camera')!.label);
    await page.click('#btn-settings');
    const select = page.locator('#meeting-devices select.device-videoinput');
    await waitFor('the cameras in the meeting picker', async () => (await select.locator('option').count()) === 3);
    assert.equal(oldLabel, 'fake_device_0');
    await select.selectOption({ label: 'fake_device_2' });
    await waitFor('alice to send the other camera', async () =>
      (await page.evaluate(() => window.meshmeet.client()!.localTrack('camera')?.label)) !== oldLabel);
    const after = await decoding(bob.page!, alice, 'bob after the switch');
    assert.equal(after.consumerId, before.consumerId, 'the same consumer: no re-negotiation');
    assert.ok(after.framesDecoded > before.framesDecoded);
    await shot(page, 'devices-desktop');
    await page.click('#btn-settings');
  });

  test('hands go up in order; the host sees them and lowers one', async () => {
    await bob.page!.click('#btn-hand');
    await waitFor('bob\'s hand up on alice\'s page', async () => (await alice.page!.locator('#hand-list li').count()) === 1);
    await carol.page!.click('#btn-hand');
    await waitFor('two hands in order', async () =>
      JSON.stringify(await alice.page!.locator('#hand-list li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.participantId)))
        === JSON.stringify([bob.id, carol.id]));
    assert.equal(await bob.page!.locator('#btn-hand').getAttribute('aria-pressed'), 'true');
    await shot(alice.page!, 'hands-desktop');
    await alice.page!.click(`#hand-list li[data-participant-id="${bob.id}"] button.lower-hand`);
    await waitFor('bob told his hand was lowered', async () => /lowered your hand/.test(await bob.page!.locator('#status').textContent() ?? ''));
    assert.equal(await bob.page!.locator('#btn-hand').getAttribute('aria-pressed'), 'false');
    assert.equal(await bob.page!.locator(`#hand-list li[data-participant-id="${bob.id}"] button`).count(), 0, 'bob gets no Lower button for others');
    await carol.page!.click('#btn-hand');
  });

  test('a reaction reaches everyone', async () => {
    await carol.page!.click('#btn-react');
    await carol.page!.locator('#react-menu button[aria-label="React 👏"]').click();
    for (const u of users) {
      await waitFor(`${u.key} to see carol's 👏`, () => u.page!.evaluate((id) => window.meshmeet.reactions.some((r) => r.participantId === id && r.emoji === '👏'), carol.id));
    }
    await waitFor('the reaction on alice\'s stage', async () => /Carol Phone reacted 👏/.test(await alice.page!.locator('#reactions').textContent() ?? ''));
  });

  test('chat: a message reaches the phone as an unread count; the reply comes back', async () => {
    await alice.page!.fill('#chat-input', 'Slides are up');
    await alice.page!.click('#chat-send');
    const phone = carol.page!;
    await waitFor('carol\'s unread count', async () => (await phone.locator('#chat-unread').textContent()) === '1' && await phone.locator('#chat-unread').isVisible());
    assert.equal(await phone.locator('#btn-chat').getAttribute('aria-label'), 'Chat, 1 unread');
    await shot(phone, 'unread-phone');
    await phone.click('#btn-chat');
    await waitFor('the message in carol\'s chat', async () => /Slides are up/.test(await phone.locator('#chat-messages').textContent() ?? ''));
    assert.equal(await phone.locator('#chat-unread').isVisible(), false);
    await noHorizontalOverflow(phone, 'the phone chat panel');
    const panel = await phone.locator('#chat-panel').boundingBox();
    const stage = await phone.locator('#stage').boundingBox();
    assert.ok(panel && stage && panel.y < stage.y + stage.height && panel.y + panel.height > stage.y, 'the chat opens over the stage');
    await phone.fill('#chat-input', 'Thanks!');
    await phone.press('#chat-input', 'Enter');
    await waitFor('alice sees the reply', async () => /Thanks!/.test(await alice.page!.locator('#chat-messages').textContent() ?? ''));
    await axe(phone, 'the phone chat panel');
    await shot(phone, 'chat-phone');
  });

  test('a screen share takes the stage; the presenter sees a banner with Stop', async () => {
    const page = bob.page!;
    await page.click('#btn-screen');
    await page.locator('#share-banner').waitFor();
    assert.match(await page.locator('#share-banner').textContent() ?? '', /You are sharing your screen/);
    await waitFor('alice\'s screen layout', async () => (await alice.page!.evaluate(() => window.meshmeet.layout()))?.kind === 'screen', 30_000);
    await checkStage(alice.page!, 4, 'screen share, desktop');
    await checkStage(carol.page!, 4, 'screen share, phone');
    await noHorizontalOverflow(carol.page!, 'the phone with a screen share');
    await shot(alice.page!, 'screen-desktop');
    await page.click('#btn-stop-share');
    await waitFor('the banner to go', async () => await page.locator('#share-banner').isHidden());
    await waitFor('alice back to the gallery', async () => (await alice.page!.evaluate(() => window.meshmeet.layout()))?.kind === 'gallery', 30_000);
  });
});
