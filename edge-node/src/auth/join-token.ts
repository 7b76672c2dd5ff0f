/** Verification of join tokens against the issuer's JWKS (file or URL). */
import fs from 'node:fs/promises';
import * as jose from 'jose';
import {
  JOIN_TOKEN_ALG,
  JOIN_TOKEN_AUDIENCE,
  JoinTokenClaims,
  MAX_JOIN_TOKEN_TTL_SECONDS,
} from '../../protocol/join-token.js';
import { describeIssues } from '../../protocol/signalling.js';
import { COMMAND_AUDIENCE, CommandClaims, MAX_COMMAND_TTL_SECONDS } from '../../protocol/commands.js';

export type TokenCheck =
  | { ok: true; claims: JoinTokenClaims }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired' | 'wrong_meeting'; message: string };

/** The checks on already signature-verified claims: pure, so they are tested without keys. */
export function checkClaims(payload: unknown, meetingId: string, nowSeconds: number): TokenCheck {
  const parsed = JoinTokenClaims.safeParse(payload);
  if (!parsed.success) return { ok: false, reason: 'invalid', message: `bad claims: ${describeIssues(parsed.error)}` };
  const c = parsed.data;
  if (c.exp <= nowSeconds) return { ok: false, reason: 'expired', message: 'token expired' };
  if (c.exp - c.iat > MAX_JOIN_TOKEN_TTL_SECONDS) {
    return { ok: false, reason: 'invalid', message: `token lifetime over ${MAX_JOIN_TOKEN_TTL_SECONDS}s` };
  }
  if (c.mtg !== meetingId) return { ok: false, reason: 'wrong_meeting', message: 'token is for another meeting' };
  return { ok: true, claims: c };
}

type KeyResolver = (header: jose.JWSHeaderParameters, token: jose.FlattenedJWSInput) => Promise<CryptoKey>;

/** Refetches of the JWKS that a token with an unknown key id may force: a burst, then one a second. */
const REFETCH_BURST = 5;
const REFETCH_PER_SECOND = 1;

/**
 * A remote JWKS (jose: cached, refetched on an unknown kid only 30 s after the last fetch). A key rotation signs with
 * a kid the node has not seen, maybe seconds after it fetched the set: such a token makes the node refetch at once,
 * within a small budget, so that forged kids cannot make it hammer the issuer.
 */
function remoteKeys(url: URL): KeyResolver {
  const remote = jose.createRemoteJWKSet(url);
  let tokens = REFETCH_BURST;
  let at = Date.now();
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      if (!(err instanceof jose.errors.JWKSNoMatchingKey) || !remote.coolingDown) throw err;
      const now = Date.now();
      tokens = Math.min(REFETCH_BURST, tokens + ((now - at) / 1000) * REFETCH_PER_SECOND);
      at = now;
      if (tokens < 1) throw err;
      tokens -= 1;
      await remote.reload();
      return remote(header, token);
    }
  };
}

export type CommandCheck = { ok: true; claims: CommandClaims } | { ok: false; message: string };

/** Verifies join tokens and host commands, both ES256 JWTs from the control plane, against its JWKS. */
export class JoinTokenVerifier {
  /** Command ids already carried out, until they expire: a replayed command is refused. */
  private readonly seenCommands = new Map<string, number>();

  private constructor(
    private readonly keys: KeyResolver,
    private readonly issuer: string | undefined,
  ) {}

  /**
   * `jwks` is a file path (read once) or an http(s) URL (fetched and cached by jose, refreshed on an unknown kid),
   * or several of them separated by commas (e.g. while moving to a new issuer): a token verifies against any.
   */
  static async create(jwks: string, issuer?: string): Promise<JoinTokenVerifier> {
    const sources = jwks.split(',').map((s) => s.trim()).filter(Boolean);
    if (sources.length === 0) throw new Error('no JWKS source configured');
    const resolvers = await Promise.all(sources.map(async (src): Promise<KeyResolver> => {
      if (/^https?:\/\//.test(src)) return remoteKeys(new URL(src));
      const set = JSON.parse(await fs.readFile(src, 'utf8')) as jose.JSONWebKeySet;
      if (!Array.isArray(set.keys) || set.keys.length === 0) throw new Error(`JWKS file ${src} has no keys`);
      return jose.createLocalJWKSet(set);
    }));
    if (resolvers.length === 1) return new JoinTokenVerifier(resolvers[0]!, issuer);
    // Several sources: the first that has a key for the token's kid wins.
    const any: KeyResolver = async (header, token) => {
      let last: unknown;
      for (const r of resolvers) {
        try {
          return await r(header, token);
        } catch (err) {
          last = err;
        }
      }
      throw last;
    };
    return new JoinTokenVerifier(any, issuer);
  }

  async verify(token: string | null | undefined, meetingId: string, now = Date.now()): Promise<TokenCheck> {
    if (!token) return { ok: false, reason: 'missing', message: 'join token missing' };
    if (token.length > 8192) return { ok: false, reason: 'invalid', message: 'join token too long' };
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, this.keys, {
        algorithms: [JOIN_TOKEN_ALG],
        audience: JOIN_TOKEN_AUDIENCE,
        issuer: this.issuer,
        currentDate: new Date(now),
      }));
    } catch (err) {
      if (err instanceof jose.errors.JWTExpired) return { ok: false, reason: 'expired', message: 'token expired' };
      const code = (err as { code?: string }).code ?? 'ERR_JWT_INVALID';
      return { ok: false, reason: 'invalid', message: `token rejected (${code})` };
    }
    return checkClaims(payload, meetingId, Math.floor(now / 1000));
  }

  /**
   * Verifies a signed host command. To carry it out (`POST /commands`) it must be fresh and never seen before. As a
   * revocation record (a `remove` or `end` relayed by another node), `{ asRecord: true }`: a replay is harmless and a
   * late arrival still counts while tokens it revokes may be alive.
   */
  async verifyCommand(token: string, now = Date.now(), o: { asRecord?: boolean } = {}): Promise<CommandCheck> {
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, this.keys, {
        algorithms: [JOIN_TOKEN_ALG],
        audience: COMMAND_AUDIENCE,
        issuer: this.issuer,
        currentDate: new Date(now),
        ...(o.asRecord ? { clockTolerance: MAX_JOIN_TOKEN_TTL_SECONDS } : {}),
      }));
    } catch (err) {
      return { ok: false, message: `command rejected (${(err as { code?: string }).code ?? 'ERR_JWT_INVALID'})` };
    }
    const parsed = CommandClaims.safeParse(payload);
    if (!parsed.success) return { ok: false, message: `bad command: ${describeIssues(parsed.error)}` };
    const c = parsed.data;
    if (c.exp - c.iat > MAX_COMMAND_TTL_SECONDS) return { ok: false, message: 'command lifetime too long' };
    if (o.asRecord) return { ok: true, claims: c };
    for (const [jti, exp] of this.seenCommands) if (exp * 1000 < now) this.seenCommands.delete(jti);
    if (this.seenCommands.has(c.jti)) return { ok: false, message: 'command already carried out' };
    this.seenCommands.set(c.jti, c.exp);
    return { ok: true, claims: c };
  }
}
