/**
 * Meetings against real PostgreSQL and a real edge node: host controls in someone else's meeting, join (passcode
 * lockout, lock and unlock, capacity, waiting room), removal, and privacy of invitation-only meetings. (The full
 * authorization matrix, from the rules table, runs over HTTP in authorization.test.ts.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { migrate } from '../../control/src/db/migrate.js';
import type { AuthUser } from '../../control/src/http/context.js';
import { HttpError } from '../../control/src/http/errors.js';
import { KeyStore } from '../../control/src/keys.js';
import { EdgeClient } from '../../control/src/meetings/edge-client.js';
import { HOST_CONTROLS, ROLES, TARGETED } from '../../control/src/meetings/policy.js';
import { Settings } from '../../control/src/meetings/schemas.js';
import { Meetings } from '../../control/src/meetings/service.js';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';
import { startEdge, type TestEdge } from '../helpers/edge.js';
import { dropDatabase, freshDatabase, postgres, type PostgresService } from '../helpers/services.js';
import { joinAs } from '../helpers/ws-client.js';

let service: PostgresService;
let dbUrl: string;
let pool: pg.Pool;
let edge: TestEdge;
let meetings: Meetings;
let jwksDir: string;
const users: Record<string, AuthUser> = {};

async function user(name: string): Promise<AuthUser> {
  const { rows } = await pool.query<{ id: string }>(
    'INSERT INTO users (email, display_name) VALUES ($1, $2) RETURNING id', [`${name}-${Math.random().toString(36).slice(2)}@example.test`, name]);
  return { id: rows[0]!.id, email: `${name}@example.test`, displayName: name };
}

const status = (p: Promise<unknown>) => p.then(() => 200, (e: unknown) => (e instanceof HttpError ? e.status : Promise.reject(e)));

/** A live meeting owned by `host` where every role is present and admitted. */
async function meetingWithEveryone(settings: Partial<ReturnType<typeof Settings.parse>> = {}) {
  const invitees = (['cohost', 'panelist', 'participant', 'attendee'] as const).map((role) => ({ email: '', role }));
  const m = await meetings.create(users.host!, { kind: 'instant', title: 'matrix', settings: Settings.parse({ ...settings }), invitees: [] });
  for (const inv of invitees) {
    await pool.query('INSERT INTO meeting_members (meeting_id, user_id, role) VALUES ($1, $2, $3)', [m.id, users[inv.role]!.id, inv.role]);
  }
  for (const role of ROLES) await meetings.join(users[role]!, m.id, undefined, `ip|${role}`);
  return m.id;
}

describe('meetings', { timeout: 300_000 }, () => {
  before(async () => {
    service = await postgres();
    dbUrl = await freshDatabase(service.url);
    pool = new pg.Pool({ connectionString: dbUrl, max: 5 });
    await migrate(pool);
    const keys = new KeyStore(pool, 'join');
    await keys.current();
    jwksDir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-jwks-'));
    const jwks = path.join(jwksDir, 'jwks.json');
    await fs.writeFile(jwks, JSON.stringify(await keys.jwks()));
    edge = await startEdge({ workers: 1, jwks });
    meetings = new Meetings(pool, new EdgeClient(keys, 'http://control.test', edge.url, 300), 'http://control.test');
    for (const r of [...ROLES, 'outsider', 'other']) users[r] = await user(r);
  });
  after(async () => {
    await edge?.stop();
    await pool?.end();
    if (dbUrl) await dropDatabase(dbUrl);
    await service?.stop();
    await fs.rm(jwksDir, { recursive: true, force: true });
  });

  test('host controls in another meeting: 404 for every control, whatever your role elsewhere', async () => {
    const other = await meetings.create(users.other!, { kind: 'instant', title: 'not yours', settings: Settings.parse({}), invitees: [] });
    await meetings.join(users.other!, other.id, undefined, 'ip');
    for (const actor of ROLES) {
      for (const control of HOST_CONTROLS) {
        const got = await status(meetings.control(users[actor]!, other.id, control, TARGETED.has(control) ? users.other!.id : undefined));
        assert.equal(got, 404, `${actor} ${control} in someone else's private meeting`);
      }
    }
  });

  test('an invitation-only meeting does not reveal itself to strangers', async () => {
    const m = await meetings.create(users.host!, { kind: 'instant', title: 'secret', settings: Settings.parse({}), invitees: [] });
    const stranger = users.outsider!;
    const attempts = [() => meetings.view(stranger, m.id), () => meetings.join(stranger, m.id, undefined, 'ip'),
      () => meetings.participants(stranger, m.id), () => meetings.view(stranger, 'doesnotexist'), () => meetings.view(stranger, '../../etc')];
    for (const attempt of attempts) assert.equal(await status(attempt()), 404);
  });

  test('passcode: wrong ones count, five lock the client out, the right one works for others', async () => {
    const m = await meetings.create(users.host!, { kind: 'instant', title: 'pass', settings: Settings.parse({ access: 'link', passcode: 'open-sesame' }), invitees: [] });
    const guest = users.outsider!;
    assert.equal(await status(meetings.join(guest, m.id, undefined, 'ip-1')), 403);
    for (let i = 0; i < 4; i++) assert.equal(await status(meetings.join(guest, m.id, 'nope', 'ip-1')), 403);
    assert.equal(await status(meetings.join(guest, m.id, 'open-sesame', 'ip-1')), 429, 'locked out even with the right passcode');
    const ok = await meetings.join(guest, m.id, 'open-sesame', 'ip-2');
    assert.equal(ok.status, 'admitted');
    assert.equal(await status(meetings.join(users.host!, m.id, undefined, 'ip-1')), 200, 'hosts need no passcode');
  });

  test('the waiting room holds a joiner until admitted; the token then works on the edge node', async () => {
    const m = await meetings.create(users.host!, { kind: 'instant', title: 'wr', settings: Settings.parse({ access: 'link', waitingRoom: true }), invitees: [] });
    const guest = users.outsider!;
    assert.equal((await meetings.join(users.host!, m.id, undefined, 'ip')).status, 'admitted');
    assert.deepEqual(await meetings.join(guest, m.id, undefined, 'ip'), { status: 'waiting', participantId: guest.id });
    assert.deepEqual(await meetings.myState(guest, m.id), { state: 'waiting' });
    const waiting = await meetings.participants(users.host!, m.id);
    assert.deepEqual(waiting.filter((p) => p.state === 'waiting').map((p) => p.userId), [guest.id]);
    assert.equal(await status(meetings.control(guest, m.id, 'admit', guest.id)), 403, 'nobody admits themselves');
    await meetings.control(users.host!, m.id, 'admit', guest.id);
    const r = await meetings.join(guest, m.id, undefined, 'ip');
    assert.equal(r.status, 'admitted');
    if (r.status !== 'admitted') return;
    const client = await joinAs(edge.wsUrl, m.id, r.token);
    const closed = new Promise<{ code: number }>((resolve) => client.onClose(resolve));
    // Removing bars re-entry and disconnects from the edge.
    assert.deepEqual(await meetings.control(users.host!, m.id, 'remove', guest.id), { action: 'remove', affected: 1 });
    assert.equal((await closed).code, CloseCodes.removed);
    assert.equal(await status(meetings.join(guest, m.id, undefined, 'ip')), 403);
    assert.equal(await status(meetings.requireAdmitted(guest, m.id)), 403);
  });

  test('deny, lock, unlock, capacity, end', async () => {
    const m = await meetings.create(users.host!, { kind: 'instant', title: 'rules', settings: Settings.parse({ access: 'link', waitingRoom: true, maxParticipants: 2 }), invitees: [] });
    await meetings.join(users.host!, m.id, undefined, 'ip');
    await meetings.join(users.outsider!, m.id, undefined, 'ip');
    await meetings.control(users.host!, m.id, 'deny', users.outsider!.id);
    assert.equal(await status(meetings.join(users.outsider!, m.id, undefined, 'ip')), 403);
    await meetings.update(users.host!, m.id, { settings: { waitingRoom: false } });
    assert.equal((await meetings.join(users.participant!, m.id, undefined, 'ip')).status, 'admitted');
    assert.equal(await status(meetings.join(users.panelist!, m.id, undefined, 'ip')), 409, 'full: host + one');
    await meetings.control(users.host!, m.id, 'lock');
    assert.equal((await meetings.view(users.host!, m.id)).locked, true);
    await meetings.update(users.host!, m.id, { settings: { maxParticipants: 10 } });
    assert.equal(await status(meetings.join(users.panelist!, m.id, undefined, 'ip')), 423);
    assert.equal(await status(meetings.join(users.participant!, m.id, undefined, 'ip')), 200, 'already in: may rejoin a locked meeting');
    await meetings.control(users.host!, m.id, 'unlock');
    assert.equal((await meetings.view(users.host!, m.id)).locked, false);
    assert.equal((await meetings.join(users.panelist!, m.id, undefined, 'ip')).status, 'admitted', 'unlocked: new joiners get in again');
    await meetings.control(users.host!, m.id, 'end');
    assert.equal((await meetings.view(users.host!, m.id)).status, 'ended');
    assert.equal(await status(meetings.join(users.host!, m.id, undefined, 'ip')), 409);
  });

  test('an instant meeting is live from the start', async () => {
    const m = await meetings.create(users.host!, { kind: 'instant', title: 'now', settings: Settings.parse({}), invitees: [] });
    assert.equal(m.status, 'live');
  });

  test('scheduled meetings: created with their time zone, live on first join', async () => {
    const m = await meetings.create(users.host!, {
      kind: 'scheduled', title: 'standup', startsAt: '2026-12-01T09:00:00+01:00', durationMinutes: 15, timeZone: 'Europe/Berlin',
      settings: Settings.parse({}), invitees: [{ email: (await pool.query('SELECT email FROM users WHERE id = $1', [users.participant!.id])).rows[0].email, role: 'participant' }],
    });
    assert.equal(m.startsAt, '2026-12-01T08:00:00.000Z');
    assert.equal(m.status, 'scheduled');
    assert.equal((await meetings.view(users.participant!, m.id)).yourRole, 'participant');
    await meetings.join(users.host!, m.id, undefined, 'ip');
    assert.equal((await meetings.view(users.host!, m.id)).status, 'live');
    assert.equal(await status(meetings.update(users.participant!, m.id, { title: 'mine now' })), 403);
    const listed = await meetings.list(users.participant!);
    assert.ok(listed.some((x) => x.id === m.id));
  });

  test('a co-host appointed in the meeting gets host controls', async () => {
    const id = await meetingWithEveryone();
    assert.equal(await status(meetings.control(users.participant!, id, 'lock')), 403);
    await meetings.control(users.host!, id, 'makeCohost', users.participant!.id);
    assert.equal((await meetings.view(users.participant!, id)).yourRole, 'cohost');
    assert.equal(await status(meetings.control(users.participant!, id, 'lock')), 200);
  });
});
