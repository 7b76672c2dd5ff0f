/**
 * The join token: a short-lived ES256 JWT that the control plane issues and every edge node verifies against the
 * control plane's JWKS. One schema for both sides.
 */
import { z } from 'zod';
import { Role } from './signalling.js';

export const JOIN_TOKEN_AUDIENCE = 'meshmeet-edge';
export const JOIN_TOKEN_ALG = 'ES256';
/** Longest lifetime an edge node accepts, whatever the token says. */
export const MAX_JOIN_TOKEN_TTL_SECONDS = 60 * 60;

export const JoinTokenClaims = z.object({
  /** Participant id, unique within the meeting. */
  sub: z.string().min(1).max(128),
  /** Meeting id. */
  mtg: z.string().min(1).max(128),
  /** Display name. */
  name: z.string().min(1).max(100),
  role: Role,
  /** May this participant share a screen (the meeting's screen-share policy); absent means yes. */
  screen: z.boolean().optional(),
  iss: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number().int(),
  iat: z.number().int(),
});
export type JoinTokenClaims = z.infer<typeof JoinTokenClaims>;
