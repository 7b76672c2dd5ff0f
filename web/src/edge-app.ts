/**
 * The edge node's own page (served at `/` by a node): `/?meeting=ID` shows the device check (camera preview, mic
 * level, pickers, join with mic or camera off), asks for a name and gets a token from the dev server's `/dev/token`;
 * a link carrying `#token=...` (and `&node=ws://...` when the node is not this origin) joins at once.
 * Chat lives in the control plane: a meeting opened here has none, and the chat panel says so.
 */
import { DevicePanel } from './devices.js';
import { $ } from './dom.js';
import { chatUnavailable, configureMeetingUi, installHooks, joinFailed, joinMeeting } from './meeting-ui.js';
import { explainJoinError } from './messages.js';

async function devToken(meetingId: string, name: string): Promise<string> {
  const res = await fetch(`/dev/token?meeting=${encodeURIComponent(meetingId)}&name=${encodeURIComponent(name)}`);
  if (res.status === 404) throw new Error('this link needs a join token from the control plane');
  if (!res.ok) throw new Error(`could not get a token: ${(await res.text()).slice(0, 200)}`);
  return ((await res.json()) as { token: string }).token;
}

const NO_CHAT = 'Chat is not available in this meeting: it was opened straight on a media server, without the MeshMeet '
  + 'app that keeps the chat. To chat, open the meeting from the app (a link that contains /app/).';

export function startEdgeApp(): void {
  installHooks('edge');
  const query = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.slice(1));
  const setError = (msg: string) => ($('join-error').textContent = msg);
  const nodeUrl = hash.get('node') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
  const media = query.get('media') !== 'none';
  chatUnavailable(NO_CHAT);

  let devices: DevicePanel | null = null;
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
      showJoin();
      setError('You left the meeting.');
    },
    onDisconnected: (_info, explained) => {
      $('meeting-view').hidden = true;
      showJoin();
      setError(explained.detail ? `${explained.title}. ${explained.detail}` : explained.title);
    },
  });

  const meetingInput = $<HTMLInputElement>('join-meeting');
  meetingInput.value = query.get('meeting') ?? '';
  $<HTMLInputElement>('join-name').value = query.get('name') ?? localStorage.getItem('meshmeet.name') ?? '';

  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const meetingId = meetingInput.value.trim();
    const name = $<HTMLInputElement>('join-name').value.trim();
    localStorage.setItem('meshmeet.name', name);
    setError('');
    $<HTMLButtonElement>('join-button').disabled = true;
    devToken(meetingId, name)
      .then(async (token) => {
        const panel = devices;
        devices = null;
        return joinMeeting({ meetingId, token, nodeUrl, media, devices: await panel?.take() });
      })
      .catch((err: Error & { code?: string }) => {
        setError(explainJoinError(err));
        joinFailed(err);
        showJoin();
      })
      .finally(() => ($<HTMLButtonElement>('join-button').disabled = false));
  });

  const linkToken = hash.get('token');
  if (linkToken && query.get('meeting')) {
    joinMeeting({ meetingId: query.get('meeting')!, token: linkToken, nodeUrl, media }).catch((err: Error & { code?: string }) => {
      setError(explainJoinError(err));
      joinFailed(err);
      showJoin();
    });
  } else {
    showJoin();
  }
}
