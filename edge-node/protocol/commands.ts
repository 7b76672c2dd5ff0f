/**
 * Host commands: the control plane decides (and checks permissions); the edge node carries them out. Each command
 * is an ES256 JWT signed with the control plane's join-token key (so the edge verifies it against the same JWKS),
 * for audience `meshmeet-edge-command`, valid for a minute, POSTed to the node's `/commands`.
 */
import { z } from 'zod';

export const COMMAND_AUDIENCE = 'meshmeet-edge-command';
export const MAX_COMMAND_TTL_SECONDS = 120;

const Id = z.string().min(1).max(128);

export const HostCommand = z.discriminatedUnion('act', [
  /** Pause the target's microphone; the target is told, and may unmute. */
  z.object({ act: z.literal('mute'), target: Id }),
  /** Pause every microphone except those listed (the hosts'). */
  z.object({ act: z.literal('muteAll'), except: z.array(Id).max(1000) }),
  /** Close the target's camera producer. */
  z.object({ act: z.literal('stopVideo'), target: Id }),
  /** Close the target's screen-share producer. */
  z.object({ act: z.literal('stopScreen'), target: Id }),
  /** Disconnect the target (the control plane bars re-entry). */
  z.object({ act: z.literal('remove'), target: Id }),
  /** Disconnect everyone: the meeting is over. */
  z.object({ act: z.literal('end') }),
]);
export type HostCommand = z.infer<typeof HostCommand>;

export const CommandClaims = z.object({
  mtg: Id,
  cmd: HostCommand,
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(8).max(64),
});
export type CommandClaims = z.infer<typeof CommandClaims>;

export const CommandRequest = z.object({ token: z.string().min(1).max(8192) });
export const CommandResult = z.object({
  /** False when the meeting has no participants on this node (nothing to do). */
  applied: z.boolean(),
  /** Participants the command touched. */
  affected: z.number().int().nonnegative(),
});
export type CommandResult = z.infer<typeof CommandResult>;
