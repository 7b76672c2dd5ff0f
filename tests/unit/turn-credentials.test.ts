/** TURN REST credentials: username `<expiry>:<participant>`, password base64(HMAC-SHA1(secret, username)). */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { iceServersFor, parseTurnUrls, turnPassword } from '../../control/src/turn/credentials.js';

const settings = { urls: ['turns:turn.example.com:443?transport=tcp'], secret: 'shared-secret-0123456789', ttlSeconds: 3600 };

test('the username carries the expiry and the participant; the password is the HMAC coturn recomputes', () => {
  const [server] = iceServersFor(settings, 'p-1', 1_700_000_000_500);
  assert.ok(server);
  assert.equal(server.username, '1700003600:p-1');
  assert.equal(server.credential, createHmac('sha1', settings.secret).update('1700003600:p-1').digest('base64'));
  assert.deepEqual(server.urls, settings.urls);
});

test('known vector: base64 HMAC-SHA1', () => {
  // echo -n '1234567890:alice' | openssl dgst -sha1 -hmac secret -binary | base64
  assert.equal(turnPassword('secret', '1234567890:alice'), 'yV/uOCROwSMIHIR10ELJMfC1ch0=');
});

test('another secret or another participant gives another password; no secret ever appears', () => {
  const a = iceServersFor(settings, 'p-1', 0)[0]!;
  const b = iceServersFor({ ...settings, secret: 'another-secret-0123456789' }, 'p-1', 0)[0]!;
  const c = iceServersFor(settings, 'p-2', 0)[0]!;
  assert.notEqual(a.credential, b.credential);
  assert.notEqual(a.credential, c.credential);
  assert.ok(!JSON.stringify(a).includes(settings.secret));
});

test('a colon in a participant id cannot move the expiry', () => {
  assert.equal(iceServersFor(settings, 'x:99999999999', 0)[0]!.username, '3600:x_99999999999');
});

test('no TURN configured: no ICE servers', () => {
  assert.deepEqual(iceServersFor(null, 'p', 0), []);
  assert.deepEqual(iceServersFor({ ...settings, urls: [] }, 'p', 0), []);
});

test('TURN_URLS must be turn: or turns: URLs', () => {
  assert.deepEqual(parseTurnUrls('turn:a:3478?transport=udp, turns:a:443?transport=tcp'), ['turn:a:3478?transport=udp', 'turns:a:443?transport=tcp']);
  assert.deepEqual(parseTurnUrls(''), []);
  assert.throws(() => parseTurnUrls('http://a'), /not a turn/);
});
