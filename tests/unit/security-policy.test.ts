/**
 * The pure decisions behind the security fixes (issue 6): who may change invitations (defect 4), which writes a
 * browser may send (defect 5), path parameters and NUL characters (defect 6), the CSP (defect 7), cookies behind
 * https, and what a guest may reach (defect 2).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadControlConfig } from '../../control/src/config.js';
import { findNul, isJsonType, parseParams } from '../../control/src/http/api.js';
import { HttpError } from '../../control/src/http/errors.js';
import { guestMayUse } from '../../control/src/http/guest-scope.js';
import { connectSources, contentSecurityPolicy, cspHash, writeAllowed } from '../../control/src/http/security.js';
import { ROLES, canChangeInvitation, type Role } from '../../control/src/meetings/policy.js';

describe('invitations go through the host-control policy', () => {
  test('every actor x current role x new role', () => {
    const targets: Array<Role | null> = [null, ...ROLES];
    const nexts: Array<Role | null> = [null, ...ROLES];
    for (const actor of ROLES) {
      for (const current of targets) {
        for (const next of nexts) {
          const ok = canChangeInvitation(actor, current, next).ok;
          let expected: boolean;
          if (actor !== 'host' && actor !== 'cohost') expected = false;
          else if (next === 'host' || current === 'host') expected = false;
          else if (actor === 'cohost') expected = current !== 'cohost' && next !== 'cohost';
          else expected = true;
          assert.equal(ok, expected, `${actor} changes ${current ?? '(new)'} to ${next ?? '(withdrawn)'}`);
        }
      }
    }
  });
});

describe('state-changing requests from browsers', () => {
  const own = ['https://meet.example'];
  test('same origin, or no browser headers at all, pass', () => {
    assert.deepEqual(writeAllowed({ protocol: 'https:', host: 'meet.example' }, own), { ok: true });
    assert.deepEqual(writeAllowed({ origin: 'https://meet.example', secFetchSite: 'same-origin', protocol: 'http:', host: 'internal:8090' }, own), { ok: true });
    assert.deepEqual(writeAllowed({ origin: 'http://127.0.0.1:8090', protocol: 'http:', host: '127.0.0.1:8090' }, own), { ok: true }, 'its own host');
  });
  test('a sibling origin, another site, null, or a cross-site fetch are refused', () => {
    for (const h of [
      { origin: 'https://edge.meet.example' }, { origin: 'https://evil.example' }, { origin: 'null' },
      { secFetchSite: 'same-site' }, { secFetchSite: 'cross-site' }, { origin: 'https://meet.example', secFetchSite: 'cross-site' },
    ]) assert.equal(writeAllowed({ ...h, protocol: 'https:', host: 'meet.example:443' }, own).ok, false, JSON.stringify(h));
  });
  test('JSON bodies must say so', () => {
    for (const ct of ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/merge-patch+json']) assert.equal(isJsonType(ct), true, ct);
    for (const ct of [undefined, '', 'text/plain', 'text/plain; application/json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/jsonx']) {
      assert.equal(isJsonType(ct), false, String(ct));
    }
  });
});

describe('input at the edge', () => {
  test('path parameters: meeting ids, user ids, feed files; 400 naming the parameter', () => {
    assert.deepEqual(parseParams({ id: 'abc123', userId: '6f1c1e9e-3c2b-4e0a-9a55-0d6c1c1b2a3f' }), { id: 'abc123', userId: '6f1c1e9e-3c2b-4e0a-9a55-0d6c1c1b2a3f' });
    for (const [params, field] of [
      [{ id: 'ĀĀ' }, 'id'], [{ id: 'ABC' }, 'id'], [{ id: 'a\u0000' }, 'id'], [{ id: 'a'.repeat(65) }, 'id'], [{ id: '' }, 'id'],
      [{ id: 'abc', userId: 'nope' }, 'userId'], [{ participantId: '1 OR 1=1' }, 'participantId'], [{ file: '../x.ics' }, 'file'],
      [{ other: 'a b' }, 'other'], [{ other: '\u0000' }, 'other'],
    ] as const) {
      assert.throws(() => parseParams(params as Record<string, string>), (e: HttpError) => e.status === 400 && e.field === field, JSON.stringify(params));
    }
  });
  test('NUL anywhere in a body or query, keys included, is found with its path', () => {
    assert.equal(findNul({ a: 'x', b: [1, 'y', { c: null }] }), null);
    assert.deepEqual(findNul({ title: 'a\u0000' }), ['title']);
    assert.deepEqual(findNul({ invitees: [{ email: 'ok' }, { email: '\u0000' }] }), ['invitees', '1', 'email']);
    assert.deepEqual(findNul({ ['k\u0000']: 1 }), ['k\u0000']);
    assert.deepEqual(findNul('\u0000'), []);
  });
});

describe('headers and cookies', () => {
  test('the CSP: own scripts and styles only (plus hashed inline styles), no framing, the edge nodes for signalling', () => {
    const csp = contentSecurityPolicy({ connect: connectSources('https://edge.example:8443/x'), styleHashes: [cspHash('body{}')] });
    assert.match(csp, /script-src 'self';/);
    assert.match(csp, /style-src 'self' 'sha256-[A-Za-z0-9+/]+=*';/);
    assert.match(csp, /connect-src 'self' https:\/\/edge\.example:8443 wss:\/\/edge\.example:8443;/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe/);
  });
  test('cookies are Secure when the public URL is https, unless turned off; "false" means false', () => {
    assert.equal(loadControlConfig({}, { publicUrl: 'https://meet.example' }).secureCookies, true);
    assert.equal(loadControlConfig({}, { publicUrl: 'http://localhost:8090' }).secureCookies, false);
    assert.equal(loadControlConfig({ CONTROL_SECURE_COOKIES: 'false' }, { publicUrl: 'https://meet.example' }).secureCookies, false);
    assert.equal(loadControlConfig({ CONTROL_SECURE_COOKIES: 'true' }).secureCookies, true);
  });
});

describe('a guest reaches only their meeting', () => {
  test('allowed and refused', () => {
    const m = 'abc123';
    for (const [method, path] of [
      ['GET', `/meetings/${m}`], ['POST', `/meetings/${m}/join`], ['GET', `/meetings/${m}/join`], ['GET', `/meetings/${m}/participants`],
      ['GET', `/meetings/${m}/chat`], ['POST', `/meetings/${m}/chat`], ['GET', `/meetings/${m}/chat/live`], ['POST', `/meetings/${m}/guests`],
      ['GET', '/auth/me'], ['POST', '/auth/logout'], ['GET', '/app/'], ['GET', '/join/'], ['GET', '/auth/login'],
    ]) assert.equal(guestMayUse(method!, path!, m), true, `${method} ${path}`);
    for (const [method, path] of [
      ['POST', '/meetings'], ['GET', '/meetings'], ['GET', '/meetings/other1'], ['POST', '/meetings/other1/join'], ['PATCH', `/meetings/${m}`],
      ['DELETE', `/meetings/${m}`], ['POST', `/meetings/${m}/controls`], ['GET', `/meetings/${m}/invitees`], ['POST', `/meetings/${m}/invitees`],
      ['GET', `/meetings/${m}/invite.ics`], ['GET', `/meetings/${m}x/join`], ['GET', '/users/me'], ['GET', '/users/search'],
      ['POST', '/users/me/contacts'], ['POST', '/calendar/feed'],
    ]) assert.equal(guestMayUse(method!, path!, m), false, `${method} ${path}`);
  });
});
