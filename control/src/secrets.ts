/**
 * Secrets people type (passwords, meeting passcodes): hashed with node:crypto scrypt, a random 16-byte salt per password and a constant-time compare.
 * Stored as a self-describing string: `scrypt$ln=15,r=8,p=1$<salt base64url>$<hash base64url>` (N = 2^ln), so the
 * cost can be raised later without breaking existing hashes.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_LENGTH = 32;
export const DEFAULT_SCRYPT = { ln: 15, r: 8, p: 1 } as const;

function scrypt(password: string, salt: Buffer, keylen: number, o: { ln: number; r: number; p: number }): Promise<Buffer> {
  const N = 2 ** o.ln;
  const options: ScryptOptions = { N, r: o.r, p: o.p, maxmem: 128 * N * o.r * o.p + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => scryptCb(password.normalize('NFC'), salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string, params: { ln: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LENGTH, params);
  return `scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

const FORMAT = /^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,128})\$([A-Za-z0-9_-]{16,256})$/;

/** Parses a stored hash; null when it is not one of ours or its parameters are out of bounds. */
export function parsePasswordHash(stored: string): { ln: number; r: number; p: number; salt: Buffer; hash: Buffer } | null {
  const m = FORMAT.exec(stored);
  if (!m) return null;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) return null;
  const salt = Buffer.from(m[4]!, 'base64url');
  const hash = Buffer.from(m[5]!, 'base64url');
  if (salt.length < 8 || hash.length < 16) return null;
  return { ln, r, p, salt, hash };
}

/** True when `password` matches `stored`; false for a wrong password and for a malformed or missing hash. */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const parsed = stored ? parsePasswordHash(stored) : null;
  if (!parsed) {
    await burn(password); // same work as a real check: no timing hint that the account has no usable hash
    return false;
  }
  const candidate = await scrypt(password, parsed.salt, parsed.hash.length, parsed);
  return timingSafeEqual(candidate, parsed.hash);
}

const DUMMY_SALT = randomBytes(16);
/** Spends the time of one default-cost check (for unknown accounts, so that login time does not reveal them). */
export async function burn(password: string): Promise<void> {
  await scrypt(password, DUMMY_SALT, KEY_LENGTH, DEFAULT_SCRYPT);
}

/** A random URL-safe token with `bytes` of entropy, and the hash to store for it. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}
