/**
 * Phone admission: the SIP gateway relays what a caller typed (dial-in PIN, passcode); this decides with the same pure
 * join decision as for browsers (passcode and its lockout, lock, capacity, waiting room, removal, end), records the
 * caller as a participant with the `phone` role and a masked number, and signs a join token like anyone's.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { maskCaller, type PhoneJoinRequest, type PhoneJoinResponse, type PhoneLeaveRequest } from '../../../edge-node/protocol/phone.js';
import { notFound } from '../http/errors.js';
import type { EdgeClient } from '../meetings/edge-client.js';
import type { MeetingRow, Meetings, ParticipantState } from '../meetings/service.js';
import { phoneMayDialIn } from './policy.js';

export class PhoneAdmission {
  constructor(
    private readonly pool: pg.Pool,
    private readonly meetings: Meetings,
    private readonly edge: EdgeClient,
  ) {}

  /** The meeting behind a dial-in PIN, if it takes phone callers (404 otherwise: existence is not revealed). */
  private async byPin(pin: string): Promise<MeetingRow> {
    const { rows } = await this.pool.query<MeetingRow>('SELECT * FROM meetings WHERE dial_pin = $1', [pin]);
    const m = rows[0];
    if (!m || !phoneMayDialIn({ access: m.access, hasPasscode: !!m.passcode_hash, webinar: m.webinar }).ok) {
      throw notFound('no meeting with that number');
    }
    return m;
  }

  async lookup(pin: string): Promise<{ meetingId: string; needsPasscode: boolean }> {
    const m = await this.byPin(pin);
    return { meetingId: m.id, needsPasscode: !!m.passcode_hash };
  }

  async join(r: PhoneJoinRequest): Promise<PhoneJoinResponse> {
    const m = await this.byPin(r.pin);
    const participantId = r.participantId ?? randomUUID();
    const existing = r.participantId
      ? (await this.pool.query<{ state: ParticipantState; role: string }>(
        'SELECT state, role FROM meeting_participants WHERE meeting_id = $1 AND user_id = $2', [m.id, participantId])).rows[0]
      : undefined;
    if (r.participantId && existing?.role !== 'phone') throw notFound('no such phone participant');
    // Wrong passcodes lock out the calling number (or, without one, every anonymous caller of this meeting).
    const state = await this.meetings.decideAdmission(m, { id: participantId, role: 'phone', state: existing?.state ?? null },
      r.passcode, `phone|${r.caller || 'anonymous'}`);
    const displayName = maskCaller(r.caller);
    await this.pool.query(
      `INSERT INTO meeting_participants (meeting_id, user_id, display_name, role, state) VALUES ($1, $2, $3, 'phone', $4)
       ON CONFLICT (meeting_id, user_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
      [m.id, participantId, displayName, state],
    );
    if (existing?.state !== state) this.meetings.emit({ meetingId: m.id, kind: 'participants' });
    if (state === 'waiting') return { status: 'waiting', meetingId: m.id, participantId };
    if (m.status === 'scheduled') {
      await this.pool.query("UPDATE meetings SET status = 'live', started_at = now() WHERE id = $1 AND status = 'scheduled'", [m.id]);
    }
    const { token } = await this.edge.joinToken({ meetingId: m.id, participantId, name: displayName, role: 'phone', screen: false });
    return { status: 'admitted', meetingId: m.id, participantId, token, nodeUrl: this.edge.nodeUrl, displayName, muteOnEntry: m.mute_on_entry };
  }

  /** The call ended: the caller is no longer a participant (nor counted against capacity); a removal stays on record. */
  async leave(r: PhoneLeaveRequest): Promise<void> {
    const m = await this.byPin(r.pin);
    const res = await this.pool.query(
      "DELETE FROM meeting_participants WHERE meeting_id = $1 AND user_id = $2 AND role = 'phone' AND state IN ('admitted', 'waiting')",
      [m.id, r.participantId],
    );
    if (res.rowCount) this.meetings.emit({ meetingId: m.id, kind: 'participants' });
  }
}
