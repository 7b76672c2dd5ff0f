/**
 * The web client's UI: a join form, then a grid of remote videos with names (the active speaker highlighted, a
 * click pins a tile), a stage for screen shares, a participant list and buttons for mic, camera, screen and leave.
 *
 * Links: `/?meeting=ID` asks for a name and gets a token from the dev server's `/dev/token`; a link from the
 * control plane carries `#token=...` (and `&node=ws://...` when the node is not this origin) and joins at once.
 */
import type { ProducerSource } from '../../edge-node/protocol/signalling.js';
import { MeetingClient, type RemoteTrack } from './meeting-client.js';
import { SignallingClient } from './signalling-client.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const query = new URLSearchParams(location.search);
const hash = new URLSearchParams(location.hash.slice(1));

let client: MeetingClient | null = null;
let pinned: string | null = null;

declare global {
  interface Window {
    /** For tests and the join-time bench: the live client and helpers. */
    meshmeet: {
      client: () => MeetingClient | null;
      joined: Promise<void>;
      publish: (source: ProducerSource, track: MediaStreamTrack) => Promise<void>;
      shareScreen: () => Promise<void>;
      /** performance.now() marks: join started (token in hand), first remote video frame painted. */
      timing: { joinStart?: number; firstRemoteFrame?: number };
    };
  }
}

let markJoined!: () => void;
let markFailed!: (e: unknown) => void;
const joined = new Promise<void>((res, rej) => ((markJoined = res), (markFailed = rej)));
joined.catch(() => undefined);
window.meshmeet = {
  client: () => client,
  joined,
  publish: (source, track) => client!.publish(source, track),
  shareScreen: () => toggleScreen(),
  timing: {},
};

function setError(msg: string): void {
  $('join-error').textContent = msg;
}

async function devToken(meetingId: string, name: string): Promise<string> {
  const res = await fetch(`/dev/token?meeting=${encodeURIComponent(meetingId)}&name=${encodeURIComponent(name)}`);
  if (res.status === 404) throw new Error('this link needs a join token from the control plane');
  if (!res.ok) throw new Error(`could not get a token: ${(await res.text()).slice(0, 200)}`);
  return ((await res.json()) as { token: string }).token;
}

async function join(meetingId: string, token: string, nodeUrl: string): Promise<void> {
  window.meshmeet.timing.joinStart = performance.now();
  const signalling = SignallingClient.connect(nodeUrl, meetingId, token);
  const c = new MeetingClient(signalling);
  client = c;
  wire(c);
  await c.join();
  $('join-view').hidden = true;
  $('meeting-view').hidden = false;
  $('meeting-title').textContent = `Meeting ${meetingId} — you are ${c.self!.name}`;
  renderParticipants();
  if (c.self!.role !== 'attendee' && query.get('media') !== 'none') await startLocalMedia(c);
  markJoined();
}

async function startLocalMedia(c: MeetingClient): Promise<void> {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
    });
    const [audio] = stream.getAudioTracks();
    const [video] = stream.getVideoTracks();
    if (audio) await c.publish('mic', audio);
    if (video) {
      await c.publish('camera', video);
      showSelfPreview(video);
    }
  } catch (err) {
    status(`camera/microphone unavailable: ${(err as Error).message}`);
  }
  renderControls();
}

function wire(c: MeetingClient): void {
  c.on('participants', renderParticipants);
  c.on('activeSpeaker', renderParticipants);
  c.on('trackAdded', addTrack);
  c.on('trackRemoved', removeTrack);
  c.on('trackPaused', renderParticipants);
  c.on('localChanged', renderControls);
  c.on('hostAction', (action) => {
    const what = { mute: 'muted you', stopVideo: 'stopped your video', stopScreen: 'stopped your screen share' }[action];
    status(`A host ${what}.`);
  });
  c.on('disconnected', (info) => {
    status(`disconnected: ${info.reason || info.code}`);
    $('grid').replaceChildren();
    $('stage').replaceChildren();
  });
}

function status(text: string): void {
  $('status').textContent = text;
}

function tileFor(participantId: string): HTMLElement {
  let tile = document.querySelector<HTMLElement>(`.tile[data-participant-id="${CSS.escape(participantId)}"]`);
  if (tile) return tile;
  tile = document.createElement('div');
  tile.className = 'tile';
  tile.dataset.participantId = participantId;
  tile.innerHTML = '<div class="placeholder"></div><video autoplay playsinline muted></video><span class="name"></span>';
  tile.addEventListener('click', () => {
    pinned = pinned === participantId ? null : participantId;
    void client?.setView(pinned);
    renderParticipants();
  });
  $('grid').append(tile);
  return tile;
}

function showSelfPreview(track: MediaStreamTrack): void {
  const tile = tileFor('self');
  tile.classList.add('self');
  tile.querySelector('video')!.srcObject = new MediaStream([track]);
  renderParticipants();
}

function addTrack(t: RemoteTrack): void {
  const stream = new MediaStream([t.track]);
  if (t.kind === 'audio') {
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.dataset.consumerId = t.consumerId;
    audio.srcObject = stream;
    $('audio-sink').append(audio);
  } else if (t.source === 'screen') {
    const figure = document.createElement('figure');
    figure.dataset.consumerId = t.consumerId;
    const video = document.createElement('video');
    Object.assign(video, { autoplay: true, playsInline: true, muted: true, srcObject: stream });
    video.dataset.participantId = t.participantId;
    const caption = document.createElement('figcaption');
    caption.textContent = `${client?.participants.get(t.participantId)?.name ?? 'Someone'} is sharing their screen`;
    figure.append(video, caption);
    $('stage').append(figure);
    $('stage').hidden = false;
  } else {
    const tile = tileFor(t.participantId);
    const video = tile.querySelector('video')!;
    video.srcObject = stream;
    video.dataset.consumerId = t.consumerId;
    video.requestVideoFrameCallback(() => (window.meshmeet.timing.firstRemoteFrame ??= performance.now()));
  }
  renderParticipants();
}

function removeTrack(t: RemoteTrack): void {
  document.querySelectorAll<HTMLElement>(`[data-consumer-id="${CSS.escape(t.consumerId)}"]`).forEach((el) => {
    if (el instanceof HTMLVideoElement && el.closest('.tile')) {
      el.srcObject = null;
      delete el.dataset.consumerId;
    } else el.remove();
  });
  $('stage').hidden = $('stage').childElementCount === 0;
  renderParticipants();
}

function renderParticipants(): void {
  const c = client;
  if (!c) return;
  const list = $('participant-list');
  list.replaceChildren();
  const everyone = [...(c.self ? [c.self] : []), ...c.participants.values()];
  for (const p of everyone) {
    const li = document.createElement('li');
    li.textContent = p.id === c.self?.id ? `${p.name} (you)` : p.name;
    li.classList.toggle('speaking', p.id === c.activeSpeakerId);
    list.append(li);
  }
  $('participant-count').textContent = `(${everyone.length})`;
  // Tiles: one per remote participant (even without video), plus the self preview; drop those who left.
  for (const p of c.participants.values()) tileFor(p.id);
  document.querySelectorAll<HTMLElement>('#grid .tile').forEach((tile) => {
    const id = tile.dataset.participantId!;
    if (id === 'self') {
      tile.querySelector('.name')!.textContent = 'You';
      return;
    }
    const info = c.participants.get(id);
    if (!info) return tile.remove();
    const tracks = [...c.remote.values()].filter((t) => t.participantId === id);
    const camera = tracks.find((t) => t.source === 'camera' && !t.paused);
    const mic = tracks.find((t) => t.source === 'mic');
    const name = tile.querySelector('.name')!;
    name.textContent = info.name;
    name.classList.toggle('muted', !mic || mic.paused);
    tile.querySelector<HTMLElement>('.placeholder')!.textContent = camera ? '' : info.name.slice(0, 1).toUpperCase();
    tile.querySelector('video')!.hidden = !camera;
    tile.classList.toggle('speaking', id === c.activeSpeakerId);
    tile.classList.toggle('pinned', id === pinned);
  });
}

function renderControls(): void {
  const c = client;
  if (!c) return;
  const button = (id: string, source: ProducerSource, on: string, off: string) => {
    const p = c.local.get(source);
    const live = !!p && !p.paused;
    const b = $<HTMLButtonElement>(id);
    b.textContent = live ? on : off;
    b.classList.toggle('off', !live);
  };
  button('btn-mic', 'mic', 'Mute', 'Unmute');
  button('btn-camera', 'camera', 'Stop video', 'Start video');
  const sharing = c.local.has('screen');
  $('btn-screen').textContent = sharing ? 'Stop sharing' : 'Share screen';
  $('btn-screen').classList.toggle('off', sharing);
}

async function toggleMedia(source: 'mic' | 'camera'): Promise<void> {
  const c = client;
  if (!c) return;
  const p = c.local.get(source);
  if (p) return c.setPaused(source, !p.paused);
  const stream = await navigator.mediaDevices.getUserMedia(source === 'mic' ? { audio: true } : { video: true });
  const track = stream.getTracks()[0]!;
  await c.publish(source, track);
  if (source === 'camera') showSelfPreview(track);
}

async function toggleScreen(): Promise<void> {
  const c = client;
  if (!c) return;
  if (c.local.has('screen')) return c.unpublish('screen');
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  await c.publish('screen', stream.getVideoTracks()[0]!);
}

function onClick(id: string, fn: () => Promise<void>): void {
  $(id).addEventListener('click', () => fn().catch((err: Error) => status(err.message)));
}

onClick('btn-mic', () => toggleMedia('mic'));
onClick('btn-camera', () => toggleMedia('camera'));
onClick('btn-screen', toggleScreen);
onClick('btn-leave', async () => {
  await client?.leave();
  client = null;
  $('meeting-view').hidden = true;
  $('join-view').hidden = false;
  $('grid').replaceChildren();
  $('stage').replaceChildren();
  setError('You left the meeting.');
});

const nodeUrl = hash.get('node') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
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
    .then((token) => join(meetingId, token, nodeUrl))
    .catch((err: Error) => {
      setError(err.message);
      markFailed(err);
    })
    .finally(() => ($<HTMLButtonElement>('join-button').disabled = false));
});

const linkToken = hash.get('token');
if (linkToken && query.get('meeting')) {
  join(query.get('meeting')!, linkToken, nodeUrl).catch((err: Error) => {
    setError(`could not join: ${err.message}`);
    markFailed(err);
  });
}
