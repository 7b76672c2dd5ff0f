/**
 * The browser side of the signalling protocol: typed requests answered by id, validated server events.
 * Works with any WebSocket implementation that has the browser's interface (tests and bots pass `ws`).
 */
import {
  ResponseEnvelope,
  Responses,
  parseEvent,
  type EventData,
  type EventName,
  type Method,
  type RequestData,
  type ResponseData,
} from '../../edge-node/protocol/signalling.js';

export class SignallingError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SignallingError';
  }
}

type Listener<E extends EventName> = (data: EventData<E>) => void;
type Pending = { method: Method; resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

export interface CloseInfo {
  code: number;
  reason: string;
}

export class SignallingClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<EventName, Set<Listener<never>>>();
  private readonly closeListeners = new Set<(info: CloseInfo) => void>();
  readonly opened: Promise<void>;
  closed: CloseInfo | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly timeoutMs = 15_000,
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('close', (e) => reject(new SignallingError('closed', `connection closed (${e.code} ${e.reason})`)), { once: true });
    });
    this.opened.catch(() => undefined);
    ws.addEventListener('message', (e) => this.onMessage(String(e.data)));
    ws.addEventListener('close', (e) => {
      this.closed = { code: e.code, reason: e.reason };
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new SignallingError('closed', `connection closed (${e.code} ${e.reason})`));
      }
      this.pending.clear();
      for (const l of this.closeListeners) l(this.closed);
    });
  }

  /** Connects to an edge node: `wsUrl` is its base (ws://host:port), `token` the join token. */
  static connect(wsUrl: string, meetingId: string, token: string, WS: typeof WebSocket = WebSocket): SignallingClient {
    const url = `${wsUrl.replace(/\/$/, '')}/ws/${encodeURIComponent(meetingId)}?token=${encodeURIComponent(token)}`;
    return new SignallingClient(new WS(url));
  }

  async request<M extends Method>(method: M, data: RequestData<M>): Promise<ResponseData<M>> {
    await this.opened;
    if (this.ws.readyState !== 1 /* OPEN */) throw new SignallingError('closed', `${method}: connection closed`);
    const id = this.nextId++;
    return new Promise<ResponseData<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignallingError('timeout', `${method}: no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify({ id, method, data }));
    });
  }

  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  onClose(listener: (info: CloseInfo) => void): void {
    this.closeListeners.add(listener);
  }

  close(): void {
    this.ws.close(1000, 'bye');
  }

  private onMessage(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      console.warn('signalling: non-JSON frame ignored');
      return;
    }
    if (msg && typeof msg === 'object' && 'event' in msg) {
      let ev;
      try {
        ev = parseEvent(msg);
      } catch (err) {
        console.warn('signalling: bad event ignored', err);
        return;
      }
      for (const l of this.listeners.get(ev.event) ?? []) (l as (d: unknown) => void)(ev.data);
      return;
    }
    const res = ResponseEnvelope.safeParse(msg);
    if (!res.success) {
      console.warn('signalling: bad frame ignored');
      return;
    }
    const r = res.data;
    const p = typeof r.id === 'number' ? this.pending.get(r.id) : undefined;
    if (!p) {
      if (!r.ok) console.warn(`signalling: error without request: ${r.error.code}: ${r.error.message}`);
      return;
    }
    this.pending.delete(r.id as number);
    clearTimeout(p.timer);
    if (!r.ok) return p.reject(new SignallingError(r.error.code, r.error.message));
    const data = Responses[p.method].safeParse(r.data);
    if (!data.success) return p.reject(new SignallingError('bad_response', `${p.method}: malformed response`));
    p.resolve(data.data);
  }
}
