/** The identity module's own queries on `users` and `external_identities`. */
import type pg from 'pg';
import type { AuthUser } from '../http/context.js';
import { withTransaction } from '../db/transaction.js';

export interface UserRow extends AuthUser {
  passwordHash: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COLUMNS = 'id, email, display_name AS "displayName", password_hash AS "passwordHash"';
const U_COLUMNS = 'u.id, u.email, u.display_name AS "displayName", u.password_hash AS "passwordHash"';

export class DuplicateEmailError extends Error {
  constructor() {
    super('an account with this email address already exists');
  }
}

export function toAuthUser(u: UserRow): AuthUser {
  return { id: u.id, email: u.email, displayName: u.displayName };
}

export class IdentityUsers {
  constructor(private readonly pool: pg.Pool) {}

  async byId(id: string): Promise<UserRow | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows } = await this.pool.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
    return rows[0];
  }

  async byEmail(email: string): Promise<UserRow | undefined> {
    const { rows } = await this.pool.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [email]);
    return rows[0];
  }

  async create(u: { email: string; displayName: string; passwordHash: string | null; timeZone?: string }, db: pg.Pool | pg.PoolClient = this.pool): Promise<UserRow> {
    try {
      const { rows } = await db.query<UserRow>(
        `INSERT INTO users (email, display_name, password_hash, time_zone) VALUES ($1, $2, $3, COALESCE($4, 'UTC')) RETURNING ${COLUMNS}`,
        [u.email, u.displayName, u.passwordHash, u.timeZone ?? null],
      );
      return rows[0]!;
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new DuplicateEmailError();
      throw err;
    }
  }

  /**
   * The user behind an external identity: the linked one; else the user with the same email when the IdP says the
   * email is verified (and the link is recorded); else a new user. An unverified email that belongs to an existing
   * account is refused rather than linked (DuplicateEmailError).
   */
  async findOrCreateExternal(e: { issuer: string; subject: string; email: string; emailVerified: boolean; displayName: string }): Promise<UserRow> {
    return withTransaction(this.pool, async (client) => {
      // One sign-in at a time per identity, so that two parallel first sign-ins do not create two users.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${e.issuer}\n${e.subject}`]);
      const linked = await client.query<UserRow>(
        `SELECT ${U_COLUMNS} FROM external_identities x JOIN users u ON u.id = x.user_id WHERE x.issuer = $1 AND x.subject = $2`,
        [e.issuer, e.subject],
      );
      let user = linked.rows[0];
      if (!user) {
        if (e.emailVerified) {
          const byEmail = await client.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE lower(email) = lower($1)`, [e.email]);
          user = byEmail.rows[0];
        }
        user ??= await this.create({ email: e.email, displayName: e.displayName, passwordHash: null }, client);
        await client.query('INSERT INTO external_identities (issuer, subject, user_id) VALUES ($1, $2, $3)', [e.issuer, e.subject, user.id]);
      }
      return user;
    });
  }
}
