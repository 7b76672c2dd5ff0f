/** The meeting decisions: the host-control matrix (from the rules table, not from the code), roles, and the join decision. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HOST_CONTROLS, ROLES, TARGETED, canControl, decideJoin, roleOf, screenShareAllowed, type JoinFacts,
} from '../../control/src/meetings/policy.js';
import {
  ACTORS, MEETING_WIDE_TABLE, TARGETED_TABLE, TARGETS, isSelf, roleOfTarget,
} from '../helpers/authorization.js';

describe('host controls: the rules table (tests/helpers/authorization.ts) against the pure policy', () => {
  // One test per actor and control: the policy's row, printed like the table's, must equal it.
  for (const actor of ACTORS) {
    for (const control of Object.keys(TARGETED_TABLE) as Array<keyof typeof TARGETED_TABLE>) {
      test(`${actor} ${control}: targets ${TARGETS.join(' ')} -> ${TARGETED_TABLE[control][actor]}`, () => {
        const row = TARGETS.map((t) => {
          const got = canControl(actor, control, roleOfTarget(t), isSelf(actor, t));
          if (!got.ok) assert.match(got.reason, /\w/, 'a refusal says why');
          return got.ok ? 'Y' : '.';
        }).join('');
        assert.equal(row, TARGETED_TABLE[control][actor]);
        assert.equal(canControl(actor, control, null).ok, false, 'without a target: refused (it names a participant)');
      });
    }
    test(`${actor}, meeting-wide controls`, () => {
      for (const control of Object.keys(MEETING_WIDE_TABLE) as Array<keyof typeof MEETING_WIDE_TABLE>) {
        assert.equal(canControl(actor, control, null).ok, MEETING_WIDE_TABLE[control][actor], `${actor} ${control}`);
      }
    });
  }

  test('the tables cover every control the policy knows', () => {
    assert.deepEqual([...Object.keys(TARGETED_TABLE), ...Object.keys(MEETING_WIDE_TABLE)].sort(), [...HOST_CONTROLS].sort());
    assert.deepEqual([...TARGETED].sort(), Object.keys(TARGETED_TABLE).sort());
    assert.deepEqual([...ACTORS], [...ROLES]);
  });
});

describe('host controls in words', () => {
  test('spot checks in words', () => {
    assert.equal(canControl('host', 'remove', 'participant').ok, true);
    assert.equal(canControl('cohost', 'remove', 'participant').ok, true);
    assert.equal(canControl('cohost', 'remove', 'host').ok, false);
    assert.equal(canControl('cohost', 'end', null).ok, false);
    assert.equal(canControl('host', 'end', null).ok, true);
    assert.equal(canControl('host', 'remove', 'host', true).ok, false);
    assert.equal(canControl('participant', 'mute', 'participant').ok, false);
    assert.equal(canControl('host', 'mute', null).ok, false, 'mute needs a target');
    assert.equal(canControl('host', 'makeCohost', 'cohost').ok, false);
    assert.equal(canControl('cohost', 'admit', 'participant').ok, true);
  });
});

describe('roles', () => {
  const m = { ownerId: 'o', access: 'invited' as const, webinar: false };
  test('the owner is host', () => assert.equal(roleOf(m, 'o', null), 'host'));
  test('an invitee has the invited role', () => assert.equal(roleOf(m, 'u', 'panelist'), 'panelist'));
  test('a stranger to an invitation-only meeting has none', () => assert.equal(roleOf(m, 'u', null), null));
  test('a link meeting admits strangers as participants, or attendees in a webinar', () => {
    assert.equal(roleOf({ ...m, access: 'link' }, 'u', null), 'participant');
    assert.equal(roleOf({ ...m, access: 'link', webinar: true }, 'u', null), 'attendee');
  });
  test('screen share policy', () => {
    assert.equal(screenShareAllowed('participant', 'all'), true);
    assert.equal(screenShareAllowed('participant', 'hosts'), false);
    assert.equal(screenShareAllowed('cohost', 'hosts'), true);
    assert.equal(screenShareAllowed('attendee', 'all'), false);
  });
});

describe('join decision', () => {
  const base: JoinFacts = {
    role: 'participant', status: 'scheduled', locked: false, state: null, waitingRoom: false, hasPasscode: false,
    passcodeOk: true, passcodeLockedOut: false, admittedOthers: 0, maxParticipants: 10,
  };
  const outcome = (f: Partial<JoinFacts>) => {
    const d = decideJoin({ ...base, ...f });
    return d.outcome === 'refuse' ? d.code : d.outcome;
  };
  test('an open meeting admits', () => assert.equal(outcome({}), 'admit'));
  test('ended', () => assert.equal(outcome({ status: 'ended', role: 'host' }), 'meeting_ended'));
  test('removed participants stay out, even from an open meeting', () => assert.equal(outcome({ state: 'removed' }), 'removed'));
  test('denied', () => assert.equal(outcome({ state: 'denied', waitingRoom: true }), 'denied'));
  test('passcode wrong, then locked out', () => {
    assert.equal(outcome({ hasPasscode: true, passcodeOk: false }), 'wrong_passcode');
    assert.equal(outcome({ hasPasscode: true, passcodeOk: false, passcodeLockedOut: true }), 'passcode_locked');
    assert.equal(outcome({ hasPasscode: true, passcodeOk: true }), 'admit');
  });
  test('hosts need no passcode and pass the lock, the waiting room and the cap', () => {
    assert.equal(outcome({ role: 'host', hasPasscode: true, passcodeOk: false, locked: true, waitingRoom: true, admittedOthers: 10 }), 'admit');
    assert.equal(outcome({ role: 'cohost', locked: true, waitingRoom: true }), 'admit');
  });
  test('locked', () => {
    assert.equal(outcome({ locked: true }), 'locked');
    assert.equal(outcome({ locked: true, state: 'admitted' }), 'admit', 'someone already in may rejoin');
  });
  test('full', () => {
    assert.equal(outcome({ admittedOthers: 10 }), 'full');
    assert.equal(outcome({ admittedOthers: 9 }), 'admit');
  });
  test('the waiting room holds, until admitted', () => {
    assert.equal(outcome({ waitingRoom: true }), 'wait');
    assert.equal(outcome({ waitingRoom: true, state: 'waiting' }), 'wait');
    assert.equal(outcome({ waitingRoom: true, state: 'admitted' }), 'admit');
  });
});
