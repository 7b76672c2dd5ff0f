/**
 * The in-meeting UI shared by both modes (edge dev-token flow and the control plane's portal): a grid of remote
 * videos with names (the active speaker highlighted, a click pins a tile), a stage for screen shares, a participant
 * list and buttons for mic, camera, screen and leave. It also owns `window.meshmeet`, the hooks tests and the
 * join-time bench use.
 */
import type { ProducerSource } from '../../edge-node/protocol/signalling.js';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';
import { $, h } from './dom.js';
import { MeetingClient, type IceOptions, type MediaPath, type RemoteTrack } from './meeting-client.js';
import { SignallingClient, type CloseInfo } from './signalling-client.js';

/** Chat helpers for tests (portal mode only; absent on the edge). */
export interface ChatHooks {
  send: (body: string, recipientId?: string | null) => Promise<void>;
  /** Messages on screen, oldest first. */
  messages: () => Array<{ id: string | null; senderId: string; senderName: string; recipientId: string | null; body: string; state: 'sent' | 'sending' | 'failed' }>;
  /** True while the live socket is open. */
  live: () => boolean;
}

declare global {
  interface Window {
    /** For tests and the join-time bench: the live client and helpers. */
    meshmeet: {
      client: () => MeetingClient | null;
      /** Resolves when this page has joined a meeting (in the portal: after the waiting room, if any). */
      joined: Promise<void>;
      publish: (source: ProducerSource, track: MediaStreamTrack) => Promise<void>;
      shareScreen: () => Promise<void>;
      /** performance.now() marks: join started (token in hand), first remote video frame painted. */
      timing: { joinStart?: number; firstRemoteFrame?: number };
      /** 'edge' (dev-token flow at the node) or 'portal' (the control plane's app at /app/). */
      mode: 'edge' | 'portal';
      chat?: ChatHooks;
    };
  }
}

export interface MeetingUiOptions {
  /** Called whenever a participant's list entry is (re)rendered: the portal adds host actions here. */
  decorateParticipant?: (li: HTMLLIElement, participantId: string, isSelf: boolean) => void;
  /** The node closed the connection (removed, meeting ended, replaced, node shutdown...). */
  onDisconnected?: (info: CloseInfo, message: string) => void;
  /** The user clicked Leave (after the client has left). */
  onLeft?: () => void;
}

export interface JoinOptions {
  meetingId: string;
  token: string;
  /** ws:// or wss:// base URL of the edge node. */
  nodeUrl: string;
  title?: string;
  /** Publish the microphone paused (the meeting's "mute on entry"). */
  startMuted?: boolean;
  /** Capture camera and microphone (default true). */
  media?: boolean;
  /** TURN servers (from the join response) and, for tests, a forced relay policy. */
  ice?: IceOptions;
}

let client: MeetingClient | null = null;
let pinned: string | null = null;
let options: MeetingUiOptions = {};
let markJoined!: () => void;
let markFailed!: (e: unknown) => void;
const joined = new Promise<void>((res, rej) => ((markJoined = res), (markFailed = rej)));
joined.catch(() => undefined);

export function installHooks(mode: 'edge' | 'portal'): void {
  window.meshmeet = {
    client: () => client,
    joined,
    publish: (source, track) => client!.publish(source, track),
    shareScreen: () => toggleScreen(),
    timing: {},
    mode,
  };
}

export function configureMeetingUi(o: MeetingUiOptions): void {
  options = o;
}

export const currentClient = (): MeetingClient | null => client;
export const joinFailed = (err: unknown): void => markFailed(err);

/** What to tell the user when the node closes the connection. */
export function closeMessage(info: CloseInfo): string {
  switch (info.code) {
    case CloseCodes.removed: return 'A host removed you from the meeting.';
    case CloseCodes.meetingEnded: return 'The host ended the meeting for everyone.';
    case CloseCodes.replaced: return 'You joined this meeting from another tab or device.';
    case CloseCodes.nodeShutdown: return 'The media server is restarting. Rejoin to continue.';
    case CloseCodes.unauthorized: return 'Your join link is invalid or has expired.';
    case CloseCodes.forbidden: return 'This join link is for another meeting.';
    default: return `Disconnected${info.reason ? `: ${info.reason}` : ` (${info.code})`}.`;
  }
}

/** Connects to the node, joins, shows the meeting view and starts camera and microphone. */
export async function joinMeeting(o: JoinOptions): Promise<MeetingClient> {
  window.meshmeet.timing.joinStart = performance.now();
  const signalling = SignallingClient.connect(o.nodeUrl, o.meetingId, o.token);
  const c = new MeetingClient(signalling, o.ice);
  client = c;
  wire(c);
  try {
    await c.join();
  } catch (err) {
    if (client === c) client = null;
    signalling.close();
    throw err;
  }
  $('join-view').hidden = true;
  $('meeting-view').hidden = false;
  $('meeting-title').textContent = `${o.title ?? `Meeting ${o.meetingId}`} — you are ${c.self!.name}`;
  status('');
  renderParticipants();
  renderControls();
  if (c.self!.role !== 'attendee' && o.media !== false) await startLocalMedia(c, !!o.startMuted);
  markJoined();
  void showMediaPath(c);
  return c;
}

/** What the path indicator says: nothing for direct UDP (the normal case). */
export function describeMediaPath(p: MediaPath | null): string {
  if (!p || p.kind === 'udp') return '';
  if (p.kind === 'tcp') return 'Connected over TCP (UDP seems blocked)';
  return `Connected through a relay (TURN over ${(p.relayProtocol ?? 'udp').toUpperCase()})`;
}

/** Keeps the small path indicator beside the title current while this client is in the meeting. */
async function showMediaPath(c: MeetingClient): Promise<void> {
  let el = document.getElementById('media-path');
  if (!el) {
    el = h('span', { id: 'media-path', class: 'media-path' });
    $('meeting-title').after(el);
  }
  for (let i = 0; client === c && i < 10_000; i++) {
    const path = await c.mediaPath().catch(() => null);
    el.textContent = describeMediaPath(path);
    el.dataset.path = path ? (path.kind === 'relay' ? `relay-${path.relayProtocol ?? 'udp'}` : path.kind) : '';
    await new Promise((r) => setTimeout(r, path ? 5000 : 1000));
  }
}

export async function leaveMeeting(): Promise<void> {
  const c = client;
  client = null;
  await c?.leave();
  resetView();
}

function resetView(): void {
  $('grid').replaceChildren();
  $('stage').replaceChildren();
  $('stage').hidden = true;
  $('audio-sink').replaceChildren();
  $('participant-list').replaceChildren();
  $('participant-count').textContent = '';
  pinned = null;
}

async function startLocalMedia(c: MeetingClient, startMuted: boolean): Promise<void> {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } },
    });
    const [audio] = stream.getAudioTracks();
    const [video] = stream.getVideoTracks();
    if (audio) {
      await c.publish('mic', audio);
      if (startMuted) {
        await c.setPaused('mic', true);
        status('You joined muted: this meeting mutes everyone on entry.');
      }
    }
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
    if (action === 'stopVideo') document.querySelector('.tile.self')?.remove();
  });
  c.on('disconnected', (info) => {
    if (client !== c) return;
    client = null;
    const message = closeMessage(info);
    status(message);
    resetView();
    options.onDisconnected?.(info, message);
  });
}

export function status(text: string): void {
  $('status').textContent = text;
}

function tileFor(participantId: string): HTMLElement {
  let tile = document.querySelector<HTMLElement>(`.tile[data-participant-id="${CSS.escape(participantId)}"]`);
  if (tile) return tile;
  tile = h('div', { class: 'tile', 'data-participant-id': participantId },
    h('div', { class: 'placeholder' }),
    h('video', { autoplay: true, playsinline: true, muted: true }),
    h('span', { class: 'name' }));
  tile.querySelector('video')!.muted = true;
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
    const video = h('video', { autoplay: true, playsinline: true, 'data-participant-id': t.participantId });
    Object.assign(video, { muted: true, srcObject: stream });
    const figure = h('figure', { 'data-consumer-id': t.consumerId },
      video,
      h('figcaption', {}, `${client?.participants.get(t.participantId)?.name ?? 'Someone'} is sharing their screen`));
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

/** Re-renders the participant list and tiles in place (entries are kept, so open menus stay open). */
export function renderParticipants(): void {
  const c = client;
  if (!c) return;
  const list = $('participant-list');
  const everyone = [...(c.self ? [c.self] : []), ...c.participants.values()];
  const keep = new Set<string>();
  for (const p of everyone) {
    keep.add(p.id);
    const isSelf = p.id === c.self?.id;
    let li = list.querySelector<HTMLLIElement>(`:scope > li[data-participant-id="${CSS.escape(p.id)}"]`);
    if (!li) {
      li = h('li', { 'data-participant-id': p.id }, h('span', { class: 'who' }));
      list.append(li);
    }
    const tracks = [...c.remote.values()].filter((t) => t.participantId === p.id);
    const mic = isSelf ? c.local.get('mic') : tracks.find((t) => t.source === 'mic');
    li.querySelector('.who')!.textContent = isSelf ? `${p.name} (you)` : p.name;
    li.classList.toggle('speaking', p.id === c.activeSpeakerId);
    li.classList.toggle('muted', !mic || mic.paused);
    options.decorateParticipant?.(li, p.id, isSelf);
  }
  list.querySelectorAll<HTMLLIElement>(':scope > li').forEach((li) => {
    if (!keep.has(li.dataset.participantId!)) li.remove();
  });
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
  const sender = c.self?.role !== 'attendee';
  const button = (id: string, source: ProducerSource, on: string, off: string) => {
    const p = c.local.get(source);
    const live = !!p && !p.paused;
    const b = $<HTMLButtonElement>(id);
    b.textContent = live ? on : off;
    b.classList.toggle('off', !live);
    b.hidden = !sender;
  };
  button('btn-mic', 'mic', 'Mute', 'Unmute');
  button('btn-camera', 'camera', 'Stop video', 'Start video');
  const sharing = c.local.has('screen');
  $('btn-screen').textContent = sharing ? 'Stop sharing' : 'Share screen';
  $('btn-screen').classList.toggle('off', sharing);
  $('btn-screen').hidden = !sender;
  renderParticipants();
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
  await leaveMeeting();
  $('meeting-view').hidden = true;
  options.onLeft?.();
});
