/**
 * The authorization matrix over HTTP: every state-changing meeting route (host controls, PATCH and DELETE of the
 * meeting, the invitee routes), by every role, on every kind of target, in one's own meeting and in someone else's,
 * against the real control plane (real PostgreSQL, a real edge node, users signed in through the real OIDC flow).
 * The expected outcome comes from the rules table in tests/helpers/authorization.ts, never from the code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HOST_CONTROLS } from '../../control/src/meetings/policy.js';
import {
  ACTORS, INVITEE_ROLES, MEETING_TABLE, MEETING_WIDE_TABLE, TARGETED_TABLE, TARGETS,
  inviteNew, reinvite, roleOfTarget, targeted, uninvite, type Actor, type Target,
} from '../helpers/authorization.js';
import { type Browser, signedIn } from '../helpers/http-browser.js';
import { startSystem, type TestSystem } from '../helpers/system.js';

type Person = Target | 'outsider' | 'newcomer';
const PEOPLE: Person[] = [...TARGETS, 'outsider', 'newcomer'];
const INVITEES = TARGETS.filter((t): t is Exclude<Target, 'host'> => t !== 'host');

let system: TestSystem;
let base: string;
const as: Partial<Record<Person, Browser>> = {};
const ids: Partial<Record<Person, string>> = {};
const email = (p: Person) => `${p}@matrix.test`;
const who = (p: Person) => as[p]!;

async function call(p: Person, method: string, path: string, body?: unknown) {
  return who(p).json(method, `${base}${path}`, body);
}

/** A live invitation-only meeting of `host` with every target invited with its role and joined (or waiting). */
async function meetingWithEveryone(settings: Record<string, unknown> = {}): Promise<string> {
  const created = await call('host', 'POST', '/meetings', {
    kind: 'instant', title: 'matrix', settings: { access: 'invited', ...settings },
    invitees: INVITEES.map((t) => ({ email: email(t), role: roleOfTarget(t) })),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;
  for (const t of TARGETS) {
    const joined = await call(t, 'POST', `/meetings/${id}/join`, {});
    assert.ok(joined.status === 200 || joined.status === 202, `${t} joins: ${joined.status} ${JSON.stringify(joined.body)}`);
  }
  return id;
}

/** The HTTP status a host control must get, from the rules table and the target's state. */
function expectedControl(actor: Actor, control: (typeof HOST_CONTROLS)[number], target: Target | null, waiting: boolean): number {
  if (target === null) return MEETING_WIDE_TABLE[control as keyof typeof MEETING_WIDE_TABLE][actor] ? 200 : 403;
  if (!targeted(control as keyof typeof TARGETED_TABLE, actor, target)) return 403;
  // admit and deny act on the waiting room: someone already in is a conflict, not a permission question.
  if ((control === 'admit' || control === 'deny') && !waiting) return 409;
  return 200;
}

/** The role the target's invitation has now (null: not invited), as the host sees it. */
async function invitedRole(meetingId: string, p: Person): Promise<string | null> {
  const list = await call('host', 'GET', `/meetings/${meetingId}/invitees`);
  assert.equal(list.status, 200);
  return (list.body.invitees as Array<{ userId: string; role: string }>).find((i) => i.userId === ids[p])?.role ?? null;
}

describe('authorization matrix over HTTP', { timeout: 600_000 }, () => {
  before(async () => {
    // Every join here comes from 127.0.0.1: the join rate limit is not what this file tests.
    system = await startSystem({ control: { joinRateBurst: 100_000, joinRatePerSecond: 1000 } });
    base = system.controlUrl;
    for (const p of PEOPLE) {
      as[p] = await signedIn(base, email(p), `${p}-password-123`, `The ${p}`);
      ids[p] = (await call(p, 'GET', '/users/me')).body.id;
    }
  });
  after(async () => system?.stop());

  describe('host controls, in one\'s own meeting', () => {
    for (const actor of ACTORS) {
      const powerless = actor !== 'host' && actor !== 'cohost';
      // Refusals change nothing, so a powerless actor tries everything in one meeting; hosts get a fresh meeting a control.
      let shared: string | undefined;
      for (const control of HOST_CONTROLS) {
        const isTargeted = control in TARGETED_TABLE;
        const row = isTargeted ? TARGETS.map((t) => expectedControl(actor, control, t, false)) : [expectedControl(actor, control, null, false)];
        test(`${actor} ${control}${isTargeted ? ` on ${TARGETS.join(', ')}` : ''}`, async () => {
          const waitingRoom = control === 'admit' || control === 'deny';
          const id = powerless ? (shared ??= await meetingWithEveryone({ waitingRoom: true })) : await meetingWithEveryone({ waitingRoom });
          const waiting = (t: Target) => (powerless || waitingRoom) && roleOfTarget(t) !== 'host' && roleOfTarget(t) !== 'cohost';
          const want = isTargeted ? TARGETS.map((t) => expectedControl(actor, control, t, waiting(t))) : row;
          const got: number[] = [];
          for (const t of isTargeted ? TARGETS : [null]) {
            const r = await call(actor, 'POST', `/meetings/${id}/controls`, { action: control, ...(t ? { participantId: ids[t] } : {}) });
            got.push(r.status);
          }
          assert.deepEqual(got, want);
        });
      }
    }
  });

  describe('the meeting itself: PATCH and DELETE', () => {
    for (const actor of ACTORS) {
      test(`${actor}: update ${MEETING_TABLE.update[actor] ? 'allowed' : 'refused'}, delete ${MEETING_TABLE.delete[actor] ? 'allowed' : 'refused'}`, async () => {
        const id = await meetingWithEveryone();
        const patched = await call(actor, 'PATCH', `/meetings/${id}`, { title: `renamed by ${actor}` });
        assert.equal(patched.status, MEETING_TABLE.update[actor] ? 200 : 403);
        const title = (await call('host', 'GET', `/meetings/${id}`)).body.title;
        assert.equal(title, MEETING_TABLE.update[actor] ? `renamed by ${actor}` : 'matrix');
        const deleted = await call(actor, 'DELETE', `/meetings/${id}`);
        assert.equal(deleted.status, MEETING_TABLE.delete[actor] ? 204 : 403);
        assert.equal((await call('host', 'GET', `/meetings/${id}`)).status, MEETING_TABLE.delete[actor] ? 404 : 200);
      });
    }
  });

  describe('invitee routes', () => {
    for (const actor of ACTORS) {
      describe(`as ${actor}`, () => {
        let id: string;
        before(async () => {
          id = await meetingWithEveryone();
        });
        /**
         * The host puts the target's invitation back as it was (or withdraws the newcomer's), and the actor's own, so
         * that a case that wrongly succeeded (a co-host withdrawing itself) cannot spoil the next ones.
         */
        const restore = async (t: Person) => {
          if (actor !== 'host' && t !== actor) await restoreOne(actor);
          await restoreOne(t);
        };
        const restoreOne = async (t: Person) => {
          if (t === 'newcomer') {
            const r = await call('host', 'DELETE', `/meetings/${id}/invitees/${ids.newcomer}`);
            assert.ok(r.status === 204 || r.status === 404);
          } else {
            assert.equal((await call('host', 'POST', `/meetings/${id}/invitees`, { email: email(t), role: roleOfTarget(t as Target) })).status, 204);
          }
        };

        for (const role of INVITEE_ROLES) {
          const want = inviteNew(actor, role);
          test(`${actor} invites a new user as ${role}: ${want ? 'allowed' : 'refused'}`, async () => {
            await restore('newcomer');
            const r = await call(actor, 'POST', `/meetings/${id}/invitees`, { email: email('newcomer'), role });
            assert.equal(r.status, want ? 204 : 403);
            assert.equal(await invitedRole(id, 'newcomer'), want ? role : null);
          });
        }
        for (const target of INVITEES) {
          for (const role of INVITEE_ROLES) {
            const want = reinvite(actor, target, role);
            test(`${actor} re-invites the ${target}${target === actor ? ' (self)' : ''} as ${role}: ${want ? 'allowed' : 'refused'}`, async () => {
              await restore(target);
              const r = await call(actor, 'POST', `/meetings/${id}/invitees`, { email: email(target), role });
              assert.equal(r.status, want ? 204 : 403);
              assert.equal(await invitedRole(id, target), want ? role : roleOfTarget(target));
            });
          }
          const want = uninvite(actor, target);
          test(`${actor} withdraws the ${target}'s invitation${target === actor ? ' (self)' : ''}: ${want ? 'allowed' : 'refused'}`, async () => {
            await restore(target);
            const r = await call(actor, 'DELETE', `/meetings/${id}/invitees/${ids[target]}`);
            assert.equal(r.status, want ? 204 : 403);
            assert.equal(await invitedRole(id, target), want ? null : roleOfTarget(target));
          });
        }
      });
    }
  });

  describe('someone else\'s meeting: 404 for every route, whatever one\'s role elsewhere', () => {
    test('a stranger on a meeting with everyone else in it', async () => {
      const id = await meetingWithEveryone();
      const statuses = await everyRoute('outsider', id);
      assert.deepEqual(statuses, statuses.map((s) => ({ ...s, status: 404 })));
    });
    test('hosts, co-hosts and the others of one meeting on the stranger\'s own meeting', async () => {
      const created = await call('outsider', 'POST', '/meetings', { kind: 'instant', title: 'not yours', settings: { access: 'invited' } });
      assert.equal(created.status, 201);
      assert.equal((await call('outsider', 'POST', `/meetings/${created.body.id}/join`, {})).status, 200);
      for (const actor of ACTORS) {
        const statuses = await everyRoute(actor, created.body.id);
        assert.deepEqual(statuses, statuses.map((s) => ({ ...s, status: 404 })), actor);
      }
      assert.equal((await call('outsider', 'GET', `/meetings/${created.body.id}`)).body.title, 'not yours');
    });
  });
});

/** Every state-changing meeting route, tried by `p` on meeting `id` (targets: its owner and the newcomer). */
async function everyRoute(p: Person, id: string): Promise<Array<{ route: string; status: number }>> {
  const out: Array<{ route: string; status: number }> = [];
  const tryIt = async (route: string, method: string, path: string, body?: unknown) =>
    out.push({ route, status: (await call(p, method, path, body)).status });
  for (const control of HOST_CONTROLS) {
    await tryIt(`controls ${control}`, 'POST', `/meetings/${id}/controls`, { action: control, ...(control in TARGETED_TABLE ? { participantId: ids.host } : {}) });
  }
  await tryIt('PATCH', 'PATCH', `/meetings/${id}`, { title: 'mine now' });
  await tryIt('invite', 'POST', `/meetings/${id}/invitees`, { email: email('newcomer'), role: 'cohost' });
  await tryIt('uninvite', 'DELETE', `/meetings/${id}/invitees/${ids.host}`);
  await tryIt('DELETE', 'DELETE', `/meetings/${id}`);
  return out;
}
