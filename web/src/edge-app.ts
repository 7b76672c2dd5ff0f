/**
 * The join page, served by an edge node at `/` and by the control plane at `/join/`: `/?meeting=ID` asks for a name
 * and joins as a guest through the control plane (`POST /meetings/:id/guests`, where the meeting lets guests in; the
 * waiting room, passcode, lock and the rest apply); a link carrying `#token=...` (and `&node=ws://...` when the node
 * is not this origin) joins at once.
 */
import { $ } from './dom.js';
import { configureMeetingUi, installHooks, joinFailed, joinMeeting } from './meeting-ui.js';

type Admitted = { status: 'admitted'; token: string; nodeUrl: string };

/** Joins as a guest; resolves with a token once admitted (polling while in the waiting room). */
async function guestToken(meetingId: string, name: string, passcode: string, onWaiting: () => void): Promise<Admitted> {
  const body = JSON.stringify({ name, ...(passcode ? { passcode } : {}) });
  const post = (path: string) => fetch(`/meetings/${encodeURIComponent(meetingId)}/${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: path === 'join' ? JSON.stringify(passcode ? { passcode } : {}) : body,
  });
  let res = await post('guests');
  for (let i = 0; res.status === 202 && i < 1800; i++) {
    onWaiting();
    await new Promise((r) => setTimeout(r, 2000));
    const state = (await (await fetch(`/meetings/${encodeURIComponent(meetingId)}/join`)).json()) as { state?: string };
    if (state.state === 'admitted') res = await post('join');
    else if (state.state !== 'waiting') break;
  }
  if (res.status === 404) throw Object.assign(new Error('this link needs a join token from the control plane, or the meeting does not let guests in'), { code: 'not_found' });
  const out = (await res.json().catch(() => ({}))) as Admitted & { error?: { code: string; message: string } };
  if (!res.ok || out.status !== 'admitted') {
    throw Object.assign(new Error(out.error?.message ?? `could not join (${res.status})`), { code: out.error?.code ?? 'refused' });
  }
  return out;
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

  const join = async (meetingId: string, token: string, node = nodeUrl) => {
    await joinMeeting({ meetingId, token, nodeUrl: node, media });
  };

  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const meetingId = meetingInput.value.trim();
    const name = $<HTMLInputElement>('join-name').value.trim();
    localStorage.setItem('meshmeet.name', name);
    setError('');
    $<HTMLButtonElement>('join-button').disabled = true;
    guestToken(meetingId, name, $<HTMLInputElement>('join-passcode').value, () => setError('Waiting for the host to let you in…'))
      .then((r) => join(meetingId, r.token, r.nodeUrl.replace(/^http/, 'ws')))
      .catch((err: Error & { code?: string }) => {
        if (err.code === 'wrong_passcode') $('join-passcode-label').hidden = false;
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
