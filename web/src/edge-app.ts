/**
 * The join page, served by an edge node at `/` and by the control plane at `/join/`: `/?meeting=ID` shows the device
 * check (camera preview, mic level, pickers, join with mic or camera off), asks for a name and joins as a guest
 * through the control plane (`POST /meetings/:id/guests`, where the meeting lets guests in; the waiting room,
 * passcode, lock and the rest apply), with the meeting's chat; a link carrying `#token=...` (and `&node=ws://...`
 * when the node is not this origin) joins at once, without chat (no control plane session on that path);
 * `&nodes=ws://a,ws://b` lists other nodes of the cluster to reconnect to (same token) when this one goes away.
 * A guest whose node goes away asks the control plane again (`POST /meetings/:id/join`), which routes to a live node.
 * `&ice=` (URI-encoded JSON RTCIceServer[]) and `&policy=relay` on a token link pass TURN servers, as the control plane does.
 * `&video=N` on a token link receives at most N remote video streams (a thin client; the bench's browser participants).
 */
import { DevicePanel } from './devices.js';
import { $ } from './dom.js';
import { chatMessageArrived, chatUnavailable, configureMeetingUi, installHooks, joinFailed, joinMeeting } from './meeting-ui.js';
import { explainJoinError } from './messages.js';
import { ChatPanel } from './portal/chat.js';
import type { Rejoin } from './meeting-client.js';
import type { JoinResponse, JoinState } from './portal/api.js';

type Admitted = Extract<JoinResponse, { status: 'admitted' }>;

/** POST /meetings/:id/join or /guests (a guest's first join), same origin, with the guest session cookie. */
function postJoin(meetingId: string, path: 'join' | 'guests', body: Record<string, unknown>): Promise<Response> {
  return fetch(`/meetings/${encodeURIComponent(meetingId)}/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
}

/** The admitted answer of a join response, or an error carrying the control plane's code. */
async function admitted(res: Response): Promise<Admitted> {
  if (res.status === 404) throw Object.assign(new Error('this link needs a join token from the control plane, or the meeting does not let guests in'), { code: 'not_found' });
  const out = (await res.json().catch(() => ({}))) as Partial<JoinResponse> & { error?: { code: string; message: string } };
  if (!res.ok || out.status !== 'admitted') {
    throw Object.assign(new Error(out.error?.message ?? `could not join (${res.status})`), { code: out.error?.code ?? 'refused' });
  }
  return out as Admitted;
}

/** Joins as a guest; resolves with a token once admitted (polling while in the waiting room). */
async function guestToken(meetingId: string, name: string, passcode: string, onWaiting: () => void): Promise<Admitted> {
  const withPasscode = passcode ? { passcode } : {};
  let res = await postJoin(meetingId, 'guests', { name, ...withPasscode });
  for (let i = 0; res.status === 202 && i < 1800; i++) {
    onWaiting();
    await new Promise((r) => setTimeout(r, 2000));
    const state = (await (await fetch(`/meetings/${encodeURIComponent(meetingId)}/join`)).json()) as Partial<JoinState>;
    if (state.state === 'admitted') res = await postJoin(meetingId, 'join', withPasscode);
    else if (state.state !== 'waiting') break;
  }
  return admitted(res);
}

const NO_CHAT = 'Chat is not available here: this meeting was opened with a bare join link, without a MeshMeet '
  + 'session that keeps the chat. To chat, join from the meeting\'s own link (…/join/?meeting=…) or from the app.';

export function startEdgeApp(): void {
  installHooks('edge');
  const query = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.slice(1));
  const setError = (msg: string) => ($('join-error').textContent = msg);
  const nodeUrl = hash.get('node') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
  const media = query.get('media') !== 'none';

  let devices: DevicePanel | null = null;
  let chat: ChatPanel | null = null;
  const stopChat = () => {
    chat?.stop();
    chat = null;
  };
  const showJoin = () => {
    $('join-view').hidden = false;
    if (media && !devices) {
      devices = new DevicePanel({ preview: true });
      $('join-devices').replaceChildren(devices.el);
      void devices.start();
    }
  };

  configureMeetingUi({
    onLeft: () => {
      stopChat();
      showJoin();
      setError('You left the meeting.');
    },
    onDisconnected: (_info, explained) => {
      stopChat();
      $('meeting-view').hidden = true;
      showJoin();
      setError(explained.detail ? `${explained.title}. ${explained.detail}` : explained.title);
    },
  });

  const meetingInput = $<HTMLInputElement>('join-meeting');
  meetingInput.value = query.get('meeting') ?? '';
  $<HTMLInputElement>('join-name').value = query.get('name') ?? localStorage.getItem('meshmeet.name') ?? '';

  /** The guest's chat in this meeting (the guest session cookie set by POST /guests carries it). */
  const startChat = async (meetingId: string) => {
    const me = await fetch('/auth/me').then((r) => (r.ok ? (r.json() as Promise<{ id: string; displayName: string }>) : null)).catch(() => null);
    if (!me) return chatUnavailable(NO_CHAT);
    const panel = new ChatPanel(meetingId, { id: me.id, displayName: me.displayName });
    chat = panel;
    window.meshmeet.chat = panel.hooks();
    panel.onNewMessage = chatMessageArrived;
    await panel.start();
  };

  /** A guest's way back after the node goes away: the control plane places the guest on a live node. */
  const guestRejoin = (meetingId: string, passcode: string): Rejoin => async () => {
    const out = await admitted(await postJoin(meetingId, 'join', passcode ? { passcode } : {}));
    return { nodeUrl: out.nodeUrl.replace(/^http/, 'ws'), token: out.token };
  };
  /** A bare token link's way back: the other nodes it lists, in turn, with the same token. */
  const others = (hash.get('nodes') ?? '').split(',').filter(Boolean);
  const linkRejoin = (token: string): Rejoin | undefined => others.length === 0 ? undefined : async ({ failedUrl, attempt }) => {
    const candidates = [nodeUrl, ...others].filter((u) => u !== failedUrl);
    return { nodeUrl: candidates[(attempt - 1) % candidates.length]!, token };
  };
  const linkIce = hash.get('ice') ? (JSON.parse(hash.get('ice')!) as RTCIceServer[]) : undefined;
  const ice = { iceServers: linkIce, iceTransportPolicy: hash.get('policy') === 'relay' ? 'relay' as const : 'all' as const };
  const maxVideo = /^\d{1,3}$/.test(hash.get('video') ?? '') ? Number(hash.get('video')) : undefined;

  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const meetingId = meetingInput.value.trim();
    const name = $<HTMLInputElement>('join-name').value.trim();
    localStorage.setItem('meshmeet.name', name);
    setError('');
    $<HTMLButtonElement>('join-button').disabled = true;
    const passcode = $<HTMLInputElement>('join-passcode').value;
    guestToken(meetingId, name, passcode, () => setError('Waiting for the host to let you in…'))
      .then(async (r) => {
        const panel = devices;
        devices = null;
        await joinMeeting({
          meetingId, token: r.token, nodeUrl: r.nodeUrl.replace(/^http/, 'ws'), media, devices: await panel?.take(), rejoin: guestRejoin(meetingId, passcode),
          ice: { iceServers: r.iceServers ?? [] },
        });
        await startChat(meetingId);
      })
      .catch((err: Error & { code?: string }) => {
        if (err.code === 'wrong_passcode') $('join-passcode-label').hidden = false;
        setError(explainJoinError(err));
        joinFailed(err);
        showJoin();
      })
      .finally(() => ($<HTMLButtonElement>('join-button').disabled = false));
  });

  const linkToken = hash.get('token');
  if (linkToken && query.get('meeting')) {
    chatUnavailable(NO_CHAT);
    joinMeeting({ meetingId: query.get('meeting')!, token: linkToken, nodeUrl, media, rejoin: linkRejoin(linkToken), ice, maxVideo }).catch((err: Error & { code?: string }) => {
      setError(explainJoinError(err));
      joinFailed(err);
      showJoin();
    });
  } else {
    showJoin();
  }
}
