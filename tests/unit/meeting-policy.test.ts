/** The meeting decisions, exhaustively: the host-control matrix, roles, and the join decision. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  HOST_CONTROLS, ROLES, TARGETED, canControl, decideJoin, roleOf, screenShareAllowed, type HostControl, type JoinFacts, type Role,
} from '../../control/src/meetings/policy.js';

/** The specification, written out as a table: may ACTOR use CONTROL on a participant whose role is TARGET? */
function expected(actor: Role, control: HostControl, target: Role | null, self: boolean): boolean {
  if (actor !== 'host' && actor !== 'cohost') return false;
  if (TARGETED.has(control) && target === null) return false;
  if (self && ['remove', 'deny', 'makeCohost'].includes(control)) return false;
  if (actor === 'cohost') {
    if (control === 'end' || control === 'makeCohost') return false;
    if (target && !self && (target === 'host' || target === 'cohost')) return false;
  } else if (target === 'host' && !self && control !== 'mute') return false;
  if (control === 'makeCohost' && (target === 'host' || target === 'cohost')) return false;
  return true;
}

describe('host controls: every role x every control x every target', () => {
  for (const actor of ROLES) {
    test(`as ${actor}`, () => {
      let allowed = 0;
      for (const control of HOST_CONTROLS) {
        const targets: Array<Role | null> = TARGETED.has(control) ? [...ROLES] : [null];
        for (const target of targets) {
          for (const self of target === null ? [false] : [false, true]) {
            const got = canControl(actor, control, target, self);
            assert.equal(got.ok, expected(actor, control, target, self), `${actor} ${control} ${target ?? '-'}${self ? ' (self)' : ''}`);
            if (got.ok) allowed++;
            else assert.ok(got.reason.length > 0);
          }
        }
      }
      if (actor === 'panelist' || actor === 'participant' || actor === 'attendee') assert.equal(allowed, 0);
      else assert.ok(allowed > 0);
    });
  }

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
