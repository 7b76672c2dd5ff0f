import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';
import { explainClose, explainDeviceError, explainJoinError } from '../../web/src/messages.js';

/** A sentence: starts with a capital, ends with a full stop, and shows no raw code or error name. */
function sentence(s: string, where: string): void {
  assert.match(s, /^[A-Z]/, `${where}: "${s}"`);
  assert.match(s, /[.!]$/, `${where}: "${s}"`);
  assert.doesNotMatch(s, /\b4\d\d\d\b|Error\b|undefined|null/, `${where}: raw code in "${s}"`);
}

describe('error wording', () => {
  test('every close code the node sends is a titled sentence with what to do next', () => {
    const codes = Object.values(CloseCodes).filter((c) => c >= 4000);
    const titles = new Set<string>();
    for (const code of codes) {
      const e = explainClose({ code, reason: 'token expired' });
      assert.match(e.title, /^[A-Z][^.]*[a-z]$/, `title of ${code}`);
      sentence(e.detail, `close ${code}`);
      titles.add(e.title);
    }
    assert.equal(titles.size, codes.length, 'each close code has its own words');
  });

  test('the cases people meet: expired link, removed, ended, replaced, restarting', () => {
    assert.match(explainClose({ code: CloseCodes.unauthorized, reason: 'token expired' }).detail, /ask the host for a new link/i);
    assert.equal(explainClose({ code: CloseCodes.unauthorized }).canRejoin, false);
    assert.match(explainClose({ code: CloseCodes.removed }).title, /removed/);
    assert.equal(explainClose({ code: CloseCodes.removed }).canRejoin, false);
    assert.match(explainClose({ code: CloseCodes.meetingEnded }).title, /ended/);
    assert.match(explainClose({ code: CloseCodes.replaced }).detail, /another tab/);
    assert.equal(explainClose({ code: CloseCodes.nodeShutdown }).canRejoin, true);
    assert.match(explainClose({ code: 1006 }).detail, /online/);
    sentence(explainClose({ code: 4999, reason: '' }).detail, 'unknown code');
  });

  test('device errors say what happened and what to do', () => {
    assert.match(explainDeviceError({ name: 'NotAllowedError' }), /blocked.*allow access/);
    assert.match(explainDeviceError({ name: 'NotReadableError' }, 'camera'), /camera is in use by another app/);
    assert.match(explainDeviceError({ name: 'NotFoundError' }, 'microphone'), /No microphone was found/);
    for (const name of ['NotAllowedError', 'NotFoundError', 'NotReadableError', 'OverconstrainedError', 'SecurityError', 'AbortError', 'TypeError', 'Weird']) {
      sentence(explainDeviceError({ name }), name);
    }
    sentence(explainDeviceError(undefined), 'no error');
  });

  test('join errors: full, locked, expired, not invited, network', () => {
    assert.match(explainJoinError({ code: 'full', status: 403 }), /meeting is full/);
    assert.match(explainJoinError({ code: 'locked', status: 403 }), /locked/);
    assert.match(explainJoinError({ code: 'not_found', status: 404 }), /not invited.*anyone with the link/);
    assert.match(explainJoinError({ code: 'network', status: 0 }), /online/);
    assert.match(explainJoinError({ code: 'closed', message: 'connection closed (4401 token expired)' }), /expired.*new link/);
    for (const code of ['full', 'locked', 'meeting_ended', 'removed', 'denied', 'wrong_passcode', 'passcode_locked', 'rate_limited', 'not_found', 'network', 'timeout', 'unsupported_version']) {
      sentence(explainJoinError({ code }), code);
    }
    sentence(explainJoinError({ code: 'x', status: 503 }), '503');
    sentence(explainJoinError({ message: 'boom' }), 'plain');
  });
});
