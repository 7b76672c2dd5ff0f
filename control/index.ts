/** The control plane's public surface for other folders (tests, bench, the dev server). */
export { ControlPlane, type ControlPlaneOptions } from './src/control-plane.js';
export { loadControlConfig, CONTROL_ENV, type ControlConfig, type ControlConfigInput } from './src/config.js';
export { iceServersFor, turnPassword, type IceServer, type TurnSettings } from './src/turn/credentials.js';
/** The API's answer types, for clients (the web portal imports these instead of restating them). */
export type { JoinResponse } from './src/meetings/schemas.js';
export type { MeetingView, MeetingList, ParticipantView, ParticipantList, ParticipantState, JoinState, ControlRequest, ControlResponse } from './src/meetings/schemas.js';
export type { Role, ParticipantRole, HostControl } from './src/meetings/policy.js';
export type { CreateMeetingInput, UpdateMeetingInput } from './src/meetings/schemas.js';
export type { Profile, UpdateProfileInput } from './src/users/service.js';
export type { ChatMessageView, ChatPage, ChatSend, ChatSent, ChatLiveFrame } from './src/chat/schemas.js';
export type { CalendarFeed } from './src/calendar/routes.js';
export type { DialIn } from './src/phone/routes.js';
export type { ErrorBody } from './src/http/errors.js';
