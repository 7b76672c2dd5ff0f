/** Password hashing of the identity module: scrypt, per-user salt, self-describing format, constant-time verify. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SCRYPT, hashPassword, parsePasswordHash, verifyPassword } from '../../control/src/secrets.js';

test('a hash verifies its password and no other', async () => {
  const stored = await hashPassword('correct horse battery staple');
  assert.match(stored, /^scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifyPassword('correct horse battery staple', stored), true);
  assert.equal(await verifyPassword('correct horse battery stapl', stored), false);
  assert.equal(await verifyPassword('Correct horse battery staple', stored), false);
  assert.equal(await verifyPassword('', stored), false);
});

test('the same password hashes differently each time (per-user salt)', async () => {
  const a = await hashPassword('same password here');
  const b = await hashPassword('same password here');
  assert.notEqual(a, b);
  assert.notEqual(parsePasswordHash(a)!.salt.toString('hex'), parsePasswordHash(b)!.salt.toString('hex'));
  assert.equal(await verifyPassword('same password here', b), true);
});

test('the parameters travel with the hash: a cheaper or dearer hash still verifies', async () => {
  const cheap = await hashPassword('parameters travel', { ln: 12, r: 8, p: 1 });
  assert.match(cheap, /^scrypt\$ln=12,r=8,p=1\$/);
  assert.equal(await verifyPassword('parameters travel', cheap), true);
  assert.deepEqual({ ln: DEFAULT_SCRYPT.ln, r: DEFAULT_SCRYPT.r, p: DEFAULT_SCRYPT.p }, { ln: 15, r: 8, p: 1 });
});

test('unicode passwords are normalized (NFC) before hashing', async () => {
  const stored = await hashPassword('caf\u00e9 au lait!');
  assert.equal(await verifyPassword('cafe\u0301 au lait!', stored), true);
});

test('a malformed, foreign or missing hash never verifies and never throws', async () => {
  const good = await hashPassword('some password 123');
  const [, params, salt, hash] = good.split('$');
  const bad = [
    '',
    'plain text password',
    '$2b$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234', // bcrypt
    `scrypt$${params}$${salt}`, // no hash
    `scrypt$ln=40,r=8,p=1$${salt}$${hash}`, // absurd cost
    `scrypt$ln=15,r=0,p=1$${salt}$${hash}`,
    `scrypt$ln=15,r=8,p=1$${salt}$!!!not-base64!!!`,
    `scrypt$ln=15,r=8,p=1$${salt}$${hash!.slice(0, 10)}`, // truncated
    `argon2$${params}$${salt}$${hash}`,
    `${good}$extra`,
  ];
  for (const stored of bad) {
    assert.equal(parsePasswordHash(stored), null, stored);
    assert.equal(await verifyPassword('some password 123', stored), false, stored);
  }
  assert.equal(await verifyPassword('some password 123', null), false);
  assert.equal(await verifyPassword('some password 123', undefined), false);
});

test('a very long wrong password is simply wrong', async () => {
  const stored = await hashPassword('x'.repeat(10));
  assert.equal(await verifyPassword('y'.repeat(1000), stored), false);
});
