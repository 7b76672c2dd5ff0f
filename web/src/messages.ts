/**
 * Every way a meeting can end or fail, as a sentence a person understands with what to do next. Pure: no DOM, so
 * the wording has its own unit tests. The UI shows `title` large and `detail` below it; `canRejoin` says whether a
 * Rejoin button makes sense.
 */
import { CloseCodes } from '../../edge-node/protocol/signalling.js';

export interface Explained {
  title: string;
  detail: string;
  canRejoin: boolean;
}

const say = (title: string, detail: string, canRejoin = true): Explained => ({ title, detail, canRejoin });

/** Why the media server closed the connection (the WebSocket close code and reason). */
export function explainClose(info: { code: number; reason?: string }): Explained {
  switch (info.code) {
    case CloseCodes.removed:
      return say('You were removed from the meeting', 'A host removed you from the meeting. You cannot rejoin it; ask the host if you think this was a mistake.', false);
    case CloseCodes.meetingEnded:
      return say('The meeting has ended', 'The host ended the meeting for everyone.', false);
    case CloseCodes.replaced:
      return say('You joined from somewhere else', 'This meeting is open in another tab or on another device, so this one was disconnected. Close the other one and rejoin here to continue here.');
    case CloseCodes.nodeShutdown:
      return say('The media server is restarting', 'Your connection moved away from a server that is shutting down. Rejoin to continue; it takes a few seconds.');
    case CloseCodes.unauthorized:
      return say('Your join link has expired', 'Join links work for a few minutes only. Ask the host for a new link, or open the meeting again from your list of meetings.', false);
    case CloseCodes.forbidden:
      return say('This link is for another meeting', 'The link you opened does not match this meeting. Ask the host for the right link.', false);
    case CloseCodes.normal:
    case CloseCodes.goingAway:
      return say('You left the meeting', '');
    case 1006:
      return say('The connection was lost', 'Your network dropped the connection to the meeting. Check that you are online, then rejoin.');
    default:
      return say('You were disconnected', `The meeting server closed the connection${info.reason ? ` (${info.reason})` : ''}. Rejoin to continue; if it keeps happening, try again later.`);
  }
}

/** What went wrong getting the camera or microphone (a DOMException's name from getUserMedia). */
export function explainDeviceError(err: { name?: string; message?: string } | null | undefined, what: 'camera' | 'microphone' | 'camera and microphone' = 'camera and microphone'): string {
  const name = err?.name ?? '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
      return `Your browser blocked the ${what}. Click the camera icon in the address bar (or the site settings), allow access, then reload the page. You can also join without them.`;
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return `No ${what} was found. Plug one in and pick it from the list, or join without it.`;
    case 'NotReadableError':
    case 'TrackStartError':
      return `The ${what} is in use by another app (a call or recording app?) or was disconnected. Close that app, then pick the device again.`;
    case 'OverconstrainedError':
    case 'ConstraintNotSatisfiedError':
      return `The chosen ${what} is no longer available. Pick another one from the list.`;
    case 'SecurityError':
      return `The ${what} can only be used on a secure (https) page.`;
    case 'AbortError':
      return `The ${what} could not start. Try again, or pick another device.`;
    case 'NotSupportedError':
    case 'TypeError':
      return `This browser cannot use the ${what} here. Use a current Chrome, Edge, Firefox or Safari over https.`;
    default:
      return `The ${what} could not start${err?.message ? ` (${err.message})` : ''}. Try again, or join without it.`;
  }
}

/** A failed join or request: an error from the signalling protocol, the control plane's API, or the network. */
export function explainJoinError(err: { code?: string; status?: number; message?: string } | null | undefined): string {
  const code = err?.code ?? '';
  const message = err?.message ?? '';
  const closed = /connection closed \((\d+)/.exec(message);
  if (closed) {
    const e = explainClose({ code: Number(closed[1]) });
    return e.detail ? `${e.title}. ${e.detail}` : e.title;
  }
  switch (code) {
    case 'meeting_full':
    case 'full':
      return 'The meeting is full. Ask the host to raise the limit, or try again when someone leaves.';
    case 'locked':
      return 'The host has locked this meeting: nobody new can join. Ask the host to unlock it.';
    case 'meeting_ended':
      return 'This meeting has ended. Ask the host for a new meeting link.';
    case 'removed':
      return 'You were removed from this meeting by a host, so you cannot rejoin it. Ask the host if you think this was a mistake.';
    case 'denied':
      return 'The host did not let you in.';
    case 'wrong_passcode':
      return 'The passcode is wrong. Check it with the host and try again.';
    case 'passcode_locked':
      return 'Too many wrong passcodes: joining this meeting is blocked for 15 minutes. Check the passcode with the host.';
    case 'rate_limited':
      return 'Too many tries in a short time. Wait a minute, then try again.';
    case 'not_found':
      return 'This meeting does not exist, or you are not invited to it. Check the link, or ask the host to invite you (or to let anyone with the link join).';
    case 'network':
      return 'The server did not answer. Check that you are online, then try again.';
    case 'timeout':
      return 'The meeting server did not answer in time. Check your connection, then try again.';
    case 'unsupported_version':
      return 'This page is out of date. Reload it to get the current version.';
    case 'forbidden':
      return `You are not allowed to do that in this meeting${message ? ` (${message})` : ''}.`;
    default:
      if (err?.status === 0) return 'The server did not answer. Check that you are online, then try again.';
      if (err?.status === 401) return 'You are signed out. Sign in again, then rejoin.';
      if (err?.status === 429) return 'Too many tries in a short time. Wait a minute, then try again.';
      if (err?.status && err.status >= 500) return 'The server had a problem. Try again in a moment.';
      return message ? `Could not join: ${message}.` : 'Could not join. Try again.';
  }
}
