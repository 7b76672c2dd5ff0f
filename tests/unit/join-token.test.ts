import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as jose from 'jose';
import { JoinTokenVerifier, checkClaims } from '../../edge-node/src/auth/join-token.js';
import { loadDevKeys, mintJoinToken, type DevKeys } from '../../edge-node/src/auth/dev-keys.js';

const now = 1_800_000_000;
const claims = (o: Record<string, unknown> = {}) => ({
  sub: 'p1', mtg: 'm1', name: 'Ann', role: 'participant', iss: 'x', aud: 'meshmeet-edge', iat: now - 10, exp: now + 600, ...o,
});

describe('join token claims', () => {
  test('valid claims pass', () => {
    const r = checkClaims(claims(), 'm1', now);
    assert.equal(r.ok, true);
  });
  test('expired', () => assert.deepEqual(checkClaims(claims({ exp: now }), 'm1', now), { ok: false, reason: 'expired', message: 'token expired' }));
  test('another meeting', () => assert.equal((checkClaims(claims(), 'm2', now) as { reason: string }).reason, 'wrong_meeting'));
  test('a lifetime over an hour', () => assert.equal((checkClaims(claims({ exp: now + 7200 }), 'm1', now) as { reason: string }).reason, 'invalid'));
  test('a missing name is named', () => {
    const r = checkClaims(claims({ name: undefined }), 'm1', now);
    assert.equal(r.ok, false);
    assert.match((r as { message: string }).message, /name/);
  });
  test('an unknown role', () => assert.equal(checkClaims(claims({ role: 'god' }), 'm1', now).ok, false));
});

describe('join token verification (ES256 against a JWKS file)', () => {
  let dir: string;
  let keys: DevKeys;
  let verifier: JoinTokenVerifier;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-keys-'));
    keys = await loadDevKeys(dir);
    verifier = await JoinTokenVerifier.create(keys.jwksPath);
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  test('a token from the key verifies and carries its claims', async () => {
    const token = await mintJoinToken(keys, { meetingId: 'm1', participantId: 'p1', name: 'Ann', role: 'host' });
    const r = await verifier.verify(token, 'm1');
    assert.equal(r.ok, true);
    assert.equal((r as { claims: { role: string } }).claims.role, 'host');
  });
  test('the key is reused across loads', async () => {
    const again = await loadDevKeys(dir);
    assert.equal(again.kid, keys.kid);
  });
  test('missing', async () => assert.equal((await verifier.verify(undefined, 'm1') as { reason: string }).reason, 'missing'));
  test('garbage', async () => assert.equal((await verifier.verify('a.b.c', 'm1') as { reason: string }).reason, 'invalid'));
  test('expired', async () => {
    const token = await mintJoinToken(keys, { meetingId: 'm1', participantId: 'p', name: 'n', issuedAt: Math.floor(Date.now() / 1000) - 1000, ttlSeconds: 60 });
    assert.equal((await verifier.verify(token, 'm1') as { reason: string }).reason, 'expired');
  });
  test('another key', async () => {
    const other = await loadDevKeys(path.join(dir, 'other'));
    const token = await mintJoinToken(other, { meetingId: 'm1', participantId: 'p', name: 'n' });
    assert.equal((await verifier.verify(token, 'm1') as { reason: string }).reason, 'invalid');
  });
  test('the wrong audience', async () => {
    const token = await new jose.SignJWT({ mtg: 'm1', name: 'n', role: 'host' })
      .setProtectedHeader({ alg: 'ES256', kid: keys.kid }).setSubject('p').setIssuer('x').setAudience('someone-else')
      .setIssuedAt().setExpirationTime('5m').sign(keys.privateKey);
    assert.equal((await verifier.verify(token, 'm1') as { reason: string }).reason, 'invalid');
  });
  test('an unsigned token (alg none)', async () => {
    const token = new jose.UnsecuredJWT({ mtg: 'm1', name: 'n', role: 'host', sub: 'p', aud: 'meshmeet-edge' }).setIssuedAt().setExpirationTime('5m').encode();
    assert.equal((await verifier.verify(token, 'm1') as { reason: string }).reason, 'invalid');
  });
  test('the expected issuer is enforced when configured', async () => {
    const strict = await JoinTokenVerifier.create(keys.jwksPath, 'https://control.example');
    const token = await mintJoinToken(keys, { meetingId: 'm1', participantId: 'p', name: 'n' });
    assert.equal((await strict.verify(token, 'm1') as { reason: string }).reason, 'invalid');
  });
  test('several JWKS sources: a token from either verifies, a third key does not', async () => {
    const second = await loadDevKeys(path.join(dir, 'second'));
    const third = await loadDevKeys(path.join(dir, 'third'));
    const both = await JoinTokenVerifier.create(`${keys.jwksPath}, ${second.jwksPath}`);
    for (const k of [keys, second]) {
      assert.equal((await both.verify(await mintJoinToken(k, { meetingId: 'm1', participantId: 'p', name: 'n' }), 'm1')).ok, true);
    }
    const r = await both.verify(await mintJoinToken(third, { meetingId: 'm1', participantId: 'p', name: 'n' }), 'm1');
    assert.equal((r as { reason: string }).reason, 'invalid');
  });
  test('an empty JWKS file is a start-up error', async () => {
    const f = path.join(dir, 'empty.json');
    await fs.writeFile(f, '{"keys":[]}');
    await assert.rejects(JoinTokenVerifier.create(f), /no keys/);
  });
});
