/**
 * The edge node's own page (served at `/` by a node): `/?meeting=ID` asks for a name and gets a token from the dev
 * server's `/dev/token`; a link carrying `#token=...` (and `&node=ws://...` when the node is not this origin) joins
 * at once. `&nodes=ws://a,ws://b` lists other nodes of the cluster to reconnect to (same token) when this one goes
 * away; without a control plane that is where a lost node's participants go.
 */
import { $ } from './dom.js';
import type { Rejoin } from './meeting-client.js';
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

  const others = (hash.get('nodes') ?? '').split(',').filter(Boolean);
  const join = async (meetingId: string, token: string) => {
    const rejoin: Rejoin | undefined = others.length === 0 ? undefined : async ({ failedUrl, attempt }) => {
      const candidates = [nodeUrl, ...others].filter((u) => u !== failedUrl);
      return { nodeUrl: candidates[(attempt - 1) % candidates.length]!, token };
    };
    await joinMeeting({ meetingId, token, nodeUrl, media, rejoin });
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
