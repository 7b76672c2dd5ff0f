/** oidc-provider's storage in PostgreSQL (table `oidc_payloads`), so that restarts and other instances lose nothing. */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type pg from 'pg';

interface Row {
  payload: AdapterPayload;
  consumed_at: Date | null;
}

const LIVE = '(expires_at IS NULL OR expires_at > now())';

export class PgAdapter implements Adapter {
  constructor(
    private readonly pool: pg.Pool,
    private readonly model: string,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO oidc_payloads (model, id, payload, grant_id, user_code, uid, consumed_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, NULL, CASE WHEN $7::int > 0 THEN now() + make_interval(secs => $7::int) END)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
         user_code = excluded.user_code, uid = excluded.uid, consumed_at = NULL, expires_at = excluded.expires_at`,
      [this.model, id, payload, payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresIn ? Math.ceil(expiresIn) : 0],
    );
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return this.one('id = $2', id);
  }

  findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.one('user_code = $2', userCode);
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.one('uid = $2', uid);
  }

  async consume(id: string): Promise<void> {
    await this.pool.query('UPDATE oidc_payloads SET consumed_at = now() WHERE model = $1 AND id = $2', [this.model, id]);
  }

  async destroy(id: string): Promise<void> {
    await this.pool.query('DELETE FROM oidc_payloads WHERE model = $1 AND id = $2', [this.model, id]);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.pool.query('DELETE FROM oidc_payloads WHERE model = $1 AND grant_id = $2', [this.model, grantId]);
  }

  private async one(where: string, value: string): Promise<AdapterPayload | undefined> {
    const { rows } = await this.pool.query<Row>(
      `SELECT payload, consumed_at FROM oidc_payloads WHERE model = $1 AND ${where} AND ${LIVE} LIMIT 1`,
      [this.model, value],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
  }
}

/** Drops expired rows (run now and then; lookups ignore them anyway). */
export async function purgeExpiredOidcPayloads(pool: pg.Pool): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM oidc_payloads WHERE expires_at < now()');
  return rowCount ?? 0;
}
