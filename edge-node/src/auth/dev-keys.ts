/**
 * A local ES256 key for development and tests, standing in for the control plane as token issuer: the private key
 * signs join tokens, the public JWKS is what the edge node verifies against. Never used in production.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import * as jose from 'jose';
import { JOIN_TOKEN_ALG, JOIN_TOKEN_AUDIENCE } from '../../protocol/join-token.js';
import type { Role } from '../../protocol/signalling.js';
import { COMMAND_AUDIENCE, type HostCommand } from '../../protocol/commands.js';
import { randomUUID } from 'node:crypto';

export const DEV_ISSUER = 'meshmeet-dev';

export interface DevKeys {
  jwksPath: string;
  privateKey: CryptoKey;
  kid: string;
}

/** Loads the dev key from `dir`, creating it on first use. */
export async function loadDevKeys(dir: string): Promise<DevKeys> {
  const privPath = path.join(dir, 'dev-private.jwk.json');
  const jwksPath = path.join(dir, 'dev-jwks.json');
  let jwk: jose.JWK;
  try {
    jwk = JSON.parse(await fs.readFile(privPath, 'utf8')) as jose.JWK;
    await fs.access(jwksPath);
  } catch {
    const { privateKey, publicKey } = await jose.generateKeyPair(JOIN_TOKEN_ALG, { extractable: true });
    const kid = `dev-${Date.now().toString(36)}`;
    jwk = { ...(await jose.exportJWK(privateKey)), kid, alg: JOIN_TOKEN_ALG, use: 'sig' };
    const pub = { ...(await jose.exportJWK(publicKey)), kid, alg: JOIN_TOKEN_ALG, use: 'sig' };
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(privPath, JSON.stringify(jwk), { mode: 0o600 });
    await fs.writeFile(jwksPath, JSON.stringify({ keys: [pub] }));
  }
  const privateKey = (await jose.importJWK(jwk, JOIN_TOKEN_ALG)) as CryptoKey;
  return { jwksPath, privateKey, kid: jwk.kid! };
}

export interface MintOptions {
  meetingId: string;
  participantId: string;
  name: string;
  role?: Role;
  ttlSeconds?: number;
  /** For tests: the token's issue time (seconds), to make expired tokens. */
  issuedAt?: number;
  /** May this participant share a screen (absent: yes). */
  screen?: boolean;
}

/** Signs a host command as the control plane would (tests and the dev server). */
export async function mintCommand(keys: DevKeys, meetingId: string, cmd: HostCommand, o: { ttlSeconds?: number; jti?: string } = {}): Promise<string> {
  return new jose.SignJWT({ mtg: meetingId, cmd })
    .setProtectedHeader({ alg: JOIN_TOKEN_ALG, kid: keys.kid })
    .setIssuer(DEV_ISSUER)
    .setAudience(COMMAND_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (o.ttlSeconds ?? 60))
    .setJti(o.jti ?? randomUUID())
    .sign(keys.privateKey);
}

export async function mintJoinToken(keys: DevKeys, o: MintOptions): Promise<string> {
  const iat = o.issuedAt ?? Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ mtg: o.meetingId, name: o.name, role: o.role ?? 'participant', ...(o.screen === undefined ? {} : { screen: o.screen }) })
    .setProtectedHeader({ alg: JOIN_TOKEN_ALG, kid: keys.kid })
    .setSubject(o.participantId)
    .setIssuer(DEV_ISSUER)
    .setAudience(JOIN_TOKEN_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (o.ttlSeconds ?? 600))
    .sign(keys.privateKey);
}
