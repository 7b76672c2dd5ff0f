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

export class EdgeClient {
  constructor(
    private readonly keys: KeyStore,
    private readonly issuer: string,
    readonly nodeUrl: string,
    private readonly ttlSeconds: number,
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

  /** Sends a signed command to the node; a node that does not answer is a 502 for the host who asked. */
  async command(meetingId: string, cmd: HostCommand): Promise<CommandResult> {
    const { kid, key } = await this.keys.current();
    const token = await new jose.SignJWT({ mtg: meetingId, cmd })
      .setProtectedHeader({ alg: JOIN_TOKEN_ALG, kid })
      .setIssuer(this.issuer)
      .setAudience(COMMAND_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(randomUUID())
      .sign(key);
    let res: Response;
    try {
      res = await fetch(`${this.nodeUrl}/commands`, {
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
