/** Request and response bodies of the meetings API (zod: validation and the OpenAPI document). */
import { z } from 'zod';
import { HOST_CONTROLS, PARTICIPANT_ROLES, ROLES } from './policy.js';
import { IceServer } from '../turn/credentials.js';

export const TimeZone = z.string().min(1).max(64).refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'unknown time zone');

/** Each meeting setting, without its default (a PATCH changes only what it names). */
const SettingFields = {
  access: z.enum(['invited', 'link']).describe('invited: only invitees may join; link: any signed-in user with the link'),
  passcode: z.string().min(4).max(32).nullable(),
  waitingRoom: z.boolean(),
  muteOnEntry: z.boolean(),
  screenShare: z.enum(['all', 'hosts']),
  webinar: z.boolean().describe('panelists speak, everyone else (attendees) only watches'),
  maxParticipants: z.number().int().min(2).max(10000),
  guestJoin: z.boolean().describe('people without an account may join by name (POST /meetings/:id/guests), under the same rules'),
};

export const Settings = z.object({
  access: SettingFields.access.default('invited'),
  passcode: SettingFields.passcode.default(null),
  waitingRoom: SettingFields.waitingRoom.default(false),
  muteOnEntry: SettingFields.muteOnEntry.default(false),
  screenShare: SettingFields.screenShare.default('all'),
  webinar: SettingFields.webinar.default(false),
  maxParticipants: SettingFields.maxParticipants.default(100),
  guestJoin: SettingFields.guestJoin.default(false),
});

export const Invitee = z.object({ email: z.string().email().max(254), role: z.enum(ROLES).exclude(['host']).default('participant') });

export const CreateMeeting = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('instant'), title: z.string().trim().min(1).max(200), settings: Settings.default(Settings.parse({})), invitees: z.array(Invitee).max(500).default([]) }),
  z.object({
    kind: z.literal('scheduled'),
    title: z.string().trim().min(1).max(200),
    startsAt: z.iso.datetime({ offset: true }),
    durationMinutes: z.number().int().min(1).max(1440),
    timeZone: TimeZone,
    settings: Settings.default(Settings.parse({})),
    invitees: z.array(Invitee).max(500).default([]),
  }),
]);
export type CreateMeeting = z.infer<typeof CreateMeeting>;
/** POST /meetings as a client sends it (defaults may be left out). */
export type CreateMeetingInput = z.input<typeof CreateMeeting>;

export const UpdateMeeting = z.object({
  title: z.string().trim().min(1).max(200).optional(),
  startsAt: z.iso.datetime({ offset: true }).optional(),
  durationMinutes: z.number().int().min(1).max(1440).optional(),
  timeZone: TimeZone.optional(),
  settings: z.object(SettingFields).partial().optional(),
}).strict();
export type UpdateMeetingInput = z.input<typeof UpdateMeeting>;

export const MeetingView = z.object({
  id: z.string(),
  title: z.string(),
  kind: z.enum(['instant', 'scheduled']),
  startsAt: z.string().nullable(),
  durationMinutes: z.number().nullable(),
  timeZone: z.string(),
  status: z.enum(['scheduled', 'live', 'ended']),
  ownerId: z.string(),
  yourRole: z.enum(ROLES),
  locked: z.boolean(),
  link: z.string(),
  settings: z.object({
    access: z.enum(['invited', 'link']),
    hasPasscode: z.boolean(),
    waitingRoom: z.boolean(),
    muteOnEntry: z.boolean(),
    screenShare: z.enum(['all', 'hosts']),
    webinar: z.boolean(),
    maxParticipants: z.number(),
    guestJoin: z.boolean(),
  }),
});
export type MeetingView = z.infer<typeof MeetingView>;

/** The meetings you own or are invited to (GET /meetings). */
export const MeetingList = z.object({ meetings: z.array(MeetingView) });
export type MeetingList = z.infer<typeof MeetingList>;

export const JoinRequest = z.object({ passcode: z.string().max(64).optional() });
export const GuestJoinRequest = z.object({ name: z.string().trim().min(1).max(100), passcode: z.string().max(64).optional() });
export const JoinResponse = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('admitted'),
    token: z.string(),
    nodeUrl: z.string(),
    /** The chosen edge node (geo/: nearest healthy node; see control/src/meetings/placement.ts). */
    nodeId: z.string().optional(),
    region: z.string().optional(),
    participantId: z.string(),
    role: z.enum(ROLES),
    expiresAt: z.string(),
    muteOnEntry: z.boolean(),
    /** TURN servers with time-limited credentials for this participant (empty when none are configured). */
    iceServers: z.array(IceServer).optional(),
  }),
  z.object({ status: z.literal('waiting'), participantId: z.string() }),
]);
export type JoinResponse = z.infer<typeof JoinResponse>;

/** Where a participant stands in a meeting. */
export const ParticipantState = z.enum(['waiting', 'admitted', 'denied', 'removed']);
export type ParticipantState = z.infer<typeof ParticipantState>;
/** Your state in a meeting (GET /meetings/:id/join): null before you asked to join. */
export const JoinState = z.object({ state: ParticipantState.nullable() });
export type JoinState = z.infer<typeof JoinState>;

export const ParticipantView = z.object({
  participantId: z.string(),
  userId: z.string(),
  displayName: z.string(),
  role: z.enum(PARTICIPANT_ROLES),
  state: ParticipantState,
});
export type ParticipantView = z.infer<typeof ParticipantView>;
export const ParticipantList = z.object({ participants: z.array(ParticipantView) });
export type ParticipantList = z.infer<typeof ParticipantList>;

export const ControlRequest = z.object({ action: z.enum(HOST_CONTROLS), participantId: z.uuid().optional() });
export type ControlRequest = z.infer<typeof ControlRequest>;
export const ControlResponse = z.object({ action: z.enum(HOST_CONTROLS), affected: z.number() });
export type ControlResponse = z.infer<typeof ControlResponse>;
