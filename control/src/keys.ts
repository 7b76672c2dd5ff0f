/**
 * The control plane's ES256 signing keys, kept in PostgreSQL so that every control-plane instance signs with the
 * same keys. Rotation: `rotate()` adds a new key that signs from then on; the old one stays in the JWKS for
 * `RETIRED_KEY_GRACE_SECONDS`, so that tokens it signed keep verifying until they expire.
 */
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import type pg from 'pg';
import { withTransaction } from './db/transaction.js';

export type KeyPurpose = 'join' | 'oidc';
export const RETIRED_KEY_GRACE_SECONDS = 24 * 3600;

interface KeyRow {
  kid: string;
  private_jwk: jose.JWK;
  public_jwk: jose.JWK;
  retired_at: Date | null;
}

/** How long an instance keeps signing with the key it loaded before it looks for a newer one. */
export const SIGNER_REFRESH_MS = 60_000;

export class KeyStore {
  private signer: { kid: string; key: CryptoKey; at: number } | null = null;

  constructor(
    private readonly pool: pg.Pool,
    readonly purpose: KeyPurpose,
    /** The clock (ms) that times the minute above; tests inject one instead of waiting. */
    private readonly clock: () => number = Date.now,
  ) {}

  /** The signing key (a rotation elsewhere is picked up within a minute), creating the first one if there is none. */
  async current(): Promise<{ kid: string; key: CryptoKey }> {
    if (this.signer && this.clock() - this.signer.at < SIGNER_REFRESH_MS) return this.signer;
    let row = await this.newest();
    if (!row) {
      await this.rotate();
      row = (await this.newest())!;
    }
    if (this.signer?.kid !== row.kid) {
      this.signer = { kid: row.kid, key: (await jose.importJWK(row.private_jwk, 'ES256')) as CryptoKey, at: this.clock() };
    }
    this.signer.at = this.clock();
    return this.signer;
  }

  /** Public keys to publish: the active one and retired ones within their grace period. */
  async jwks(): Promise<jose.JSONWebKeySet> {
    const { rows } = await this.pool.query<KeyRow>(
      `SELECT kid, public_jwk FROM signing_keys WHERE purpose = $1
         AND (retired_at IS NULL OR retired_at > now() - make_interval(secs => $2)) ORDER BY created_at DESC`,
      [this.purpose, RETIRED_KEY_GRACE_SECONDS],
    );
    return { keys: rows.map((r) => r.public_jwk) };
  }

  /** Private JWKs (for oidc-provider's `jwks` option), newest first. */
  async privateJwks(): Promise<jose.JWK[]> {
    await this.current();
    const { rows } = await this.pool.query<KeyRow>(
      `SELECT private_jwk FROM signing_keys WHERE purpose = $1
         AND (retired_at IS NULL OR retired_at > now() - make_interval(secs => $2)) ORDER BY created_at DESC`,
      [this.purpose, RETIRED_KEY_GRACE_SECONDS],
    );
    return rows.map((r) => r.private_jwk);
  }

  /** Makes a new key the signer and retires the others (idempotent across instances: newest wins). */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
    const kid = `${this.purpose}-${randomUUID()}`;
    const meta = { kid, alg: 'ES256', use: 'sig' };
    const priv = { ...(await jose.exportJWK(privateKey)), ...meta };
    const pub = { ...(await jose.exportJWK(publicKey)), ...meta };
    await withTransaction(this.pool, async (client) => {
      await client.query('UPDATE signing_keys SET retired_at = now() WHERE purpose = $1 AND retired_at IS NULL', [this.purpose]);
      await client.query('INSERT INTO signing_keys (kid, purpose, private_jwk, public_jwk) VALUES ($1, $2, $3, $4)', [kid, this.purpose, priv, pub]);
    });
    this.signer = null;
    return kid;
  }

  private async newest(): Promise<KeyRow | undefined> {
    const { rows } = await this.pool.query<KeyRow>(
      'SELECT kid, private_jwk, public_jwk, retired_at FROM signing_keys WHERE purpose = $1 AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1',
      [this.purpose],
    );
    return rows[0];
  }
}
