/**
 * Meetings in PostgreSQL: create, schedule, settings, invitees, join (with the waiting room and passcode lockout),
 * and host controls. Decisions come from policy.ts; this file does the I/O around them.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { HostCommand } from '../../../edge-node/protocol/commands.js';
import { HttpError, badRequest, forbidden, notFound } from '../http/errors.js';
import type { AuthUser } from '../http/context.js';
import { withTransaction } from '../db/transaction.js';
import { hashPassword, verifyPassword } from '../secrets.js';
import type { EdgeClient } from './edge-client.js';
import {
  PASSCODE_LOCKOUT_SECONDS, PASSCODE_MAX_FAILURES, TARGETED, canChangeInvitation, canControl, decideJoin, higherRole, isHostLike, roleOf,
  screenShareAllowed,
  type HostControl, type ParticipantRole, type Role,
} from './policy.js';
import type { CreateMeeting, MeetingView } from './schemas.js';
import type { z } from 'zod';
import type { UpdateMeeting } from './schemas.js';

export interface MeetingRow {
  id: string;
  owner_id: string;
  title: string;
  kind: 'instant' | 'scheduled';
  starts_at: Date | null;
  duration_minutes: number | null;
  time_zone: string;
  status: 'scheduled' | 'live' | 'ended';
  access: 'invited' | 'link';
  passcode_hash: string | null;
  /** Numeric PIN callers type to dial in (migration 005). */
  dial_pin: string;
  waiting_room: boolean;
  mute_on_entry: boolean;
  screen_share: 'all' | 'hosts';
  webinar: boolean;
  max_participants: number;
  locked: boolean;
  guest_join: boolean;
}

export type ParticipantState = 'waiting' | 'admitted' | 'denied' | 'removed';
type ParticipantRow = { state: ParticipantState; role: ParticipantRole; display_name: string };

/** Meeting ids: 12 characters of [a-z0-9], url-safe and valid as edge meeting ids. */
export function newMeetingId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(12)].map((b) => alphabet[b % 36]).join('');
}

export type JoinResult =
  | { status: 'admitted'; token: string; nodeUrl: string; participantId: string; role: Role; expiresAt: string; muteOnEntry: boolean }
  | { status: 'waiting'; participantId: string };

/** What happened in a meeting, for live listeners (chat socket, waiting joiners). */
export type MeetingEvent = { meetingId: string; kind: 'participants' | 'ended' };

export class Meetings {
  private readonly listeners = new Set<(e: MeetingEvent) => void>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly edge: EdgeClient,
    private readonly publicUrl: string,
  ) {}

  onEvent(fn: (e: MeetingEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Tells live listeners (also used by the phone admission, whose callers are participants too). */
  emit(e: MeetingEvent): void {
    for (const l of this.listeners) l(e);
  }

  link(id: string): string {
    return `${this.publicUrl}/app/?meeting=${id}`;
  }

  async create(owner: AuthUser, input: CreateMeeting): Promise<MeetingView> {
    const id = newMeetingId();
    const s = input.settings;
    const passcodeHash = s.passcode ? await hashPassword(s.passcode) : null;
    await withTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO meetings (id, owner_id, title, kind, starts_at, duration_minutes, time_zone, access, passcode_hash,
           waiting_room, mute_on_entry, screen_share, webinar, max_participants, guest_join, status, started_at)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,
           CASE WHEN $4 = 'instant' THEN 'live' ELSE 'scheduled' END, CASE WHEN $4 = 'instant' THEN now() END)`,
        [id, owner.id, input.title, input.kind,
          input.kind === 'scheduled' ? input.startsAt : null,
          input.kind === 'scheduled' ? input.durationMinutes : null,
          input.kind === 'scheduled' ? input.timeZone : 'UTC',
          s.access, passcodeHash,
          s.waitingRoom, s.muteOnEntry, s.screenShare, s.webinar, s.maxParticipants, s.guestJoin],
      );
      for (const inv of input.invitees) await this.addInvitee(client, id, owner.id, inv.email, inv.role);
    });
    return this.view(owner, id);
  }

  /**
   * Adds or changes an invitation. `actor` (the inviter's role) goes through the same pure policy as host controls
   * (`canChangeInvitation`) against the invitee's current role, whether they are invited already or appointed
   * co-host during the meeting.
   */
  private async addInvitee(db: pg.PoolClient | pg.Pool, meetingId: string, ownerId: string, email: string, role: Role, actor: Role = 'host'): Promise<string> {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM users WHERE lower(email) = lower($1) AND guest_meeting_id IS NULL', [email]);
    const user = rows[0];
    if (!user) throw new HttpError(404, 'not_found', `no user with email ${email}`);
    if (user.id === ownerId) throw badRequest('the owner is already the host', 'email');
    const verdict = canChangeInvitation(actor, await this.currentRole(db, meetingId, user.id), role);
    if (!verdict.ok) throw forbidden(verdict.reason);
    await db.query(
      `INSERT INTO meeting_members (meeting_id, user_id, role) VALUES ($1, $2, $3)
       ON CONFLICT (meeting_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
      [meetingId, user.id, role],
    );
    return user.id;
  }

  /**
   * The meeting, the user's role in it, and their participant row (null if they never asked to join), in one query;
   * 404 (never 403) for a private meeting the user is not invited to.
   */
  async access(user: AuthUser, id: string): Promise<{ m: MeetingRow; role: Role; self: ParticipantRow | null }> {
    if (!/^[a-z0-9]{1,64}$/.test(id) || (user.guestOf !== undefined && user.guestOf !== id)) throw notFound('no such meeting');
    const { rows } = await this.pool.query<MeetingRow & { member_role: Role | null; p_state: ParticipantState | null; p_role: Role | null; p_name: string | null }>(
      `SELECT m.*, mm.role AS member_role, mp.state AS p_state, mp.role AS p_role, mp.display_name AS p_name FROM meetings m
         LEFT JOIN meeting_members mm ON mm.meeting_id = m.id AND mm.user_id = $2
         LEFT JOIN meeting_participants mp ON mp.meeting_id = m.id AND mp.user_id = $2
        WHERE m.id = $1`,
      [id, user.id],
    );
    const row = rows[0];
    // A guest of a meeting that lets guests in takes part like anyone with the link (never more).
    const access = user.guestOf !== undefined ? (row?.guest_join ? 'link' : 'invited') : row?.access;
    const role = row && roleOf({ ownerId: row.owner_id, access: access!, webinar: row.webinar }, user.id, row.member_role);
    if (!row || !role) throw notFound('no such meeting');
    const self = row.p_state ? { state: row.p_state, role: row.p_role!, display_name: row.p_name! } : null;
    // A co-host appointed during the meeting is recorded on the participant row.
    return { m: row, role: self?.role === 'cohost' && role !== 'host' ? 'cohost' : role, self };
  }

  async view(user: AuthUser, id: string): Promise<MeetingView> {
    const { m, role } = await this.access(user, id);
    return toView(m, role, this.link(m.id));
  }

  async list(user: AuthUser): Promise<MeetingView[]> {
    const { rows } = await this.pool.query<MeetingRow & { member_role: Role | null }>(
      `SELECT m.*, mm.role AS member_role FROM meetings m
         LEFT JOIN meeting_members mm ON mm.meeting_id = m.id AND mm.user_id = $1
        WHERE m.owner_id = $1 OR mm.user_id IS NOT NULL
        ORDER BY m.status = 'ended', coalesce(m.starts_at, m.created_at) LIMIT 500`,
      [user.id],
    );
    return rows.map((m) => toView(m, m.owner_id === user.id ? 'host' : m.member_role!, this.link(m.id)));
  }

  async update(user: AuthUser, id: string, patch: z.infer<typeof UpdateMeeting>): Promise<MeetingView> {
    const { m, role } = await this.access(user, id);
    if (!isHostLike(role)) throw forbidden('only hosts change a meeting');
    if (m.status === 'ended') throw new HttpError(409, 'meeting_ended', 'the meeting has ended');
    const s = patch.settings ?? {};
    const sets: string[] = [];
    const vals: unknown[] = [];
    const set = (col: string, v: unknown) => {
      vals.push(v);
      sets.push(`${col} = $${vals.length + 1}`);
    };
    if (patch.title !== undefined) set('title', patch.title);
    if (patch.startsAt !== undefined || patch.durationMinutes !== undefined || patch.timeZone !== undefined) {
      if (m.kind !== 'scheduled') throw badRequest('an instant meeting has no schedule', 'startsAt');
      if (patch.startsAt !== undefined) set('starts_at', patch.startsAt);
      if (patch.durationMinutes !== undefined) set('duration_minutes', patch.durationMinutes);
      if (patch.timeZone !== undefined) set('time_zone', patch.timeZone);
    }
    if (s.access !== undefined) set('access', s.access);
    if (s.passcode !== undefined) set('passcode_hash', s.passcode === null ? null : await hashPassword(s.passcode));
    if (s.waitingRoom !== undefined) set('waiting_room', s.waitingRoom);
    if (s.muteOnEntry !== undefined) set('mute_on_entry', s.muteOnEntry);
    if (s.screenShare !== undefined) set('screen_share', s.screenShare);
    if (s.webinar !== undefined) set('webinar', s.webinar);
    if (s.maxParticipants !== undefined) set('max_participants', s.maxParticipants);
    if (s.guestJoin !== undefined) set('guest_join', s.guestJoin);
    if (sets.length) await this.pool.query(`UPDATE meetings SET ${sets.join(', ')} WHERE id = $1`, [id, ...vals]);
    return this.view(user, id);
  }

  async remove(user: AuthUser, id: string): Promise<void> {
    const { m } = await this.access(user, id);
    if (m.owner_id !== user.id) throw forbidden('only the owner deletes a meeting');
    await this.pool.query('DELETE FROM meetings WHERE id = $1', [id]);
  }

  /** An invitee's role: their invitation's, or co-host if appointed during the meeting. */
  private async currentRole(db: pg.PoolClient | pg.Pool, meetingId: string, userId: string): Promise<Role | null> {
    const { rows } = await db.query<{ member_role: Role | null; p_role: Role | null }>(
      `SELECT (SELECT role FROM meeting_members WHERE meeting_id = $1 AND user_id = $2) AS member_role,
              (SELECT role FROM meeting_participants WHERE meeting_id = $1 AND user_id = $2) AS p_role`,
      [meetingId, userId],
    );
    const r = rows[0];
    return higherRole(r?.member_role ?? null, r?.p_role === 'cohost' ? 'cohost' : null);
  }

  async invite(user: AuthUser, id: string, email: string, role: Role): Promise<void> {
    const { m, role: mine } = await this.access(user, id);
    if (!isHostLike(mine)) throw forbidden('only hosts invite');
    await this.addInvitee(this.pool, id, m.owner_id, email, role, mine);
  }

  async uninvite(user: AuthUser, id: string, userId: string): Promise<void> {
    const { m, role } = await this.access(user, id);
    if (!isHostLike(role)) throw forbidden('only hosts change invitations');
    if (userId === m.owner_id) throw forbidden('the host\'s role cannot be changed');
    const current = await this.currentRole(this.pool, id, userId);
    if (current) {
      const verdict = canChangeInvitation(role, current, null);
      if (!verdict.ok) throw forbidden(verdict.reason);
    }
    const r = await this.pool.query('DELETE FROM meeting_members WHERE meeting_id = $1 AND user_id = $2', [id, userId]);
    if (!r.rowCount) throw notFound('no such invitee');
  }

  /** Invitees; their email addresses only for hosts and co-hosts (others see names and roles). */
  async invitees(user: AuthUser, id: string): Promise<Array<{ userId: string; email: string | null; displayName: string; role: Role }>> {
    const { role: mine } = await this.access(user, id);
    const emails = isHostLike(mine);
    const { rows } = await this.pool.query<{ user_id: string; email: string; display_name: string; role: Role }>(
      `SELECT mm.user_id, u.email, u.display_name, mm.role FROM meeting_members mm JOIN users u ON u.id = mm.user_id
        WHERE mm.meeting_id = $1 ORDER BY u.display_name`,
      [id],
    );
    return rows.map((r) => ({ userId: r.user_id, email: emails ? r.email : null, displayName: r.display_name, role: r.role }));
  }

  /**
   * A guest for this meeting (a user row bound to it, no password), or 404 when the meeting does not let guests in
   * (its existence is not revealed). The caller gives the guest a session; `join` then decides like for anyone.
   */
  async createGuest(id: string, name: string): Promise<AuthUser> {
    if (!/^[a-z0-9]{1,64}$/.test(id)) throw notFound('no such meeting');
    const m = (await this.pool.query<{ status: string; guest_join: boolean }>('SELECT status, guest_join FROM meetings WHERE id = $1', [id])).rows[0];
    if (!m?.guest_join) throw notFound('no such meeting');
    if (m.status === 'ended') throw new HttpError(409, 'meeting_ended', 'the meeting has ended');
    const { rows } = await this.pool.query<{ id: string; email: string }>(
      `INSERT INTO users (email, display_name, guest_meeting_id) VALUES ('guest-' || gen_random_uuid() || '@guests.invalid', $2, $1)
       RETURNING id, email`,
      [id, name],
    );
    const row = rows[0]!;
    return { id: row.id, email: row.email, displayName: name, guestOf: id };
  }

  private async participant(meetingId: string, userId: string): Promise<ParticipantRow | null> {
    const { rows } = await this.pool.query<ParticipantRow>(
      'SELECT state, role, display_name FROM meeting_participants WHERE meeting_id = $1 AND user_id = $2',
      [meetingId, userId],
    );
    return rows[0] ?? null;
  }

  /** A user's state in a meeting (null if never asked to join). */
  async stateOf(meetingId: string, userId: string): Promise<ParticipantState | null> {
    if (!/^[0-9a-f-]{36}$/i.test(userId)) return null;
    return (await this.participant(meetingId, userId))?.state ?? null;
  }

  /** Admitted participant state, for chat and other in-meeting actions. */
  async requireAdmitted(user: AuthUser, id: string): Promise<{ m: MeetingRow; role: Role }> {
    const a = await this.access(user, id);
    const p = a.self;
    if (p?.state === 'removed') throw forbidden('you were removed from this meeting');
    if (p?.state !== 'admitted') throw forbidden('join the meeting first');
    return a;
  }

  /**
   * The join decision for anyone asking to enter `m`, a signed-in user or a phone caller: passcode (with its lockout
   * per client key; the attempt is recorded), lock, capacity, waiting room, removal, end. Throws the refusal as an
   * HttpError, or returns the state to record.
   */
  async decideAdmission(
    m: MeetingRow, who: { id: string; role: ParticipantRole; state: ParticipantState | null }, passcode: string | undefined, clientKey: string,
  ): Promise<ParticipantState> {
    const lock = await this.pool.query<{ failures: number; locked_until: Date | null }>(
      'SELECT failures, locked_until FROM passcode_failures WHERE meeting_id = $1 AND client_key = $2',
      [m.id, clientKey],
    );
    const lockedOut = !!lock.rows[0]?.locked_until && lock.rows[0].locked_until > new Date();
    const needsPasscode = !!m.passcode_hash && !isHostLike(who.role);
    const passcodeOk = !needsPasscode || (!lockedOut && passcode !== undefined && (await verifyPassword(passcode, m.passcode_hash!)));
    const others = await this.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM meeting_participants WHERE meeting_id = $1 AND state = 'admitted' AND user_id <> $2",
      [m.id, who.id],
    );
    const decision = decideJoin({
      role: who.role,
      status: m.status,
      locked: m.locked,
      state: who.state,
      waitingRoom: m.waiting_room,
      hasPasscode: !!m.passcode_hash,
      passcodeOk,
      passcodeLockedOut: lockedOut,
      admittedOthers: Number(others.rows[0]!.n),
      maxParticipants: m.max_participants,
    });
    if (needsPasscode && !lockedOut) await this.recordPasscode(m.id, clientKey, passcodeOk);
    if (decision.outcome === 'refuse') throw new HttpError(decision.status, decision.code, decision.message);
    return decision.outcome === 'wait' ? 'waiting' : 'admitted';
  }

  async join(user: AuthUser, id: string, passcode: string | undefined, clientKey: string): Promise<JoinResult> {
    const { m, role, self: existing } = await this.access(user, id);
    const state = await this.decideAdmission(m, { id: user.id, role, state: existing?.state ?? null }, passcode, clientKey);
    await this.pool.query(
      `INSERT INTO meeting_participants (meeting_id, user_id, display_name, role, state) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (meeting_id, user_id) DO UPDATE SET state = EXCLUDED.state, display_name = EXCLUDED.display_name, updated_at = now()`,
      [id, user.id, user.displayName, existing?.role === 'cohost' ? 'cohost' : role, state],
    );
    this.emit({ meetingId: id, kind: 'participants' });
    if (state === 'waiting') return { status: 'waiting', participantId: user.id };
    if (m.status === 'scheduled') {
      await this.pool.query("UPDATE meetings SET status = 'live', started_at = now() WHERE id = $1 AND status = 'scheduled'", [id]);
    }
    const { token, expiresAt } = await this.edge.joinToken({
      meetingId: id, participantId: user.id, name: user.displayName, role, screen: screenShareAllowed(role, m.screen_share),
    });
    return {
      status: 'admitted', token, nodeUrl: this.edge.nodeUrl, participantId: user.id, role,
      expiresAt: expiresAt.toISOString(), muteOnEntry: m.mute_on_entry,
    };
  }

  private async recordPasscode(id: string, clientKey: string, ok: boolean): Promise<void> {
    if (ok) {
      await this.pool.query('DELETE FROM passcode_failures WHERE meeting_id = $1 AND client_key = $2', [id, clientKey]);
      return;
    }
    await this.pool.query(
      `INSERT INTO passcode_failures (meeting_id, client_key, failures) VALUES ($1, $2, 1)
       ON CONFLICT (meeting_id, client_key) DO UPDATE SET
         failures = passcode_failures.failures + 1,
         locked_until = CASE WHEN passcode_failures.failures + 1 >= $3 THEN now() + make_interval(secs => $4) END`,
      [id, clientKey, PASSCODE_MAX_FAILURES, PASSCODE_LOCKOUT_SECONDS],
    );
  }

  /** The joiner's own state (a waiting joiner polls this, or listens on the live socket). */
  async myState(user: AuthUser, id: string): Promise<{ state: ParticipantState | null }> {
    return { state: (await this.access(user, id)).self?.state ?? null };
  }

  async participants(user: AuthUser, id: string) {
    const { role } = await this.access(user, id);
    const { rows } = await this.pool.query<{ user_id: string; display_name: string; role: Role; state: ParticipantState }>(
      `SELECT user_id, display_name, role, state FROM meeting_participants WHERE meeting_id = $1
         ${isHostLike(role) ? '' : "AND state = 'admitted'"} ORDER BY updated_at`,
      [id],
    );
    return rows.map((r) => ({ participantId: r.user_id, userId: r.user_id, displayName: r.display_name, role: r.role, state: r.state }));
  }

  /** A host control: checked by policy, recorded in PostgreSQL, carried out on the edge node. */
  async control(user: AuthUser, id: string, action: HostControl, participantId?: string): Promise<{ action: HostControl; affected: number }> {
    const { m, role } = await this.access(user, id);
    let target: { state: ParticipantState; role: ParticipantRole } | null = null;
    if (TARGETED.has(action)) {
      if (!participantId) throw badRequest(`${action} needs participantId`, 'participantId');
      target = await this.participant(id, participantId);
      if (!target) throw notFound('no such participant in this meeting');
    }
    const verdict = canControl(role, action, target?.role ?? null, participantId === user.id);
    if (!verdict.ok) throw forbidden(verdict.reason);
    if (m.status === 'ended') throw new HttpError(409, 'meeting_ended', 'the meeting has ended');
    const setState = (state: ParticipantState) =>
      this.pool.query('UPDATE meeting_participants SET state = $3, updated_at = now() WHERE meeting_id = $1 AND user_id = $2', [id, participantId, state]);
    const send = async (cmd: HostCommand) => (await this.edge.command(id, cmd)).affected;
    let affected = 0;
    switch (action) {
      case 'mute': affected = await send({ act: 'mute', target: participantId! }); break;
      case 'stopVideo': affected = await send({ act: 'stopVideo', target: participantId! }); break;
      case 'stopScreen': affected = await send({ act: 'stopScreen', target: participantId! }); break;
      case 'muteAll': {
        const hosts = await this.pool.query<{ user_id: string }>(
          "SELECT user_id FROM meeting_participants WHERE meeting_id = $1 AND role IN ('host', 'cohost')", [id]);
        affected = await send({ act: 'muteAll', except: [user.id, ...hosts.rows.map((r) => r.user_id)] });
        break;
      }
      case 'remove':
        await setState('removed');
        affected = await send({ act: 'remove', target: participantId! });
        break;
      case 'admit':
      case 'deny':
        if (target!.state !== 'waiting') throw new HttpError(409, 'conflict', 'that participant is not in the waiting room');
        await setState(action === 'admit' ? 'admitted' : 'denied');
        affected = 1;
        break;
      case 'makeCohost':
        await this.pool.query("UPDATE meeting_participants SET role = 'cohost' WHERE meeting_id = $1 AND user_id = $2", [id, participantId]);
        affected = 1;
        break;
      case 'lock':
      case 'unlock':
        await this.pool.query('UPDATE meetings SET locked = $2 WHERE id = $1', [id, action === 'lock']);
        break;
      case 'end':
        await this.pool.query("UPDATE meetings SET status = 'ended', ended_at = now() WHERE id = $1", [id]);
        affected = await send({ act: 'end' });
        this.emit({ meetingId: id, kind: 'ended' });
        break;
    }
    this.emit({ meetingId: id, kind: 'participants' });
    return { action, affected };
  }
}

function toView(m: MeetingRow, role: Role, link: string): MeetingView {
  return {
    id: m.id,
    title: m.title,
    kind: m.kind,
    startsAt: m.starts_at ? m.starts_at.toISOString() : null,
    durationMinutes: m.duration_minutes,
    timeZone: m.time_zone,
    status: m.status,
    ownerId: m.owner_id,
    yourRole: role,
    locked: m.locked,
    link,
    settings: {
      access: m.access,
      hasPasscode: !!m.passcode_hash,
      waitingRoom: m.waiting_room,
      muteOnEntry: m.mute_on_entry,
      screenShare: m.screen_share,
      webinar: m.webinar,
      maxParticipants: m.max_participants,
      guestJoin: m.guest_join,
    },
  };
}
