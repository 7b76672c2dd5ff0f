/** Signs join tokens and host commands with the control plane's `join` key, and sends commands to the edge node. */
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { COMMAND_AUDIENCE, CommandResult, type HostCommand } from '../../../edge-node/protocol/commands.js';
import { JOIN_TOKEN_ALG, JOIN_TOKEN_AUDIENCE } from '../../../edge-node/protocol/join-token.js';
import { HttpError } from '../http/errors.js';
import type { KeyStore } from '../keys.js';
import type { ParticipantRole } from './policy.js';

export interface JoinTokenInput {
  meetingId: string;
  participantId: string;
  name: string;
  role: ParticipantRole;
  screen: boolean;
}

/**
 * Where host commands go when the control plane is a cluster member (control/src/cluster.ts): the nodes that hold
 * the meeting (from the directory), and revocation gossip for remove/end.
 */
export interface CommandRoute {
  nodeUrls(meetingId: string): string[];
  /** A signed remove/end command, signed at `signedAt` (seconds since the epoch). */
  revoke(command: string, signedAt: number): void;
}

export class EdgeClient {
  constructor(
    private readonly keys: KeyStore,
    private readonly issuer: string,
    readonly nodeUrl: string,
    private readonly ttlSeconds: number,
    private readonly route?: CommandRoute,
  ) {}

  async joinToken(i: JoinTokenInput): Promise<{ token: string; expiresAt: Date }> {
    const { kid, key } = await this.keys.current();
    const now = Math.floor(Date.now() / 1000);
    const token = await new jose.SignJWT({ mtg: i.meetingId, name: i.name, role: i.role, screen: i.screen })
      .setProtectedHeader({ alg: JOIN_TOKEN_ALG, kid })
      .setSubject(i.participantId)
      .setIssuer(this.issuer)
      .setAudience(JOIN_TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + this.ttlSeconds)
      .sign(key);
    return { token, expiresAt: new Date((now + this.ttlSeconds) * 1000) };
  }

  /**
   * Sends a signed command to the node, or in a cluster to every node holding the meeting (remove and end are also
   * gossiped as revocations). Results add up; a 502 for the host who asked only when no node took it.
   */
  async command(meetingId: string, cmd: HostCommand): Promise<CommandResult> {
    const { kid, key } = await this.keys.current();
    const signedAt = Math.floor(Date.now() / 1000);
    const token = await new jose.SignJWT({ mtg: meetingId, cmd })
      .setProtectedHeader({ alg: JOIN_TOKEN_ALG, kid })
      .setIssuer(this.issuer)
      .setAudience(COMMAND_AUDIENCE)
      .setIssuedAt(signedAt)
      .setExpirationTime(signedAt + 60)
      .setJti(randomUUID())
      .sign(key);
    if (!this.route) return this.send(this.nodeUrl, token);
    if (cmd.act === 'remove' || cmd.act === 'end') this.route.revoke(token, signedAt);
    const urls = this.route.nodeUrls(meetingId);
    if (urls.length === 0) return { applied: false, affected: 0 };
    const results = await Promise.allSettled(urls.map((url) => this.send(url, token)));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (ok.length === 0) throw (results[0] as PromiseRejectedResult).reason;
    return { applied: ok.some((r) => r.applied), affected: ok.reduce((n, r) => n + r.affected, 0) };
  }

  private async send(nodeUrl: string, token: string): Promise<CommandResult> {
    let res: Response;
    try {
      res = await fetch(`${nodeUrl}/commands`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      throw new HttpError(502, 'edge_unreachable', `edge node did not answer: ${(err as Error).message}`);
    }
    if (!res.ok) throw new HttpError(502, 'edge_refused', `edge node refused the command (${res.status})`);
    return CommandResult.parse(await res.json());
  }
}
