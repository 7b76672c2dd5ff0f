/** `returnTo` after sign-in: paths on this origin only, never an open redirect. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeReturnTo } from '../../control/src/identity/return-to.js';

test('same-origin paths pass, with query and fragment', () => {
  assert.equal(safeReturnTo('/'), '/');
  assert.equal(safeReturnTo('/meetings/42'), '/meetings/42');
  assert.equal(safeReturnTo('/meetings/42?tab=chat&x=1#end'), '/meetings/42?tab=chat&x=1#end');
  assert.equal(safeReturnTo('/app/'), '/app/');
  assert.equal(safeReturnTo('/a/../b'), '/b'); // normalized, still here
  assert.equal(safeReturnTo('/%2F%2Fevil.example'), '/%2F%2Fevil.example'); // an encoded path, not a host
});

test('anything that could leave the origin falls back', () => {
  const bad = [
    'https://evil.example/',
    'http://evil.example',
    '//evil.example/path',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    '/\\/evil.example',
    'javascript:alert(1)',
    'data:text/html,hi',
    'evil.example',
    ' /leading-space',
    '/\t/evil.example',
    '/\n/evil.example',
    '/path\u0000',
    'meetings/42',
    '',
    '/' + 'a'.repeat(3000),
  ];
  for (const v of bad) assert.equal(safeReturnTo(v), '/', JSON.stringify(v));
});

test('dot segments that collapse into //host fall back (security defect 3)', () => {
  for (const v of ['/..//evil.com', '/.//evil.com', '/a/../..//evil.com', '/./..//evil.com/x?y#z', '/%2e%2e//evil.com', '/%2e//evil.com']) {
    const out = safeReturnTo(v);
    assert.equal(out, '/', JSON.stringify(v));
    // Whatever comes out, a browser resolving it against our origin stays on our origin.
    assert.equal(new URL(out, 'https://meet.example').origin, 'https://meet.example');
  }
});

test('missing values and a custom fallback', () => {
  assert.equal(safeReturnTo(undefined), '/');
  assert.equal(safeReturnTo(null), '/');
  assert.equal(safeReturnTo('//evil.example', '/app/'), '/app/');
  assert.equal(safeReturnTo(undefined, '/app/'), '/app/');
});
