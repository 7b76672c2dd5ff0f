import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deviceChoices } from '../../web/src/devices.js';

describe('device pickers', () => {
  test('one option per device of the kind, numbered when the browser hides labels, no duplicates', () => {
    const devices = [
      { deviceId: 'a', kind: 'videoinput', label: 'Front camera' },
      { deviceId: 'b', kind: 'videoinput', label: '' },
      { deviceId: 'b', kind: 'videoinput', label: '' },
      { deviceId: 'm', kind: 'audioinput', label: '' },
      { deviceId: '', kind: 'audioinput', label: '' },
      { deviceId: 's', kind: 'audiooutput', label: 'Headphones' },
    ];
    assert.deepEqual(deviceChoices(devices, 'videoinput'), [{ id: 'a', label: 'Front camera' }, { id: 'b', label: 'Camera 2' }]);
    assert.deepEqual(deviceChoices(devices, 'audioinput'), [{ id: 'm', label: 'Microphone 1' }]);
    assert.deepEqual(deviceChoices(devices, 'audiooutput'), [{ id: 's', label: 'Headphones' }]);
    assert.deepEqual(deviceChoices([], 'videoinput'), []);
  });
});
