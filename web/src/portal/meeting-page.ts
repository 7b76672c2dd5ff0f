/**
 * The meeting page `/app/?meeting=ID`: a lobby with Join (and the passcode when one is needed), the waiting room,
 * the meeting itself (the shared meeting UI plus chat and, for hosts, the host panel), and what to say when it is
 * over (left, removed, ended, denied).
 */
import { DevicePanel } from '../devices.js';
import { $, fill, h } from '../dom.js';
import { chatMessageArrived, configureMeetingUi, currentClient, joinMeeting, leaveMeeting } from '../meeting-ui.js';
import { explainJoinError } from '../messages.js';
import { ApiError, call, describe, get, isHostLike, meetingPath, type DialIn, type JoinResponse, type JoinState, type Meeting, type Profile, type Role } from './api.js';
import { ChatPanel } from './chat.js';
import { HostPanel } from './host-panel.js';
import { topBar } from './chrome.js';
import { browserTimeZone, formatInstant } from './time.js';

const ROLE_TEXT: Record<Role, string> = {
  host: 'You are the host.',
  cohost: 'You join as a co-host.',
  panelist: 'You join as a panelist.',
  participant: 'You join as a participant.',
  attendee: 'You join as an attendee: you watch and listen.',
  phone: 'You join by phone.',
};

export async function startMeetingPage(root: HTMLElement, me: Profile, meetingId: string): Promise<void> {
  let meeting: Meeting;
  try {
    meeting = await get<Meeting>(meetingPath(meetingId));
  } catch (err) {
    const missing = err instanceof ApiError && err.status === 404;
    fill(root, topBar(me), h('main', { class: 'portal-body narrow' }, h('section', { class: 'card', id: 'meeting-missing' },
      h('h1', {}, missing ? 'Meeting not found' : 'Could not open the meeting'),
      h('p', { class: 'error', role: 'alert' }, missing
        ? 'This meeting does not exist, or it is for invited people only and you are not on its list. If someone sent you this link, ask them to invite you (with the email you signed in with) or to let anyone with the link join.'
        : describe(err)),
      h('a', { href: '/app/' }, 'Back to your meetings'))));
    return;
  }
  document.title = `${meeting.title} · MeshMeet`;
  new MeetingPage(root, me, meeting).lobby();
}

class MeetingPage {
  private passcode: string | undefined;
  private needsPasscode: boolean;
  private waitTimer: ReturnType<typeof setTimeout> | null = null;
  private chat: ChatPanel | null = null;
  private host: HostPanel | null = null;
  private joining = false;
  private devices: DevicePanel | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly me: Profile,
    private meeting: Meeting,
  ) {
    this.needsPasscode = meeting.settings.hasPasscode && !isHostLike(meeting.yourRole);
  }

  private get path(): string {
    return meetingPath(this.meeting.id);
  }

  private show(...cards: HTMLElement[]): void {
    $('meeting-view').hidden = true;
    this.root.hidden = false;
    fill(this.root, topBar(this.me), h('main', { class: 'portal-body narrow' }, ...cards));
  }

  private summary(): HTMLElement {
    const m = this.meeting;
    return h('p', { class: 'meeting-when' }, m.kind === 'scheduled' && m.startsAt
      ? `${formatInstant(m.startsAt, this.me.timeZone || browserTimeZone())} · ${m.durationMinutes} min`
      : 'Instant meeting');
  }

  lobby(error = ''): void {
    const passcode = h('input', { id: 'lobby-passcode', type: 'password', autocomplete: 'off', maxlength: 64, value: this.passcode ?? '' });
    const form = h('form', { id: 'lobby-form', class: 'stack' },
      this.needsPasscode && h('label', {}, 'Passcode', passcode),
      h('div', { class: 'button-row' },
        h('button', { type: 'submit', id: 'lobby-join' }, 'Join meeting'),
        h('a', { href: '/app/', class: 'back' }, 'Back to your meetings')));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (this.needsPasscode) this.passcode = passcode.value;
      void this.join();
    });
    // The device check: camera preview, mic level, pickers; kept across lobby re-renders (a wrong passcode).
    if (!this.devices && this.meeting.yourRole !== 'attendee') {
      this.devices = new DevicePanel({ preview: true });
      void this.devices.start();
    }
    this.show(h('section', { class: 'card lobby', id: 'lobby' },
      h('h1', { id: 'lobby-title' }, this.meeting.title),
      this.summary(),
      h('p', { class: 'muted' }, ROLE_TEXT[this.meeting.yourRole], this.meeting.settings.waitingRoom && !isHostLike(this.meeting.yourRole) ? ' A host admits you from the waiting room.' : ''),
      this.devices && h('div', { id: 'lobby-devices' }, this.devices.el),
      form,
      h('p', { class: 'muted', id: 'dial-in' }),
      h('p', { class: 'error', role: 'alert', id: 'lobby-error' }, error)));
    if (this.needsPasscode) passcode.focus();
    // How to join by phone, when the control plane has a SIP gateway.
    void call<DialIn>('GET', `${this.path}/dial-in`).then(({ data }) => {
      const el = document.getElementById('dial-in');
      if (el && data) {
        el.textContent = `Join by phone: call ${data.number}, enter meeting ID ${data.pin} then #${this.meeting.settings.hasPasscode ? ', then the passcode and #' : ''}.`;
      }
    }, () => undefined);
  }

  /** POST join: 200 enters, 202 waits, errors go back to the lobby (or to the "over" card when final). */
  async join(): Promise<void> {
    if (this.joining) return;
    this.joining = true;
    const button = document.getElementById('lobby-join') as HTMLButtonElement | null;
    if (button) button.disabled = true;
    try {
      const { data } = await call<JoinResponse>('POST', `${this.path}/join`, this.passcode ? { passcode: this.passcode } : {});
      if (data.status === 'waiting') this.waiting();
      else await this.enter(data);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'wrong_passcode') {
        const hadOne = !!this.passcode;
        this.needsPasscode = true;
        this.passcode = undefined;
        this.lobby(hadOne ? 'Wrong passcode. Try again.' : 'This meeting needs a passcode.');
      } else if (err instanceof ApiError && (err.code === 'removed' || err.code === 'denied' || err.code === 'meeting_ended')) {
        const titles: Record<string, string> = { removed: 'You were removed', denied: 'Entry denied', meeting_ended: 'The meeting has ended' };
        this.over(titles[err.code]!, explainJoinError(err), false);
      } else {
        this.lobby(explainJoinError(err as Error));
      }
    } finally {
      this.joining = false;
    }
  }

  private waiting(): void {
    const note = h('p', { class: 'muted', id: 'waiting-note' }, 'The host has been told you are here.');
    this.show(h('section', { class: 'card waiting', id: 'waiting-view' },
      h('div', { class: 'pulse', 'aria-hidden': 'true' }),
      h('h1', {}, 'Waiting for the host to let you in'),
      h('p', {}, this.meeting.title),
      note,
      h('button', { type: 'button', class: 'off', id: 'waiting-cancel', onclick: () => {
        this.stopWaiting();
        this.lobby();
      } }, 'Back')));
    const poll = async () => {
      this.waitTimer = null;
      try {
        const { state } = await get<JoinState>(`${this.path}/join`);
        note.textContent = 'The host has been told you are here.';
        if (state === 'admitted') return void this.join();
        if (state === 'denied') return this.over('Entry denied', 'The host did not let you in.', false);
        if (state === 'removed') return this.over('You were removed', 'A host removed you from this meeting.', false);
      } catch (err) {
        note.textContent = `Still waiting (could not reach the server: ${describe(err)})`;
      }
      if (document.getElementById('waiting-view')) this.waitTimer = setTimeout(() => void poll(), 2000);
    };
    this.waitTimer = setTimeout(() => void poll(), 2000);
  }

  private stopWaiting(): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = null;
  }

  private async enter(r: Extract<JoinResponse, { status: 'admitted' }>): Promise<void> {
    this.stopWaiting();
    // The role may have changed since the page loaded (made co-host); the meeting's lock state too.
    this.meeting = await get<Meeting>(this.path).catch(() => this.meeting);
    const role: Role = r.role;
    const host = new HostPanel(this.meeting.id, this.me.id, role, this.meeting.locked);
    const chat = new ChatPanel(this.meeting.id, { id: this.me.id, displayName: this.me.displayName });
    configureMeetingUi({
      decorateParticipant: host.decorate,
      onDisconnected: (_info, explained) => {
        this.teardown();
        this.over(explained.title, explained.detail, explained.canRejoin);
      },
      onLeft: () => {
        this.teardown();
        this.over('You left the meeting', '', true);
      },
    });
    this.root.hidden = true;
    fill(this.root);
    try {
      const c = await joinMeeting({
        meetingId: this.meeting.id,
        token: r.token,
        nodeUrl: r.nodeUrl.replace(/^http/, 'ws'),
        title: this.meeting.title,
        startMuted: r.muteOnEntry,
        devices: await this.takeDevices(),
        // A lost or draining node: ask the control plane again; it routes to a live node.
        rejoin: async () => {
          const { data } = await call<JoinResponse>('POST', `${this.path}/join`, this.passcode ? { passcode: this.passcode } : {});
          if (data.status !== 'admitted') throw new Error('not admitted');
          return { nodeUrl: data.nodeUrl.replace(/^http/, 'ws'), token: data.token };
        },
        ice: { iceServers: r.iceServers ?? [] },
      });
      this.chat = chat;
      this.host = host;
      window.meshmeet.chat = chat.hooks();
      chat.onNewMessage = chatMessageArrived;
      const people = () => chat.setRecipients([...(c.self ? [c.self] : []), ...c.participants.values()].map((p) => ({ id: p.id, name: p.name })));
      c.on('participants', people);
      people();
      host.start();
      await chat.start();
    } catch (err) {
      if (currentClient()) await leaveMeeting();
      this.teardown();
      this.lobby(`Could not connect to the meeting. ${explainJoinError(err as Error)}`);
    }
  }

  /** Hands the device check's open tracks to the meeting (a later lobby opens a new check). */
  private async takeDevices() {
    const panel = this.devices;
    this.devices = null;
    return panel?.take();
  }

  private teardown(): void {
    this.chat?.stop();
    this.host?.stop();
    this.chat = this.host = null;
    $('chat-panel').hidden = true;
  }

  /** The meeting is over for this user: left, removed, denied, ended or disconnected. */
  private over(title: string, message: string, canRejoin: boolean): void {
    this.stopWaiting();
    this.devices?.close();
    this.devices = null;
    this.show(h('section', { class: 'card', id: 'ended-view' },
      h('h1', { id: 'ended-title' }, title),
      h('p', { id: 'ended-message', role: 'status' }, message),
      h('p', { class: 'muted' }, this.meeting.title),
      h('div', { class: 'button-row' },
        canRejoin && h('button', { type: 'button', id: 'rejoin', onclick: () => {
          this.lobby();
          void this.join();
        } }, 'Rejoin'),
        h('a', { href: '/app/', class: canRejoin ? 'back' : 'button' }, 'Back to your meetings'))));
  }
}
