/**
 * End to end through the control plane's web app, in real headless Chromium, against a real control plane (real
 * PostgreSQL, chat in a real Cassandra) and a real edge node:
 * A signs up and signs in through the OIDC flow (the IdP's own login form), schedules a meeting with a waiting room,
 * downloads its .ics and joins as host; B signs up and signs in from the meeting link (another browser context),
 * waits, is admitted; both receive each other's audio and video and chat (live, and a direct message); A mutes B,
 * then removes B, whose re-join and chat are refused; the chat history survives a restart of the control plane.
 *
 * Set MESHMEET_SCREENSHOTS=/some/dir to save screenshots of the portal along the way.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { waitFor } from '../helpers/edge.js';
import { launchBrowsers, startSystem, type TestBrowsers, type TestSystem } from '../helpers/system.js';

type Stat = { participantId: string; source: string; kind: string; packetsReceived: number; framesDecoded: number };
type User = { name: string; email: string; password: string; id?: string };

const ALICE: User = { name: 'Alice Host', email: 'alice@example.test', password: 'alice-password-1' };
const BOB: User = { name: 'Bob Guest', email: 'bob@example.test', password: 'bob-password-12' };
const TITLE = 'Quarterly review';

let sys: TestSystem;
let browsers: TestBrowsers;
let ctxA: BrowserContext;
let ctxB: BrowserContext;
let pageA: Page;
let pageB: Page;
let meetingId: string;
let meetingLink: string;

async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.MESHMEET_SCREENSHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, `meshmeet-${name}.png`), fullPage: true });
}

/** An API call from inside the page: same origin, the page's own session cookie. */
async function api(page: Page, method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
  return page.evaluate(async ({ method, url, body }) => {
    const res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  }, { method, url, body });
}

async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).allTextContents()).join('\n');
}

async function waitForText(page: Page, selector: string, re: RegExp, what: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(what, async () => re.test(await textOf(page, selector)), timeoutMs);
}

async function stats(page: Page): Promise<Stat[]> {
  return page.evaluate(async () => {
    const c = window.meshmeet.client();
    if (!c) return [];
    return (await c.inboundStats()).map(({ participantId, source, kind, packetsReceived, framesDecoded }) =>
      ({ participantId, source, kind, packetsReceived, framesDecoded }));
  });
}

/** Waits until `page` receives `source` from `from` and its counters grow between two samples. */
async function waitForFlowing(page: Page, viewer: string, from: User, source: 'mic' | 'camera'): Promise<void> {
  const metric = source === 'mic' ? 'packetsReceived' : 'framesDecoded';
  const find = async () => (await stats(page)).find((s) => s.participantId === from.id && s.source === source);
  const first = await waitFor(`${viewer} receiving ${from.name}'s ${source}`, async () => {
    const s = await find();
    return s && s[metric] > 0 ? s : null;
  }, 60_000);
  await waitFor(`${viewer}'s ${metric} of ${from.name}'s ${source} to grow`, async () => {
    const s = await find();
    return s && s[metric] > first[metric] && s.packetsReceived > first.packetsReceived;
  }, 30_000);
}

/** Creates an account on the portal, then signs in through the OIDC flow by filling the IdP's login form. */
async function signUpAndSignIn(page: Page, user: User, landing: RegExp): Promise<void> {
  await page.locator('#register-form').waitFor();
  await page.fill('#register-name', user.name);
  await page.fill('#register-email', user.email);
  await page.fill('#register-password', user.password);
  await page.click('#register-button');
  await waitForText(page, '#register-done', /Account created/, `${user.name}'s account to be created`);
  await page.click('#sign-in');
  // The IdP's own HTML form, not the app.
  await page.waitForURL(/\/auth\/interaction\/[^/]+$/, { timeout: 30_000 });
  await page.fill('input[name="email"]', user.email);
  await page.fill('input[name="password"]', user.password);
  await page.click('form[action$="/login"] button[type="submit"]');
  await page.waitForURL(landing, { timeout: 30_000 });
  await waitForText(page, '#signed-in-as', new RegExp(`Signed in as ${user.name}`), `${user.name} signed in`);
  const me = await api(page, 'GET', '/auth/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.email, user.email);
  user.id = me.body.id;
  const session = (await page.context().cookies()).find((c) => c.name === 'mm_session');
  assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(await page.evaluate(() => document.cookie.includes('mm_session')), false);
}

async function joinFromLobby(page: Page): Promise<void> {
  await page.locator('#lobby-join').waitFor();
  await page.click('#lobby-join');
}

describe('the control plane web app, end to end', { timeout: 900_000 }, () => {
  before(async () => {
    sys = await startSystem({ cassandra: true });
    browsers = await launchBrowsers();
    ctxA = await browsers.newUser();
    ctxB = await browsers.newUser();
    for (const [who, ctx] of [['A', ctxA], ['B', ctxB]] as const) {
      ctx.on('page', (p) => p.on('pageerror', (err) => console.error(`[${who}] page error:`, err.message)));
    }
  }, { timeout: 600_000 });
  after(async () => {
    await browsers?.close();
    await sys?.stop();
  });

  test('A signs up and signs in through the OIDC flow', async () => {
    pageA = await ctxA.newPage();
    await pageA.goto(sys.appUrl);
    await waitForText(pageA, 'h2', /Create account/, 'the signed-out page');
    assert.equal((await api(pageA, 'GET', '/auth/me')).status, 401);
    await shot(pageA, 'signed-out');
    await signUpAndSignIn(pageA, ALICE, /\/app\/$/);
    await waitForText(pageA, '#meetings-card', /No meetings yet/, 'the empty meeting list');
  });

  test('A schedules a meeting with a waiting room and downloads its .ics', async () => {
    await pageA.fill('#nm-title', TITLE);
    await pageA.check('#nm-scheduled');
    await pageA.fill('#nm-start', '2030-05-14T15:30');
    await pageA.selectOption('#nm-timezone', 'Europe/Berlin');
    await pageA.selectOption('#nm-duration', '45');
    await pageA.selectOption('#nm-access', 'link');
    await pageA.check('#nm-waiting');
    await shot(pageA, 'new-meeting-form');
    await pageA.click('#nm-create');
    await waitForText(pageA, '#new-meeting-done', /Created/, 'the meeting to be created');
    const item = pageA.locator('li.meeting', { hasText: TITLE });
    meetingId = (await item.getAttribute('data-meeting-id'))!;
    assert.match(meetingId, /^[a-z0-9]{12}$/);
    meetingLink = await item.locator('input.meeting-link').inputValue();
    assert.equal(meetingLink, `${sys.controlUrl}/app/?meeting=${meetingId}`);
    assert.match(await item.textContent() ?? '', /waiting room/);
    assert.match(await item.textContent() ?? '', /45 min/);
    await shot(pageA, 'dashboard');

    const { body } = await api(pageA, 'GET', '/meetings');
    const m = body.meetings.find((x: { id: string }) => x.id === meetingId);
    assert.equal(m.kind, 'scheduled');
    assert.equal(m.startsAt, '2030-05-14T13:30:00.000Z', '15:30 in Berlin (CEST) is 13:30 UTC');
    assert.equal(m.timeZone, 'Europe/Berlin');
    assert.equal(m.durationMinutes, 45);
    assert.equal(m.settings.waitingRoom, true);
    assert.equal(m.settings.access, 'link');
    assert.equal(m.yourRole, 'host');

    const href = (await item.locator('a.ics-link').getAttribute('href'))!;
    assert.equal(href, `/meetings/${meetingId}/invite.ics`);
    const res = await ctxA.request.get(new URL(href, sys.controlUrl).href);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'] ?? '', /text\/calendar/);
    const ics = await res.text();
    assert.match(ics, /^BEGIN:VCALENDAR/);
    assert.match(ics, new RegExp(`SUMMARY:${TITLE}`));
    assert.match(ics, /DTSTART[^\r\n]*:20300514T(133000Z|153000)/);
  });

  test('A joins as host, straight in', async () => {
    await pageA.locator(`li.meeting[data-meeting-id="${meetingId}"] a.join-link`).click();
    await pageA.waitForURL(`**/app/?meeting=${meetingId}`);
    await waitForText(pageA, '#lobby', /You are the host/, 'the lobby');
    await joinFromLobby(pageA);
    await pageA.evaluate(() => window.meshmeet.joined);
    assert.equal(await pageA.locator('#meeting-view').isVisible(), true);
    assert.equal(await pageA.locator('#host-panel').isVisible(), true);
    await waitForText(pageA, '#participant-list', /Alice Host \(you\)/, 'A in the participant list');
    const { body } = await api(pageA, 'GET', `/meetings/${meetingId}/participants`);
    assert.deepEqual(body.participants.map((p: { userId: string; role: string; state: string }) => [p.userId, p.role, p.state]), [[ALICE.id, 'host', 'admitted']]);
  });

  test('B signs up from the meeting link, signs in, and waits in the waiting room', async () => {
    pageB = await ctxB.newPage();
    await pageB.goto(meetingLink);
    await waitForText(pageB, 'h1', /Sign in to join the meeting/, 'the signed-out meeting page');
    await signUpAndSignIn(pageB, BOB, new RegExp(`/app/\\?meeting=${meetingId}$`));
    await waitForText(pageB, '#lobby-title', new RegExp(TITLE), 'B at the lobby');
    await joinFromLobby(pageB);
    await waitForText(pageB, '#waiting-view', /Waiting for the host to let you in/, 'B waiting');
    await shot(pageB, 'waiting-room');
    assert.deepEqual((await api(pageB, 'GET', `/meetings/${meetingId}/join`)).body, { state: 'waiting' });
    assert.equal(await pageB.locator('#meeting-view').isVisible(), false);
  });

  test('A sees B waiting and admits; B gets in; both receive each other\'s audio and video', async () => {
    const waiting = pageA.locator(`#waiting-list li[data-participant-id="${BOB.id}"]`);
    await waiting.waitFor({ timeout: 30_000 });
    assert.match(await waiting.textContent() ?? '', /Bob Guest/);
    await waiting.locator('button.admit').click();
    await pageB.evaluate(() => window.meshmeet.joined);
    assert.deepEqual((await api(pageB, 'GET', `/meetings/${meetingId}/join`)).body, { state: 'admitted' });
    await waitForText(pageA, '#participant-list', /Bob Guest/, 'B in A\'s participant list');
    await waitForText(pageB, '#participant-list', /Alice Host/, 'A in B\'s participant list');
    await waitFor('the waiting room to empty', async () => (await pageA.locator('#waiting-list li').count()) === 0);
    await waitForFlowing(pageA, 'A', BOB, 'mic');
    await waitForFlowing(pageA, 'A', BOB, 'camera');
    await waitForFlowing(pageB, 'B', ALICE, 'mic');
    await waitForFlowing(pageB, 'B', ALICE, 'camera');
    assert.equal(await pageB.locator('#host-panel').isVisible(), false, 'a participant has no host panel');
  });

  test('both chat live, and A sends B a direct message', async () => {
    for (const p of [pageA, pageB]) await waitFor('the chat socket', () => p.evaluate(() => window.meshmeet.chat?.live() ?? false));
    await pageA.fill('#chat-input', 'Hello from Alice');
    await pageA.click('#chat-send');
    await waitForText(pageB, '#chat-messages', /Hello from Alice/, 'B to see A\'s message');
    await pageB.fill('#chat-input', 'Hi Alice, Bob here');
    await pageB.press('#chat-input', 'Enter');
    await waitForText(pageA, '#chat-messages', /Hi Alice, Bob here/, 'A to see B\'s message');

    await pageA.selectOption('#chat-to', BOB.id!);
    await pageA.fill('#chat-input', 'Just between us, Bob');
    await pageA.click('#chat-send');
    await waitForText(pageB, '#chat-messages li.direct', /Just between us, Bob/, 'B to see the direct message');
    assert.match(await textOf(pageB, '#chat-messages li.direct'), /to you · direct message/);
    await waitForText(pageA, '#chat-messages li.direct', /to Bob Guest · direct message/, 'A to see the direct message as sent');
    await shot(pageA, 'meeting-host');

    // Nothing is left pending, and each message is stored once (the live copy and the POST answer are the same).
    for (const p of [pageA, pageB]) {
      const msgs = await p.evaluate(() => window.meshmeet.chat!.messages());
      assert.deepEqual(msgs.map((m) => [m.body, m.state]), [
        ['Hello from Alice', 'sent'], ['Hi Alice, Bob here', 'sent'], ['Just between us, Bob', 'sent'],
      ]);
    }
    const history = await api(pageB, 'GET', `/meetings/${meetingId}/chat`);
    assert.equal(history.status, 200);
    const dm = history.body.messages.find((m: { body: string }) => m.body === 'Just between us, Bob');
    assert.equal(dm.recipientId, BOB.id);
    assert.equal(dm.senderId, ALICE.id);
  });

  test('A mutes B: B is told and B\'s microphone is paused', async () => {
    const bob = pageA.locator(`#participant-list li[data-participant-id="${BOB.id}"]`);
    await bob.locator('details.host-actions summary').click();
    await bob.locator('button[data-action="mute"]').click();
    await waitForText(pageB, '#status', /A host muted you/, 'B to be told');
    await waitFor('B\'s mic producer to be paused', () => pageB.evaluate(() => window.meshmeet.client()?.local.get('mic')?.paused === true));
    await waitFor('A to see B muted', async () => (await bob.getAttribute('class'))?.includes('muted'));
    await waitForText(pageA, '#host-note', /You muted Bob Guest/, 'A\'s confirmation');
  });

  test('A removes B: B is told, and B\'s re-join and chat are refused', async () => {
    const bob = pageA.locator(`#participant-list li[data-participant-id="${BOB.id}"]`);
    await bob.locator('details.host-actions summary').click();
    await bob.locator('button[data-action="remove"]').click();
    await waitForText(pageB, '#ended-view', /A host removed you from the meeting/, 'B to see it was removed');
    assert.match(await textOf(pageB, '#ended-title'), /You were removed/);
    assert.equal(await pageB.locator('#rejoin').count(), 0, 'no Rejoin after removal');
    assert.equal(await pageB.locator('#meeting-view').isVisible(), false);
    await shot(pageB, 'removed');
    await waitFor('A to drop B', async () => (await bob.count()) === 0);

    const rejoin = await api(pageB, 'POST', `/meetings/${meetingId}/join`, {});
    assert.equal(rejoin.status, 403);
    assert.equal(rejoin.body.error.code, 'removed');
    const chat = await api(pageB, 'POST', `/meetings/${meetingId}/chat`, { clientId: crypto.randomUUID(), body: 'let me back in', recipientId: null });
    assert.equal(chat.status, 403);
    // And through the page: the lobby refuses too, plainly.
    await pageB.goto(meetingLink);
    await joinFromLobby(pageB);
    await waitForText(pageB, '#ended-view', /You were removed from this meeting/, 'B\'s refused re-join');
  });

  test('the chat history survives a restart of the control plane', async () => {
    await sys.restartControl();
    await pageA.reload();
    await joinFromLobby(pageA);
    await waitFor('A back in the meeting', () => pageA.evaluate(() => !!window.meshmeet.client()?.self));
    await waitForText(pageA, '#chat-messages', /Hello from Alice[\s\S]*Hi Alice, Bob here[\s\S]*Just between us, Bob/, 'the history, in order', 60_000);
    const history = await api(pageA, 'GET', `/meetings/${meetingId}/chat`);
    assert.deepEqual(history.body.messages.map((m: { body: string }) => m.body), ['Just between us, Bob', 'Hi Alice, Bob here', 'Hello from Alice']);
    await shot(pageA, 'after-restart');
  });
});
