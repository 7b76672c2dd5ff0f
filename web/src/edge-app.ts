/**
 * The edge node's own page (served at `/` by a node): `/?meeting=ID` asks for a name and gets a token from the dev
 * server's `/dev/token`; a link carrying `#token=...` (and `&node=ws://...` when the node is not this origin) joins
 * at once. `&ice=` (URI-encoded JSON RTCIceServer[]) and `&policy=relay` pass TURN servers, as the control plane does.
 */
import { $ } from './dom.js';
import { configureMeetingUi, installHooks, joinFailed, joinMeeting } from './meeting-ui.js';

async function devToken(meetingId: string, name: string): Promise<string> {
  const res = await fetch(`/dev/token?meeting=${encodeURIComponent(meetingId)}&name=${encodeURIComponent(name)}`);
  if (res.status === 404) throw new Error('this link needs a join token from the control plane');
  if (!res.ok) throw new Error(`could not get a token: ${(await res.text()).slice(0, 200)}`);
  return ((await res.json()) as { token: string }).token;
}

export function startEdgeApp(): void {
  installHooks('edge');
  const query = new URLSearchParams(location.search);
  const hash = new URLSearchParams(location.hash.slice(1));
  const setError = (msg: string) => ($('join-error').textContent = msg);
  const nodeUrl = hash.get('node') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
  const media = query.get('media') !== 'none';
  $('join-view').hidden = false;

  configureMeetingUi({
    onLeft: () => {
      $('join-view').hidden = false;
      setError('You left the meeting.');
    },
  });

  const meetingInput = $<HTMLInputElement>('join-meeting');
  meetingInput.value = query.get('meeting') ?? '';
  $<HTMLInputElement>('join-name').value = query.get('name') ?? localStorage.getItem('meshmeet.name') ?? '';

  const iceServers = hash.get('ice') ? (JSON.parse(hash.get('ice')!) as RTCIceServer[]) : undefined;
  const ice = { iceServers, iceTransportPolicy: hash.get('policy') === 'relay' ? 'relay' as const : 'all' as const };
  const join = async (meetingId: string, token: string) => {
    await joinMeeting({ meetingId, token, nodeUrl, media, ice });
  };

  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const meetingId = meetingInput.value.trim();
    const name = $<HTMLInputElement>('join-name').value.trim();
    localStorage.setItem('meshmeet.name', name);
    setError('');
    $<HTMLButtonElement>('join-button').disabled = true;
    devToken(meetingId, name)
      .then((token) => join(meetingId, token))
      .catch((err: Error) => {
        setError(err.message);
        joinFailed(err);
      })
      .finally(() => ($<HTMLButtonElement>('join-button').disabled = false));
  });

  const linkToken = hash.get('token');
  if (linkToken && query.get('meeting')) {
    join(query.get('meeting')!, linkToken).catch((err: Error) => {
      setError(`could not join: ${err.message}`);
      joinFailed(err);
    });
  }
}
