/**
 * The meeting chat beside the video: history from `GET /meetings/:id/chat` (newest-first pages, shown oldest
 * first), live messages over the control plane's WebSocket `/meetings/:id/chat/live`, and sending with
 * `POST /meetings/:id/chat`. Each message gets a client id once; every retry of it reuses that id, so the server
 * stores it once however often the answer is lost.
 */
import { $, h } from '../dom.js';
import type { ChatHooks } from '../meeting-ui.js';
import { ApiError, call, describe, get, meetingPath, type ChatLiveFrame, type ChatMessage, type ChatPage, type ChatSend, type ChatSent } from './api.js';
import { formatClock } from './time.js';

interface Entry {
  clientId: string;
  id: string | null;
  senderId: string;
  senderName: string;
  recipientId: string | null;
  body: string;
  sentAt: string;
  state: 'sent' | 'sending' | 'failed';
  error?: string;
}

const MAX_BODY = 4000;
const PAGE = 50;

export class ChatPanel {
  /** Keyed by `senderId/clientId`: one entry per message, whether it came from history, the socket or our send. */
  private readonly entries = new Map<string, Entry>();
  private readonly names = new Map<string, string>();
  private ws: WebSocket | null = null;
  private stopped = false;
  private reconnectMs = 1000;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private nextCursor: string | null = null;
  private isLive = false;
  private historyLoaded = false;
  private readonly abort = new AbortController();
  /** Called for each new message from someone else that arrives live (the meeting UI counts unread ones). */
  onNewMessage: ((m: ChatMessage) => void) | null = null;

  constructor(
    private readonly meetingId: string,
    private readonly me: { id: string; displayName: string },
  ) {}

  hooks(): ChatHooks {
    return {
      send: (body, recipientId = null) => this.send(body, recipientId ?? null),
      messages: () => this.sorted().map((e) => ({
        id: e.id, senderId: e.senderId, senderName: e.senderName, recipientId: e.recipientId, body: e.body, state: e.state,
      })),
      live: () => this.isLive,
    };
  }

  async start(): Promise<void> {
    this.stopped = false;
    $('chat-messages').replaceChildren();
    this.error('');
    const signal = this.abort.signal;
    $('chat-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const input = $<HTMLTextAreaElement>('chat-input');
      const body = input.value.trim();
      if (!body) return;
      input.value = '';
      const to = $<HTMLSelectElement>('chat-to').value || null;
      void this.send(body, to);
    }, { signal });
    $('chat-input').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        $<HTMLFormElement>('chat-form').requestSubmit();
      }
    }, { signal });
    $('chat-older').addEventListener('click', () => void this.loadOlder(), { signal });
    this.connect();
    await this.loadLatest();
  }

  /** Stops live delivery (left, removed, meeting ended); `reason` is shown in the panel. */
  stop(reason?: string): void {
    this.stopped = true;
    this.abort.abort();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.ws?.close(1000, 'bye');
    this.ws = null;
    this.setLive(false);
    if (reason) this.error(reason);
  }

  /** Who a direct message can go to: the others in the meeting. */
  setRecipients(people: Array<{ id: string; name: string }>): void {
    const select = $<HTMLSelectElement>('chat-to');
    const current = select.value;
    const others = people.filter((p) => p.id !== this.me.id);
    for (const p of others) this.names.set(p.id, p.name);
    select.replaceChildren(
      h('option', { value: '' }, 'Everyone'),
      ...others.map((p) => h('option', { value: p.id }, `${p.name} (direct)`)),
    );
    select.value = others.some((p) => p.id === current) ? current : '';
  }

  private error(text: string): void {
    $('chat-error').textContent = text;
  }

  private setLive(live: boolean): void {
    this.isLive = live;
    $('chat-state').textContent = live ? '' : this.stopped ? '' : 'reconnecting…';
  }

  private connect(): void {
    if (this.stopped) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${meetingPath(this.meetingId, '/chat/live')}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener('message', (e) => {
      let frame: Partial<ChatLiveFrame>;
      try {
        frame = JSON.parse(String(e.data)) as typeof frame;
      } catch {
        return;
      }
      if (frame.type === 'ready') {
        this.reconnectMs = 1000;
        this.setLive(true);
        // Subscribed: fetch the latest page again, for anything sent before the subscription took effect (or while
        // a previous socket was down).
        void this.loadLatest();
      } else if (frame.type === 'message' && frame.message) {
        const isNew = !this.entries.has(`${frame.message.senderId}/${frame.message.clientId}`);
        this.upsert(frame.message);
        if (isNew && frame.message.senderId !== this.me.id) this.onNewMessage?.(frame.message);
      }
    });
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.setLive(false);
      if (this.stopped) return;
      if (e.code === 4403) {
        this.stop('Chat closed: you are no longer in this meeting.');
        return;
      }
      this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectMs);
      this.reconnectMs = Math.min(this.reconnectMs * 2, 10_000);
    });
  }

  private async loadLatest(): Promise<void> {
    try {
      const page = await get<ChatPage>(meetingPath(this.meetingId, `/chat?limit=${PAGE}`));
      // Only the first load sets the cursor to older pages; later refreshes merge into what is already here.
      if (!this.historyLoaded) this.nextCursor = page.nextCursor;
      this.historyLoaded = true;
      for (const m of page.messages) this.upsert(m, false);
      this.render(true);
    } catch (err) {
      this.error(`Could not load the chat history: ${describe(err)}`);
    }
  }

  private async loadOlder(): Promise<void> {
    if (!this.nextCursor) return;
    try {
      const page = await get<ChatPage>(
        meetingPath(this.meetingId, `/chat?limit=${PAGE}&cursor=${encodeURIComponent(this.nextCursor)}`));
      this.nextCursor = page.nextCursor;
      for (const m of page.messages) this.upsert(m, false);
      this.render(false);
    } catch (err) {
      this.error(`Could not load older messages: ${describe(err)}`);
    }
  }

  private upsert(m: ChatMessage, render = true): void {
    this.entries.set(`${m.senderId}/${m.clientId}`, {
      clientId: m.clientId, id: m.id, senderId: m.senderId, senderName: m.senderName, recipientId: m.recipientId,
      body: m.body, sentAt: m.sentAt, state: 'sent',
    });
    if (render) this.render(true);
  }

  async send(body: string, recipientId: string | null): Promise<void> {
    if ([...body].length > MAX_BODY) {
      this.error(`A message can have at most ${MAX_BODY} characters.`);
      return;
    }
    const entry: Entry = {
      clientId: crypto.randomUUID(), id: null, senderId: this.me.id, senderName: this.me.displayName, recipientId, body,
      sentAt: new Date().toISOString(), state: 'sending',
    };
    this.entries.set(`${entry.senderId}/${entry.clientId}`, entry);
    this.render(true);
    await this.deliver(entry);
  }

  /** POSTs the entry, retrying transient failures with the same client id; a lasting failure offers Retry. */
  private async deliver(entry: Entry): Promise<void> {
    entry.state = 'sending';
    entry.error = undefined;
    this.render(false);
    for (let attempt = 0; ; attempt++) {
      try {
        const { data } = await call<ChatSent>('POST', meetingPath(this.meetingId, '/chat'), {
          clientId: entry.clientId, body: entry.body, recipientId: entry.recipientId,
        } satisfies ChatSend);
        this.error('');
        this.upsert(data.message);
        return;
      } catch (err) {
        const transient = !(err instanceof ApiError) || err.status === 0 || err.status >= 500 || err.status === 429;
        if (transient && attempt < 3 && !this.stopped) {
          await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
          continue;
        }
        // Unless the socket already brought it in meanwhile.
        const now = this.entries.get(`${entry.senderId}/${entry.clientId}`);
        if (now && now.state === 'sent') return;
        entry.state = 'failed';
        entry.error = describe(err);
        this.render(false);
        throw err;
      }
    }
  }

  private sorted(): Entry[] {
    return [...this.entries.values()].sort((a, b) => a.sentAt.localeCompare(b.sentAt) || (a.id ?? '').localeCompare(b.id ?? ''));
  }

  private render(stickToBottom: boolean): void {
    const scroll = $('chat-scroll');
    const atBottom = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 40;
    const list = $('chat-messages');
    list.replaceChildren(...this.sorted().map((e) => this.item(e)));
    $('chat-older').hidden = !this.nextCursor;
    $('chat-empty').hidden = this.entries.size > 0;
    if (stickToBottom && atBottom) scroll.scrollTop = scroll.scrollHeight;
  }

  private item(e: Entry): HTMLLIElement {
    const mine = e.senderId === this.me.id;
    const direct = e.recipientId !== null;
    const to = direct ? (mine ? `to ${this.names.get(e.recipientId!) ?? 'one participant'}` : 'to you') : '';
    return h('li', {
      class: ['msg', mine && 'mine', direct && 'direct', e.state !== 'sent' && e.state].filter(Boolean).join(' '),
      'data-message-id': e.id ?? undefined,
      'data-client-id': e.clientId,
      'data-sender-id': e.senderId,
    },
    h('div', { class: 'meta' },
      h('span', { class: 'from' }, mine ? 'You' : e.senderName),
      direct && h('span', { class: 'to' }, ` ${to} · direct message`),
      h('time', { datetime: e.sentAt }, formatClock(e.sentAt))),
    h('div', { class: 'body' }, e.body),
    e.state === 'sending' && h('div', { class: 'state' }, 'Sending…'),
    e.state === 'failed' && h('div', { class: 'state' }, `Not sent: ${e.error ?? 'error'} `,
      h('button', { type: 'button', class: 'link-button', onclick: () => void this.deliver(e).catch(() => undefined) }, 'Retry')));
  }
}
