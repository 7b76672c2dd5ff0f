/** Which participants a host command hits, and how: the pure decision behind `/commands`. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandTargets } from '../../edge-node/src/media/host-commands.js';

const present = ['host', 'alice', 'bob'];

describe('commandTargets', () => {
  test('mute, stopVideo, stopScreen and remove hit their target only when present', () => {
    assert.deepEqual(commandTargets({ act: 'mute', target: 'alice' }, present), { targets: ['alice'], effect: { type: 'pause', source: 'mic' } });
    assert.deepEqual(commandTargets({ act: 'stopVideo', target: 'bob' }, present), { targets: ['bob'], effect: { type: 'close', source: 'camera' } });
    assert.deepEqual(commandTargets({ act: 'stopScreen', target: 'bob' }, present).effect, { type: 'close', source: 'screen' });
    assert.deepEqual(commandTargets({ act: 'remove', target: 'alice' }, present), { targets: ['alice'], effect: { type: 'disconnect', reason: 'removed' } });
    assert.deepEqual(commandTargets({ act: 'mute', target: 'carol' }, present).targets, []);
    assert.deepEqual(commandTargets({ act: 'remove', target: 'carol' }, present).targets, []);
  });

  test('muteAll spares the listed participants; end hits everyone present', () => {
    assert.deepEqual(commandTargets({ act: 'muteAll', except: ['host'] }, present).targets, ['alice', 'bob']);
    assert.deepEqual(commandTargets({ act: 'muteAll', except: [] }, present).targets, present);
    assert.deepEqual(commandTargets({ act: 'end' }, present), { targets: present, effect: { type: 'disconnect', reason: 'ended' } });
    assert.deepEqual(commandTargets({ act: 'end' }, []).targets, []);
  });
});
