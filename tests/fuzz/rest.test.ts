/**
 * Fuzz: every REST route of the control plane's OpenAPI document (plus the sign-in routes outside it) gets generated
 * bad input — path parameters, query strings and JSON bodies with wrong types, missing and extra fields, huge and
 * empty strings, NUL and control characters, non-UUID ids, other users' ids and meetings, prototype keys, bodies
 * that are not JSON or not declared JSON, foreign origins — as a signed-in owner, another user, or nobody. Every
 * answer must be a 2xx/3xx or a 4xx with a JSON error naming the problem: never a 5xx, never a hang. The real system
 * (tests/helpers/system.ts: PostgreSQL, an edge node) answers; the server must still be healthy at the end.
 *
 * FUZZ_RUNS=N (cases per route, default 25) runs more; FUZZ_SEED replays a run.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Browser, signedIn } from '../helpers/http-browser.js';
import { startSystem, type TestSystem } from '../helpers/system.js';
import { FUZZ_RUNS, FUZZ_SEED, badString, bodyFor, bounded, toJson } from './arbitraries.js';

let system: TestSystem;
let base: string;
const browsers: Record<'owner' | 'other' | 'nobody', Browser> = { owner: new Browser(), other: new Browser(), nobody: new Browser() };
const ids: Record<string, string> = {};
const statuses = new Map<number, number>();
const serverErrors: string[] = [];
let requests = 0;

interface Operation {
  method: string;
  path: string;
  params: string[];
  query: string[];
  body: any | null;
}

/** Percent-encodes the UTF-8 bytes of `s` (lone surrogates become U+FFFD); `%RAW:` values go as they are. */
const encodePath = (s: string) => (s.startsWith('%RAW:') ? s.slice(5) : [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
/** Percent sequences that are not UTF-8, or not percent sequences at all. */
const RAW_PARAMS = ['%RAW:%FF', '%RAW:%C0%AF', '%RAW:%E0%A4%A', '%RAW:%', '%RAW:%zz', '%RAW:%00', '%RAW:a%2Fb', '%RAW:..', '%RAW:%2e%2e'];
const INVALID_BODIES = ['', '{', '{"a":', 'null', '[]', '"text"', '12', 'true', '{"a":1,"a":2}', '\u0000', '{"__proto__":{"admin":true}}', '[' .repeat(5000)];
const CONTENT_TYPES = ['application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', ''];

const MAX_BODY = 64 * 1024;

/**
 * One request on its own connection (no pool: a server that refuses an oversized body closes the connection, as it
 * may). Resolves with the answer; a connection closed while an oversized body was still being sent counts as 413.
 */
function send(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const size = body === undefined ? 0 : Buffer.byteLength(body);
    const req = http.request(url, { method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(size) }) }, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 20 s')));
    req.on('error', (err) => (size > MAX_BODY ? resolve({ status: 413, type: 'connection closed', text: '' }) : reject(err)));
    req.end(body);
  });
}

async function call(b: Browser, method: string, path: string, body?: unknown) {
  const res = await b.fetch(`${base}${path}`, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
}

/** A meeting of the owner with the other user invited and both in it, fresh for each route (a case may end it). */
async function freshMeetings(): Promise<{ own: string; foreign: string }> {
  const own = (await call(browsers.owner, 'POST', '/meetings', {
    kind: 'instant', title: 'fuzz', settings: { access: 'link', guestJoin: true }, invitees: [{ email: 'fuzz-other@example.test', role: 'participant' }],
  })).body.id as string;
  await call(browsers.owner, 'POST', `/meetings/${own}/join`, {});
  await call(browsers.other, 'POST', `/meetings/${own}/join`, {});
  const foreign = (await call(browsers.other, 'POST', '/meetings', { kind: 'instant', title: 'private' })).body.id as string;
  return { own, foreign };
}

function operations(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [p, methods] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const parameters: any[] = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        path: p,
        params: parameters.filter((x) => x.in === 'path').map((x) => x.name),
        query: parameters.filter((x) => x.in === 'query').map((x) => x.name),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  }
  // The sign-in routes that answer browsers with pages and redirects (not in the API document).
  ops.push({ method: 'GET', path: '/auth/login', params: [], query: ['returnTo', 'idp'], body: null });
  ops.push({ method: 'GET', path: '/auth/callback', params: [], query: ['state', 'code', 'error', 'iss'], body: null });
  ops.push({ method: 'GET', path: '/auth/interaction/{uid}', params: ['uid'], query: [], body: null });
  ops.push({ method: 'POST', path: '/auth/interaction/{uid}/login', params: ['uid'], query: [], body: { type: 'object', properties: { email: { type: 'string' }, password: { type: 'string' } } } });
  return ops;
}

describe('fuzz: REST routes of the control plane', { timeout: 600_000 }, () => {
  before(async () => {
    system = await startSystem();
    base = system.controlUrl;
    browsers.owner = await signedIn(base, 'fuzz-owner@example.test', 'fuzz-owner-pass-1', 'Fuzz Owner');
    browsers.other = await signedIn(base, 'fuzz-other@example.test', 'fuzz-other-pass-1', 'Fuzz Other');
    ids.owner = (await call(browsers.owner, 'GET', '/users/me')).body.id;
    ids.other = (await call(browsers.other, 'GET', '/users/me')).body.id;
    console.log(`fuzz rest: seed ${FUZZ_SEED}, ${FUZZ_RUNS} cases per route (FUZZ_SEED=${FUZZ_SEED} replays)`);
  });
  after(async () => {
    const hist = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
    console.log(`fuzz rest: ${requests} requests, ${serverErrors.length} server errors; statuses ${hist}`);
    await system?.stop();
  });

  test('no 5xx, no hang, every error names the problem; the server stays healthy', async () => {
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    const ops = operations(doc);
    assert.ok(ops.length >= 25, `routes in the document: ${ops.length}`);
    for (const op of ops) {
      const m = await freshMeetings();
      const known = {
        uuids: [ids.owner!, ids.other!],
        emails: ['fuzz-owner@example.test', 'fuzz-other@example.test'],
        strings: [m.own, m.foreign, ids.owner!, ids.other!, 'zzzzzzzzzzzz'],
      };
      const param = (name: string) => fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...(name === 'id' ? [m.own, m.foreign, 'zzzzzzzzzzzz'] : name === 'file' ? ['abcdefghijklmnopqrstuvwxyz.ics'] : [ids.owner!, ids.other!])) },
        { weight: 4, arbitrary: badString(known.strings).filter((s) => s.length < 5000) },
        { weight: 1, arbitrary: fc.constantFrom(...RAW_PARAMS) },
      );
      const rawBody: fc.Arbitrary<string | undefined> = op.body
        ? fc.oneof({ weight: 8, arbitrary: bodyFor(op.body, known).map(toJson) }, { weight: 1, arbitrary: fc.constantFrom(...INVALID_BODIES) })
        : fc.option(fc.constantFrom('{"a":1}', 'x'), { nil: undefined, freq: 5 });
      const c = fc.record({
        who: fc.constantFrom<'owner' | 'other' | 'nobody'>('owner', 'owner', 'other', 'nobody'),
        params: fc.tuple(...op.params.map(param)),
        query: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...op.query, '__proto__', 'constructor'), fc.string({ maxLength: 8 })),
          fc.oneof(badString(known.strings).filter((s) => s.length < 3000), fc.constantFrom('1', '50', '-1', '/app/', 'internal'))), { maxLength: 4 }),
        body: rawBody,
        contentType: fc.constantFrom(...CONTENT_TYPES),
        // Mostly none (a non-browser client); sometimes a foreign origin, which must be refused for writes.
        origin: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('https://evil.example', 'null', system.edgeUrl, base) }),
      });
      await bounded(fc.assert(fc.asyncProperty(c, async (k) => {
        let path = op.path;
        op.params.forEach((name, i) => (path = path.replace(`{${name}}`, encodePath(k.params[i]!))));
        const qs = new URLSearchParams(k.query).toString();
        const url = `${base}${path}${qs ? `?${qs}` : ''}`;
        // Signing out would end the session the other cases use: only nobody does.
        const who = op.path === '/auth/logout' ? 'nobody' : k.who;
        const headers: Record<string, string> = {};
        if (k.body !== undefined && k.contentType) headers['content-type'] = k.contentType;
        if (k.origin) headers.origin = k.origin;
        const what = `${op.method} ${url.slice(0, 300)} as ${who} body ${String(k.body).slice(0, 300)} ${JSON.stringify(headers)}`;
        const session = browsers[who].cookie('mm_session');
        if (session) headers.cookie = `mm_session=${session}`;
        let res: { status: number; type: string; text: string };
        try {
          res = await send(url, op.method, headers, op.method === 'GET' ? undefined : k.body);
        } catch (err) {
          serverErrors.push(`no answer (${(err as Error).message}): ${what}`);
          assert.fail(`no answer (${(err as Error).message}): ${what}`);
        }
        requests++;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const text = res.text;
        if (res.status >= 500) {
          serverErrors.push(`${res.status}: ${what} -> ${text.slice(0, 300)}`);
          assert.fail(`${res.status} for ${what}: ${text.slice(0, 300)}`);
        }
        if (res.status >= 400 && res.type.includes('json')) {
          const e = JSON.parse(text).error;
          assert.ok(typeof e?.code === 'string' && typeof e?.message === 'string' && e.message.length > 0, `error without a message: ${what}: ${text}`);
          if (res.status === 400 && e.code === 'bad_request') assert.ok(e.field || /:/.test(e.message), `400 not naming the field: ${what}: ${text}`);
        } else if (res.status >= 400 && !op.path.startsWith('/auth/') && res.type !== 'connection closed') {
          assert.fail(`API error that is not JSON: ${res.status} ${what}: ${text.slice(0, 200)}`);
        }
      }), { numRuns: FUZZ_RUNS, seed: FUZZ_SEED, endOnFailure: true }));
    }
    assert.deepEqual(serverErrors, []);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await call(browsers.owner, 'GET', '/users/me')).status, 200, 'the owner\'s session survived');
  });
});

