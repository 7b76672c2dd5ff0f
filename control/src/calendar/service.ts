/**
 * Calendar: an iCalendar invite for each scheduled meeting, and a per-user subscribable feed at a secret URL
 * (only its hash is stored; creating a new one or revoking makes the old URL stop working).
 */
import ical, { ICalCalendarMethod } from 'ical-generator';
import type pg from 'pg';
import { notFound } from '../http/errors.js';
import type { AuthUser } from '../http/context.js';
import type { Meetings, MeetingRow } from '../meetings/service.js';
import { randomToken, sha256 } from '../secrets.js';

type Row = MeetingRow & { owner_name: string; owner_email: string };

export class Calendar {
  constructor(
    private readonly pool: pg.Pool,
    private readonly meetings: Meetings,
    private readonly publicUrl: string,
    /** The SIP gateway's number or URI (DIAL_IN_NUMBER): invites then say how to join by phone. */
    private readonly dialInNumber?: string,
  ) {}

  /** The .ics invite of one scheduled meeting (REQUEST, with organizer and invitees). */
  async invite(user: AuthUser, id: string): Promise<string> {
    const { m } = await this.meetings.access(user, id);
    if (m.kind !== 'scheduled') throw notFound('an instant meeting has no calendar invite');
    const rows = await this.rows('m.id = $1', [id]);
    const cal = ical({ name: rows[0]!.title, prodId: { company: 'meshmeet', product: 'control', language: 'EN' }, method: ICalCalendarMethod.REQUEST });
    await this.addEvents(cal, rows);
    return cal.toString();
  }

  /** Creates (or replaces) the user's feed secret and returns the feed URL; the old URL stops working. */
  async createFeed(user: AuthUser): Promise<string> {
    const secret = randomToken();
    await this.pool.query(
      `INSERT INTO calendar_feeds (user_id, secret_hash) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET secret_hash = EXCLUDED.secret_hash, created_at = now()`,
      [user.id, sha256(secret)],
    );
    return `${this.publicUrl}/calendar/feed/${secret}.ics`;
  }

  async revokeFeed(user: AuthUser): Promise<void> {
    const r = await this.pool.query('DELETE FROM calendar_feeds WHERE user_id = $1', [user.id]);
    if (!r.rowCount) throw notFound('no calendar feed');
  }

  /** The feed for a secret: every scheduled meeting the user owns or is invited to; 404 for an unknown secret. */
  async feed(secret: string): Promise<string> {
    const { rows } = await this.pool.query<{ user_id: string; display_name: string }>(
      'SELECT f.user_id, u.display_name FROM calendar_feeds f JOIN users u ON u.id = f.user_id WHERE f.secret_hash = $1',
      [sha256(secret)],
    );
    const owner = rows[0];
    if (!owner) throw notFound('no such feed');
    const meetings = await this.rows(
      `m.kind = 'scheduled' AND (m.owner_id = $1 OR EXISTS (SELECT 1 FROM meeting_members mm WHERE mm.meeting_id = m.id AND mm.user_id = $1))`,
      [owner.user_id],
    );
    const cal = ical({ name: `MeshMeet: ${owner.display_name}`, prodId: { company: 'meshmeet', product: 'control', language: 'EN' }, ttl: 900 });
    await this.addEvents(cal, meetings);
    return cal.toString();
  }

  private async rows(where: string, args: unknown[]): Promise<Row[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT m.*, u.display_name AS owner_name, u.email AS owner_email FROM meetings m JOIN users u ON u.id = m.owner_id
        WHERE ${where} ORDER BY m.starts_at LIMIT 1000`,
      args,
    );
    return rows;
  }

  private async addEvents(cal: ReturnType<typeof ical>, rows: Row[]): Promise<void> {
    for (const m of rows) {
      const invitees = await this.pool.query<{ email: string; display_name: string }>(
        'SELECT u.email, u.display_name FROM meeting_members mm JOIN users u ON u.id = mm.user_id WHERE mm.meeting_id = $1',
        [m.id],
      );
      const link = this.meetings.link(m.id);
      const start = m.starts_at!;
      cal.createEvent({
        id: `${m.id}@meshmeet`,
        start,
        end: new Date(start.getTime() + m.duration_minutes! * 60_000),
        summary: m.title,
        description: `Join: ${link}\nTime zone: ${m.time_zone}${m.passcode_hash ? '\nA passcode is required (ask the host).' : ''}${
          this.dialInNumber ? `\nJoin by phone: call ${this.dialInNumber}, enter meeting ID ${m.dial_pin} then #${m.passcode_hash ? ', then the passcode and #' : ''}.` : ''}`,
        location: link,
        url: link,
        organizer: { name: m.owner_name, email: m.owner_email },
        attendees: invitees.rows.map((i) => ({ email: i.email, name: i.display_name })),
      });
    }
  }
}
