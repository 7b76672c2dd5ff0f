/**
 * The internal phone API between the SIP gateway and the control plane (HTTP, JSON, `Authorization: Bearer <shared
 * secret>`; never exposed to the public). The control plane decides admission; the gateway only relays what the caller
 * typed. One schema for both sides.
 *
 * - `POST /internal/phone/lookup` {pin} -> 200 {meetingId, needsPasscode} | 404 no such meeting (or not open to phones)
 * - `POST /internal/phone/join` {pin, passcode, caller, participantId?} -> 200 admitted (join token) | 202 waiting
 *   (ask again with the same participantId) | 403 wrong passcode, removed, denied | 409 ended, full | 423 locked |
 *   429 passcode lockout. Errors are `{error: {code, message}}` like every control plane error.
 * - `POST /internal/phone/leave` {pin, participantId} -> 204: the call ended; the caller leaves the participant list
 *   (a removed caller stays recorded as removed).
 */
import { z } from 'zod';

export const PHONE_API_PREFIX = '/internal/phone';

export const DialPin = z.string().regex(/^\d{4,16}$/, 'digits only');
/** The caller's number as the SIP From header gave it (only a masked form is ever shown). */
export const CallerNumber = z.string().max(64).regex(/^[A-Za-z0-9+*#._-]*$/, 'not a phone number');

export const PhoneLookupRequest = z.object({ pin: DialPin });
export const PhoneLookupResponse = z.object({ meetingId: z.string(), needsPasscode: z.boolean() });

export const PhoneJoinRequest = z.object({
  pin: DialPin,
  passcode: z.string().max(64).regex(/^\d*$/, 'digits only'),
  caller: CallerNumber,
  /** Set when asking again from the waiting room. */
  participantId: z.string().uuid().optional(),
});
export type PhoneJoinRequest = z.infer<typeof PhoneJoinRequest>;

export const PhoneLeaveRequest = z.object({ pin: DialPin, participantId: z.string().uuid() });
export type PhoneLeaveRequest = z.infer<typeof PhoneLeaveRequest>;

export const PhoneJoinResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('admitted'),
    meetingId: z.string(),
    participantId: z.string(),
    token: z.string(),
    nodeUrl: z.string(),
    displayName: z.string(),
    muteOnEntry: z.boolean(),
  }),
  z.object({ status: z.literal('waiting'), meetingId: z.string(), participantId: z.string() }),
]);
export type PhoneJoinResponse = z.infer<typeof PhoneJoinResponse>;

export const PhoneError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** How a caller is shown: "Phone ••• 0123" (the last four digits only). */
export function maskCaller(caller: string): string {
  const digits = caller.replace(/\D/g, '');
  return digits.length >= 4 ? `Phone ••• ${digits.slice(-4)}` : 'Phone caller';
}
