/**
 * Removals and ends that this node must enforce on join tokens issued before them. A join token stays valid for its
 * whole lifetime (at most MAX_JOIN_TOKEN_TTL_SECONDS), so a node that only closed the sockets of the moment would let
 * a removed participant (or anyone, after an end) back in with the token they still hold. The store keeps each
 * verified `remove` / `end` command until every token it could match has expired, and is consulted when a socket
 * connects.
 *
 * Pure: no I/O, no clock of its own (times are passed in, in seconds). It is fed with verified signed commands,
 * from the control plane's `POST /commands` or, later, from other nodes (gossip): `add` takes the verified record,
 * and adding the same record twice is harmless.
 */
import { MAX_JOIN_TOKEN_TTL_SECONDS } from '../../protocol/join-token.js';
import type { HostCommand } from '../../protocol/commands.js';
import { CloseCodes } from '../../protocol/signalling.js';

/** The part of a verified command that matters here. */
export interface RevocationRecord {
  /** Meeting id. */
  mtg: string;
  cmd: HostCommand;
  /** When the command was signed (seconds since the epoch). */
  iat: number;
}

/** The part of a verified join token that is matched. */
export interface TokenFacts {
  mtg: string;
  sub: string;
  iat: number;
}

export type Refusal = { code: typeof CloseCodes.removed | typeof CloseCodes.meetingEnded; reason: string };

export interface RevocationOptions {
  /** Clock difference tolerated between the signers of tokens and of commands (several control-plane instances). */
  skewSeconds?: number;
  /** Longest join token lifetime a node accepts. */
  maxTokenTtlSeconds?: number;
}

interface Entry {
  /** Tokens issued at or before this time are refused. */
  issuedUpTo: number;
  /** The entry is dropped after this time: no token it matches is still valid. */
  keepUntil: number;
}

const DEFAULT_SKEW_SECONDS = 30;

/**
 * How long a `remove` / `end` signed at `iatSeconds` matters: tokens issued up to `issuedUpTo` (signing time plus the
 * tolerated skew) are refused, and after `keepUntil` (plus the longest token lifetime) none of them is valid any more.
 * The one rule for every holder of revocations: the nodes' store, and the control plane that republishes them.
 */
export function revocationWindow(iatSeconds: number, o: RevocationOptions = {}): { issuedUpTo: number; keepUntil: number } {
  const issuedUpTo = iatSeconds + (o.skewSeconds ?? DEFAULT_SKEW_SECONDS);
  return { issuedUpTo, keepUntil: issuedUpTo + (o.maxTokenTtlSeconds ?? MAX_JOIN_TOKEN_TTL_SECONDS) };
}

export class RevocationStore {
  /** `end` per meeting. */
  private readonly ended = new Map<string, Entry>();
  /** `remove` per meeting and participant (key `meeting\u0000participant`). */
  private readonly removed = new Map<string, Entry>();
  constructor(private readonly options: RevocationOptions = {}) {}

  /** Records a verified `remove` or `end`; other commands are ignored (false). */
  add(r: RevocationRecord): boolean {
    const entry: Entry = revocationWindow(r.iat, this.options);
    if (r.cmd.act === 'end') {
      merge(this.ended, r.mtg, entry);
      return true;
    }
    if (r.cmd.act === 'remove') {
      merge(this.removed, key(r.mtg, r.cmd.target), entry);
      return true;
    }
    return false;
  }

  /** Why a token must be refused now, or null if it may connect. */
  check(t: TokenFacts, nowSeconds: number): Refusal | null {
    const end = live(this.ended, t.mtg, nowSeconds);
    if (end && t.iat <= end.issuedUpTo) return { code: CloseCodes.meetingEnded, reason: 'the meeting has ended' };
    const rm = live(this.removed, key(t.mtg, t.sub), nowSeconds);
    if (rm && t.iat <= rm.issuedUpTo) return { code: CloseCodes.removed, reason: 'you were removed from this meeting' };
    return null;
  }

  /** Drops entries whose tokens have all expired. */
  prune(nowSeconds: number): void {
    for (const map of [this.ended, this.removed]) for (const [k, e] of map) if (e.keepUntil < nowSeconds) map.delete(k);
  }

  get size(): number {
    return this.ended.size + this.removed.size;
  }
}

const key = (meeting: string, participant: string) => `${meeting}\u0000${participant}`;

function merge(map: Map<string, Entry>, k: string, e: Entry): void {
  const old = map.get(k);
  if (!old || old.issuedUpTo < e.issuedUpTo) map.set(k, e);
}

function live(map: Map<string, Entry>, k: string, now: number): Entry | null {
  const e = map.get(k);
  if (!e) return null;
  if (e.keepUntil < now) {
    map.delete(k);
    return null;
  }
  return e;
}
