/**
 * The in-meeting UI shared by both modes (edge dev-token flow and the control plane's portal): the stage (tiles laid
 * out by `layout.ts`: gallery, speaker, screen share; pin any tile), the control bar (mic, camera, screen, hand,
 * reactions, layout, panels, leave), panels for people (hands in order, mic and camera state, host actions), chat
 * and devices, the presenter's banner, and the connection-quality mark. It also owns `window.meshmeet`, the hooks
 * tests and the join-time bench use.
 */
import type { ProducerSource, Reaction } from '../../edge-node/protocol/signalling.js';
import { Reaction as Reactions } from '../../edge-node/protocol/signalling.js';
import { DevicePanel, applySpeaker, type DeviceChoice } from './devices.js';
import { $, h } from './dom.js';
import type { LayoutMode, Rect } from './layout.js';
import { MeetingClient, type IceOptions, type LinkStats, type MediaPath, type Rejoin, type RemoteTrack } from './meeting-client.js';
import { explainClose, explainDeviceError, type Explained } from './messages.js';
import { adviseLowLayers, assessQuality, type Quality } from './quality.js';
import { SignallingClient, type CloseInfo } from './signalling-client.js';
import { Stage, type TileInfo } from './stage.js';

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
      /** The stage's current layout: its kind, size and every tile's rectangle. */
      layout: () => { kind: string; width: number; height: number; rects: Record<string, Rect>; hidden: string[] } | null;
      /** Reactions this page has shown, oldest first. */
      reactions: Array<{ participantId: string; emoji: string }>;
      /** The latest connection assessment. */
      quality: () => { quality: Quality; label: string };
    };
  }
}

export interface MeetingUiOptions {
  /** Called whenever a participant's list entry is (re)rendered: the portal adds host actions here. */
  decorateParticipant?: (li: HTMLLIElement, participantId: string, isSelf: boolean) => void;
  /** The node closed the connection (removed, meeting ended, replaced, node shutdown...). */
  onDisconnected?: (info: CloseInfo, explained: Explained) => void;
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
  /** What the pre-join device check chose (open tracks); without it, the default devices are opened. */
  devices?: DeviceChoice;
  /** Where to reconnect when the node goes away (keeps camera and microphone); without it the meeting ends here. */
  rejoin?: Rejoin;
  /** TURN servers (from the join response) and, for tests, a forced relay policy. */
  ice?: IceOptions;
  /** Receive at most this many remote video streams (MeetingClientOptions.maxVideo). */
  maxVideo?: number;
}

type PanelName = 'people' | 'chat' | 'settings';
const PANELS: PanelName[] = ['people', 'chat', 'settings'];
const PHONE = '(max-width: 720px)';

let client: MeetingClient | null = null;
let options: MeetingUiOptions = {};
let stage: Stage | null = null;
let devicePanel: DevicePanel | null = null;
let speakerId = '';
let unread = 0;
let qualityTimer: ReturnType<typeof setInterval> | null = null;
let lastLink: LinkStats | null = null;
let recentQuality: Quality[] = [];
let lowLayers = false;
let latestQuality: { quality: Quality; label: string } = { quality: 'unknown', label: 'Connection: measuring' };
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
    layout: () => {
      const l = stage?.layout;
      if (!l) return null;
      return { kind: l.kind, width: $('stage').clientWidth, height: $('stage').clientHeight, rects: Object.fromEntries(l.rects), hidden: l.hidden };
    },
    reactions: [],
    quality: () => latestQuality,
  };
}

export function configureMeetingUi(o: MeetingUiOptions): void {
  options = o;
}

export const currentClient = (): MeetingClient | null => client;
export const joinFailed = (err: unknown): void => markFailed(err);

/** Connects to the node, joins, shows the meeting view and starts camera and microphone. */
export async function joinMeeting(o: JoinOptions): Promise<MeetingClient> {
  window.meshmeet.timing.joinStart = performance.now();
  const signalling = SignallingClient.connect(o.nodeUrl, o.meetingId, o.token);
  const c = new MeetingClient(signalling, { meetingId: o.meetingId, nodeUrl: o.nodeUrl, token: o.token, rejoin: o.rejoin, ice: o.ice, maxVideo: o.maxVideo });
  client = c;
  wire(c);
  try {
    await c.join();
  } catch (err) {
    if (client === c) client = null;
    signalling.close();
    o.devices?.camera?.stop();
    o.devices?.mic?.stop();
    throw err;
  }
  $('join-view').hidden = true;
  $('meeting-view').hidden = false;
  $('meeting-title').textContent = o.title ?? `Meeting ${o.meetingId}`;
  document.title = `${o.title ?? o.meetingId} · MeshMeet`;
  status('');
  ensureStage();
  openDefaultPanels();
  speakerId = o.devices?.speakerId ?? speakerId;
  renderAll();
  if (c.self!.role !== 'attendee' && o.media !== false) await startLocalMedia(c, o);
  else {
    o.devices?.camera?.stop();
    o.devices?.mic?.stop();
  }
  startQualityWatch(c);
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
  stage?.clear();
  $('audio-sink').replaceChildren();
  $('participant-list').replaceChildren();
  $('hand-list').replaceChildren();
  $('participant-count').textContent = '';
  $('reactions').replaceChildren();
  $('share-banner').hidden = true;
  if (qualityTimer) clearInterval(qualityTimer);
  qualityTimer = null;
  lastLink = null;
  recentQuality = [];
  lowLayers = false;
  devicePanel?.close();
  devicePanel = null;
  $('meeting-devices').replaceChildren();
  setUnread(0);
}

function ensureStage(): void {
  if (stage) return;
  stage = new Stage($('stage'), $('tiles'), {
    box: $('pager'), prev: $<HTMLButtonElement>('page-prev'), next: $<HTMLButtonElement>('page-next'), label: $('page-label'),
  }, {
    onPin: (tileId) => {
      const pinnedPerson = tileId && !tileId.startsWith('screen:') && tileId !== 'self' ? tileId : null;
      void client?.setView(pinnedPerson, visibleNow).catch(() => undefined);
    },
    onVisible: (ids) => {
      visibleNow = ids;
      const pinned = stage?.pinned;
      void client?.setView(pinned && !pinned.startsWith('screen:') && pinned !== 'self' ? pinned : null, ids).catch(() => undefined);
    },
    onFirstFrame: () => (window.meshmeet.timing.firstRemoteFrame ??= performance.now()),
  });
  const saved = (() => {
    try {
      return localStorage.getItem('meshmeet.layout');
    } catch {
      return null;
    }
  })();
  if (saved === 'speaker' || saved === 'gallery') setLayoutMode(saved);
}
let visibleNow: string[] | null = null;

function setLayoutMode(mode: LayoutMode): void {
  $<HTMLSelectElement>('layout-select').value = mode;
  stage?.setMode(mode);
  try {
    localStorage.setItem('meshmeet.layout', mode);
  } catch { /* private mode */ }
}

async function startLocalMedia(c: MeetingClient, o: JoinOptions): Promise<void> {
  const d = o.devices;
  let mic = d ? d.mic : null;
  let camera = d ? d.camera : null;
  if (!d) {
    const problems: string[] = [];
    const open = async (constraints: MediaStreamConstraints, what: 'camera' | 'microphone') => {
      try {
        return (await navigator.mediaDevices.getUserMedia(constraints)).getTracks()[0]!;
      } catch (err) {
        problems.push(explainDeviceError(err as Error, what));
        return null;
      }
    };
    mic = await open({ audio: { echoCancellation: true, noiseSuppression: true } }, 'microphone');
    camera = await open({ video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } } }, 'camera');
    if (problems.length) status(problems.join(' '));
  }
  try {
    if (mic) {
      await c.publish('mic', mic);
      if (o.startMuted || (d && !d.micOn)) await c.setPaused('mic', true);
      if (o.startMuted) status('You joined muted: this meeting mutes everyone on entry.');
    }
    if (camera && (!d || d.cameraOn)) await c.publish('camera', camera);
    else camera?.stop();
  } catch (err) {
    status(`Your camera or microphone could not be sent: ${(err as Error).message}.`);
  }
  renderAll();
}

function wire(c: MeetingClient): void {
  c.on('participants', renderAll);
  c.on('activeSpeaker', renderAll);
  c.on('trackAdded', addTrack);
  c.on('trackRemoved', removeTrack);
  c.on('trackPaused', renderAll);
  c.on('localChanged', renderAll);
  c.on('hands', (raised, loweredBy) => {
    if (loweredBy && c.self && !raised.includes(c.self.id) && loweredBy !== c.self.id) status(`${nameOf(loweredBy)} lowered your hand.`);
    renderAll();
  });
  c.on('reaction', showReaction);
  c.on('hostAction', (action) => {
    const what = { mute: 'muted you', stopVideo: 'stopped your video', stopScreen: 'stopped your screen share' }[action];
    status(`A host ${what}.`);
  });
  c.on('reconnecting', () => status('Reconnecting to the meeting…'));
  c.on('reconnected', () => {
    status('');
    renderParticipants();
    renderControls();
  });
  c.on('disconnected', (info) => {
    if (client !== c) return;
    client = null;
    const explained = explainClose(info);
    resetView();
    if (options.onDisconnected) options.onDisconnected(info, explained);
    else {
      $('meeting-view').hidden = true;
      $('join-view').hidden = false;
      $('join-error').textContent = `${explained.title}. ${explained.detail}`;
    }
  });
}

export function status(text: string): void {
  $('status').textContent = text;
}

function nameOf(participantId: string): string {
  const c = client;
  if (c?.self?.id === participantId) return 'You';
  return c?.participants.get(participantId)?.name ?? 'Someone';
}

function addTrack(t: RemoteTrack): void {
  if (t.kind === 'audio') {
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.dataset.consumerId = t.consumerId;
    audio.srcObject = new MediaStream([t.track]);
    $('audio-sink').append(audio);
    void applySpeaker([audio], speakerId);
  }
  renderAll();
}

function removeTrack(t: RemoteTrack): void {
  document.querySelectorAll<HTMLElement>(`#audio-sink [data-consumer-id="${CSS.escape(t.consumerId)}"]`).forEach((el) => el.remove());
  renderAll();
}

/** Everything that shows the meeting's state: tiles, the participant list, the buttons. */
export function renderAll(): void {
  renderParticipants();
  renderControls();
  renderTiles();
}

function renderTiles(): void {
  const c = client;
  if (!c || !stage) return;
  const remote = [...c.remote.values()];
  const tiles: TileInfo[] = [];
  for (const p of c.participants.values()) {
    const camera = remote.find((t) => t.participantId === p.id && t.source === 'camera' && !t.paused);
    const mic = remote.find((t) => t.participantId === p.id && t.source === 'mic');
    tiles.push({
      id: p.id, participantId: p.id, name: p.name, kind: 'person', video: camera?.track ?? null,
      micOn: !!mic && !mic.paused, hand: c.raisedHands.includes(p.id), speaking: c.activeSpeakerId === p.id,
    });
  }
  if (c.self && c.self.role !== 'attendee') {
    const cam = c.local.get('camera');
    const mic = c.local.get('mic');
    tiles.push({
      id: 'self', participantId: c.self.id, name: c.self.name, kind: 'self', video: cam && !cam.paused ? cam.track : null,
      micOn: !!mic && !mic.paused, hand: c.raisedHands.includes(c.self.id), speaking: c.activeSpeakerId === c.self.id,
    });
  }
  for (const t of remote) {
    if (t.source !== 'screen' || t.kind !== 'video') continue;
    tiles.push({
      id: `screen:${t.consumerId}`, participantId: t.participantId, name: nameOf(t.participantId), kind: 'screen', video: t.track,
      micOn: true, hand: false, speaking: false,
    });
  }
  stage.update(tiles, c.activeSpeakerId);
}

/** Re-renders the participant list in place (entries are kept, so open menus stay open) and the raised hands. */
export function renderParticipants(): void {
  const c = client;
  if (!c) return;
  const list = $('participant-list');
  const everyone = [...(c.self ? [c.self] : []), ...c.participants.values()];
  const remote = [...c.remote.values()];
  const keep = new Set<string>();
  for (const p of everyone) {
    keep.add(p.id);
    const isSelf = p.id === c.self?.id;
    let li = list.querySelector<HTMLLIElement>(`:scope > li[data-participant-id="${CSS.escape(p.id)}"]`);
    if (!li) {
      li = h('li', { 'data-participant-id': p.id },
        h('span', { class: 'who' }),
        h('span', { class: 'states' },
          h('span', { class: 'state-hand', hidden: true }, '✋'),
          h('span', { class: 'state-mic' }),
          h('span', { class: 'state-cam' })));
      list.append(li);
    }
    const mic = isSelf ? c.local.get('mic') : remote.find((t) => t.participantId === p.id && t.source === 'mic');
    const cam = isSelf ? c.local.get('camera') : remote.find((t) => t.participantId === p.id && t.source === 'camera');
    const micOn = !!mic && !mic.paused;
    const camOn = !!cam && !cam.paused;
    const hand = c.raisedHands.indexOf(p.id);
    li.querySelector('.who')!.textContent = isSelf ? `${p.name} (you)` : p.name;
    const micEl = li.querySelector<HTMLElement>('.state-mic')!;
    micEl.textContent = micOn ? '🎙️' : '🔇';
    micEl.title = micOn ? 'Microphone on' : 'Muted';
    micEl.setAttribute('aria-label', micEl.title);
    micEl.setAttribute('role', 'img');
    const camEl = li.querySelector<HTMLElement>('.state-cam')!;
    camEl.textContent = camOn ? '📷' : '🚫';
    camEl.title = camOn ? 'Camera on' : 'Camera off';
    camEl.setAttribute('aria-label', camEl.title);
    camEl.setAttribute('role', 'img');
    const handEl = li.querySelector<HTMLElement>('.state-hand')!;
    handEl.hidden = hand < 0;
    handEl.setAttribute('role', 'img');
    handEl.setAttribute('aria-label', `Hand raised (${hand + 1})`);
    li.classList.toggle('speaking', p.id === c.activeSpeakerId);
    li.classList.toggle('muted', !micOn);
    li.classList.toggle('camera-off', !camOn);
    options.decorateParticipant?.(li, p.id, isSelf);
  }
  list.querySelectorAll<HTMLLIElement>(':scope > li').forEach((li) => {
    if (!keep.has(li.dataset.participantId!)) li.remove();
  });
  $('participant-count').textContent = `(${everyone.length})`;
  renderHands(c);
}

const isHostLike = (c: MeetingClient) => c.self?.role === 'host' || c.self?.role === 'cohost';

/** Raised hands, first raised first; hosts get a Lower button for each. */
function renderHands(c: MeetingClient): void {
  const list = $('hand-list');
  $('hands-box').hidden = c.raisedHands.length === 0;
  list.replaceChildren(...c.raisedHands.map((id) => h('li', { 'data-participant-id': id },
    h('span', { class: 'who' }, nameOf(id)),
    (isHostLike(c) || id === c.self?.id) && h('button', {
      type: 'button', class: 'small off lower-hand', 'aria-label': `Lower ${id === c.self?.id ? 'your' : `${nameOf(id)}'s`} hand`,
      onclick: () => void (id === c.self?.id ? c.raiseHand(false) : c.lowerHand(id)).catch((err: Error) => status(err.message)),
    }, 'Lower'))));
}

function setPressed(id: string, pressed: boolean): void {
  const b = $(id);
  b.setAttribute('aria-pressed', String(pressed));
}

function renderControls(): void {
  const c = client;
  if (!c) return;
  const sender = c.self?.role !== 'attendee';
  const toggle = (id: string, source: ProducerSource, on: string, off: string) => {
    const p = c.local.get(source);
    const live = !!p && !p.paused;
    const b = $<HTMLButtonElement>(id);
    setPressed(id, live);
    b.classList.toggle('off', !live);
    b.querySelector('.label')!.textContent = live ? on : off;
    b.title = live ? `${on}: click to turn off` : `${off}: click to turn on`;
    b.hidden = !sender;
  };
  toggle('btn-mic', 'mic', 'Mic on', 'Muted');
  toggle('btn-camera', 'camera', 'Camera on', 'Camera off');
  const sharing = c.local.has('screen');
  setPressed('btn-screen', sharing);
  $('btn-screen').classList.toggle('active', sharing);
  $('btn-screen').hidden = !sender;
  $('share-banner').hidden = !sharing;
  const hand = !!c.self && c.raisedHands.includes(c.self.id);
  setPressed('btn-hand', hand);
  $('btn-hand').classList.toggle('active', hand);
  $('btn-hand').querySelector('.label')!.textContent = hand ? 'Lower hand' : 'Raise hand';
  $('btn-settings').hidden = !sender;
}

async function toggleMedia(source: 'mic' | 'camera'): Promise<void> {
  const c = client;
  if (!c) return;
  const p = c.local.get(source);
  if (p) return c.setPaused(source, !p.paused);
  let track: MediaStreamTrack;
  try {
    const stream = await navigator.mediaDevices.getUserMedia(source === 'mic' ? { audio: true } : { video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
    track = stream.getTracks()[0]!;
  } catch (err) {
    status(explainDeviceError(err as Error, source === 'mic' ? 'microphone' : 'camera'));
    return;
  }
  await c.publish(source, track);
}

async function toggleScreen(): Promise<void> {
  const c = client;
  if (!c) return;
  if (c.local.has('screen')) return c.unpublish('screen');
  const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15 } }, audio: false });
  await c.publish('screen', stream.getVideoTracks()[0]!);
}

// Panels: beside the stage on a wide screen, over it on a phone (one at a time there).
function panelOpen(name: PanelName): boolean {
  return !$(`${name}-panel`).hidden;
}

export function setPanel(name: PanelName, open: boolean): void {
  if (open && matchMedia(PHONE).matches) for (const other of PANELS) if (other !== name) setPanel(other, false);
  $(`${name}-panel`).hidden = !open;
  setPressed(`btn-${name}`, open);
  $('sidebar').hidden = !PANELS.some(panelOpen);
  if (name === 'chat' && open) setUnread(0);
  if (name === 'settings' && open) void openDevicePanel();
  stage?.place();
}

function openDefaultPanels(): void {
  const wide = !matchMedia(PHONE).matches;
  setPanel('settings', false);
  setPanel('people', wide);
  setPanel('chat', wide && window.meshmeet.mode === 'portal');
}

function setUnread(n: number): void {
  unread = n;
  const badge = $('chat-unread');
  badge.hidden = n === 0;
  badge.textContent = String(n);
  $('btn-chat').setAttribute('aria-label', n ? `Chat, ${n} unread` : 'Chat');
}

/** The chat tells us of a message from someone else: counted while the chat panel is closed. */
export function chatMessageArrived(): void {
  if (!panelOpen('chat')) setUnread(unread + 1);
}

/** Chat cannot work in this meeting (no control plane): say why in the chat panel. */
export function chatUnavailable(reason: string): void {
  const note = $('chat-unavailable');
  note.textContent = reason;
  note.hidden = false;
  $('chat-form').hidden = true;
  $('chat-scroll').hidden = true;
}

async function openDevicePanel(): Promise<void> {
  const c = client;
  if (!c || devicePanel) return;
  devicePanel = new DevicePanel({
    preview: false,
    onCamera: async (track) => {
      await c.replaceTrack('camera', track);
      status('');
    },
    onMic: async (track) => {
      await c.replaceTrack('mic', track);
      status('');
    },
    onSpeaker: async (id) => {
      speakerId = id;
      await applySpeaker($('audio-sink').querySelectorAll('audio'), id);
    },
  });
  $('meeting-devices').replaceChildren(devicePanel.el);
  await devicePanel.refresh({ camera: c.localTrack('camera'), mic: c.localTrack('mic') });
}

// Reactions: a small menu; each one floats over the stage for a few seconds and is read out once.
function showReaction(participantId: string, emoji: Reaction): void {
  window.meshmeet.reactions.push({ participantId, emoji });
  const who = nameOf(participantId);
  const el = h('div', { class: 'reaction' }, h('span', { class: 'emoji', 'aria-hidden': 'true' }, emoji), h('span', { class: 'who' }, who),
    h('span', { class: 'sr-only' }, `${who} reacted ${emoji}`));
  el.style.left = `${10 + Math.floor(Math.random() * 60)}%`;
  $('reactions').append(el);
  setTimeout(() => el.remove(), 4000);
}

function buildReactionMenu(): void {
  const menu = $('react-menu');
  menu.replaceChildren(...Reactions.options.map((emoji) => h('button', {
    type: 'button', class: 'reaction-choice', 'aria-label': `React ${emoji}`,
    onclick: () => {
      closeReactionMenu();
      void client?.react(emoji).catch((err: Error) => status(err.message));
    },
  }, emoji)));
}

function closeReactionMenu(): void {
  $('react-menu').hidden = true;
  $('btn-react').setAttribute('aria-expanded', 'false');
}

// The connection-quality mark: every 2 s from getStats; two poor samples in a row ask for low layers.
function startQualityWatch(c: MeetingClient): void {
  if (qualityTimer) clearInterval(qualityTimer);
  qualityTimer = setInterval(() => {
    void c.linkStats().then((s) => {
      if (client !== c) return;
      const a = assessQuality(lastLink, s);
      lastLink = s;
      latestQuality = { quality: a.quality, label: a.label };
      const mark = $('quality');
      mark.className = `quality ${a.quality}`;
      mark.setAttribute('aria-label', a.label);
      mark.title = a.label;
      recentQuality = [...recentQuality, a.quality].slice(-5);
      const low = adviseLowLayers(lowLayers, recentQuality);
      if (low !== lowLayers) {
        lowLayers = low;
        status(low ? 'Your connection is poor: showing others in lower quality to keep the call going.' : '');
        void c.preferLowLayers(low);
      }
    }).catch(() => undefined);
  }, 2000);
}

function onClick(id: string, fn: () => Promise<void> | void): void {
  $(id).addEventListener('click', () => {
    void Promise.resolve()
      .then(fn)
      .catch((err: Error) => status(err.name === 'NotAllowedError' ? 'Screen sharing was cancelled or blocked by the browser.' : err.message));
  });
}

onClick('btn-mic', () => toggleMedia('mic'));
onClick('btn-camera', () => toggleMedia('camera'));
onClick('btn-screen', toggleScreen);
onClick('btn-stop-share', async () => {
  await client?.unpublish('screen');
});
onClick('btn-hand', async () => {
  const c = client;
  if (!c?.self) return;
  await c.raiseHand(!c.raisedHands.includes(c.self.id));
});
onClick('btn-react', () => {
  const menu = $('react-menu');
  if (!menu.childElementCount) buildReactionMenu();
  menu.hidden = !menu.hidden;
  $('btn-react').setAttribute('aria-expanded', String(!menu.hidden));
  if (!menu.hidden) menu.querySelector('button')?.focus();
});
document.addEventListener('click', (e) => {
  if (!$('react-menu').hidden && !(e.target as Element).closest?.('.react-wrap')) closeReactionMenu();
});
$('react-menu').addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    closeReactionMenu();
    $('btn-react').focus();
  }
});
$<HTMLSelectElement>('layout-select').addEventListener('change', (e) => setLayoutMode((e.target as HTMLSelectElement).value as LayoutMode));
for (const name of PANELS) onClick(`btn-${name}`, () => setPanel(name, !panelOpen(name)));
document.querySelectorAll<HTMLButtonElement>('.close-panel').forEach((b) =>
  b.addEventListener('click', () => {
    setPanel(b.dataset.panel as PanelName, false);
    $(`btn-${b.dataset.panel}`).focus();
  }));
onClick('btn-leave', async () => {
  await leaveMeeting();
  $('meeting-view').hidden = true;
  options.onLeft?.();
});
