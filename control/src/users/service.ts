/** User profiles, contacts and search. Accounts are created by the identity module (registration, external IdPs). */
import type pg from 'pg';
import { z } from 'zod';
import { badRequest, notFound } from '../http/errors.js';
import { TimeZone } from '../meetings/schemas.js';

export const Profile = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  avatarUrl: z.string().nullable(),
  timeZone: z.string(),
});
export type Profile = z.infer<typeof Profile>;
/** What other users see of someone: no email unless they are your contact. */
export const PublicProfile = z.object({ id: z.string(), displayName: z.string(), avatarUrl: z.string().nullable(), email: z.string().optional() });

export const UpdateProfile = z.object({
  displayName: z.string().trim().min(1).max(100).optional(),
  avatarUrl: z.url({ protocol: /^https?$/ }).max(2000).nullable().optional(),
  timeZone: TimeZone.optional(),
}).strict();
export type UpdateProfileInput = z.input<typeof UpdateProfile>;

type Row = { id: string; email: string; display_name: string; avatar_url: string | null; time_zone: string };
const profile = (r: Row): Profile => ({ id: r.id, email: r.email, displayName: r.display_name, avatarUrl: r.avatar_url, timeZone: r.time_zone });

export class Users {
  constructor(private readonly pool: pg.Pool) {}

  async get(id: string): Promise<Profile> {
    const { rows } = await this.pool.query<Row>('SELECT id, email, display_name, avatar_url, time_zone FROM users WHERE id = $1', [id]);
    if (!rows[0]) throw notFound('no such user');
    return profile(rows[0]);
  }

  async update(id: string, patch: z.infer<typeof UpdateProfile>): Promise<Profile> {
    await this.pool.query(
      `UPDATE users SET display_name = coalesce($2, display_name),
         avatar_url = CASE WHEN $3::boolean THEN $4 ELSE avatar_url END,
         time_zone = coalesce($5, time_zone) WHERE id = $1`,
      [id, patch.displayName ?? null, patch.avatarUrl !== undefined, patch.avatarUrl ?? null, patch.timeZone ?? null],
    );
    return this.get(id);
  }

  /** Users whose name or email starts with `q` (case-insensitive), yourself excluded; emails only for contacts. */
  async search(me: string, q: string, limit: number) {
    const pattern = `${q.toLowerCase().replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    const { rows } = await this.pool.query<Row & { is_contact: boolean }>(
      `SELECT u.id, u.email, u.display_name, u.avatar_url, u.time_zone, (c.contact_id IS NOT NULL) AS is_contact
         FROM users u LEFT JOIN contacts c ON c.user_id = $1 AND c.contact_id = u.id
        WHERE u.id <> $1 AND u.guest_meeting_id IS NULL AND (lower(u.display_name) LIKE $2 OR lower(u.email) LIKE $2)
        ORDER BY u.display_name LIMIT $3`,
      [me, pattern, limit],
    );
    return rows.map((r) => ({ id: r.id, displayName: r.display_name, avatarUrl: r.avatar_url, ...(r.is_contact ? { email: r.email } : {}) }));
  }

  async contacts(me: string) {
    const { rows } = await this.pool.query<Row>(
      `SELECT u.id, u.email, u.display_name, u.avatar_url, u.time_zone FROM contacts c JOIN users u ON u.id = c.contact_id
        WHERE c.user_id = $1 ORDER BY u.display_name`,
      [me],
    );
    return rows.map((r) => ({ id: r.id, displayName: r.display_name, avatarUrl: r.avatar_url, email: r.email }));
  }

  async addContact(me: string, contactId: string): Promise<void> {
    if (contactId === me) throw badRequest('you cannot add yourself', 'userId');
    if (!z.uuid().safeParse(contactId).success) throw notFound('no such user');
    const r = await this.pool.query(
      'INSERT INTO contacts (user_id, contact_id) SELECT $1, id FROM users WHERE id = $2 AND guest_meeting_id IS NULL ON CONFLICT DO NOTHING',
      [me, contactId],
    );
    if (!r.rowCount) await this.get(contactId); // 404 if the user does not exist; otherwise already a contact
  }

  async removeContact(me: string, contactId: string): Promise<void> {
    if (!z.uuid().safeParse(contactId).success) throw notFound('no such contact');
    const r = await this.pool.query('DELETE FROM contacts WHERE user_id = $1 AND contact_id = $2', [me, contactId]);
    if (!r.rowCount) throw notFound('no such contact');
  }
}
