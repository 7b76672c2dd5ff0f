/** The control plane's HTTP API as the portal uses it: same origin, the session cookie, JSON in and out. */
/*
 * Every shape below is the control plane's own (zod-inferred, control/index.ts), imported as types only: nothing of
 * the server reaches the browser bundle, and a change of the API shows here as a type error.
 */
import type { ErrorBody, ParticipantRole } from '../../../control/index.js';

export type {
  CalendarFeed,
  ChatLiveFrame,
  ChatMessageView as ChatMessage,
  ChatPage,
  ChatSend,
  ChatSent,
  ControlRequest,
  ControlResponse,
  CreateMeetingInput,
  DialIn,
  HostControl as HostAction,
  JoinResponse,
  JoinState,
  MeetingList,
  MeetingView as Meeting,
  ParticipantList,
  ParticipantRole as Role,
  ParticipantState,
  ParticipantView as Participant,
  Profile,
  UpdateMeetingInput,
  UpdateProfileInput,
} from '../../../control/index.js';

/** Hosts and co-hosts: they see the waiting room and have host controls. */
export const isHostLike = (r: ParticipantRole): boolean => r === 'host' || r === 'cohost';

/** An error answer `{error: {code, message, field?}}` (or a network failure: status 0, code `network`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Calls the API; resolves with the status and the JSON body (undefined for 204), throws ApiError otherwise. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, 'network', `the server did not answer (${(err as Error).message})`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = (json as { error?: Partial<ErrorBody['error']> } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText), e?.field);
  }
  return { status: res.status, data: json as T };
}

export const get = async <T>(path: string): Promise<T> => (await call<T>('GET', path)).data;
export const post = async <T>(path: string, body: unknown = {}): Promise<T> => (await call<T>('POST', path, body)).data;
export const patch = async <T>(path: string, body: unknown): Promise<T> => (await call<T>('PATCH', path, body)).data;
export const del = async (path: string): Promise<void> => void (await call<unknown>('DELETE', path));

/** A readable line for any error: the API's message, else the error's. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export const meetingPath = (id: string, rest = ''): string => `/meetings/${encodeURIComponent(id)}${rest}`;

/** The sign-in URL that brings the browser back to `returnTo` (a path on this origin). */
export const loginUrl = (returnTo: string): string => `/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
