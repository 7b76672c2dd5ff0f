/**
 * An edge node: mediasoup workers, the meetings on them, the HTTP server (health, metrics, the web client) and the
 * signalling WebSocket at `/ws/:meetingId?token=...`. `stop()` tells clients, closes meetings, workers and sockets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import pino, { type Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { CommandRequest, type CommandResult, type HostCommand } from '../protocol/commands.js';
import { CloseCodes } from '../protocol/signalling.js';
import { JoinTokenVerifier } from './auth/join-token.js';
import type { EdgeConfig } from './config.js';
import { commandTargets } from './media/host-commands.js';
import { Meeting } from './media/meeting.js';
import { WorkerPool } from './media/worker-pool.js';
import { createMetrics, type EdgeMetrics } from './metrics.js';
import { Session } from './signalling/session.js';

const WS_PATH = /^\/ws\/([A-Za-z0-9_.~-]{1,128})$/;
/** Frames above this are cut off by ws itself (connection closed); frames up to it get a protocol error instead. */
const WS_HARD_LIMIT = 1024 * 1024;

export interface EdgeNodeOptions {
  config: EdgeConfig;
  logger?: Logger;
  /** Extra HTTP routes (the dev server adds a token endpoint); mounted before the static files. */
  routes?: (app: Hono) => void;
}

export class EdgeNode {
  readonly log: Logger;
  readonly metrics: EdgeMetrics;
  private pool: WorkerPool | null = null;
  private verifier: JoinTokenVerifier | null = null;
  private server: http.Server | null = null;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: WS_HARD_LIMIT });
  private readonly meetings = new Map<string, Meeting>();
  private readonly creating = new Map<string, Promise<Meeting>>();
  private readonly sessions = new Set<Session>();
  private stopping = false;

  constructor(private readonly options: EdgeNodeOptions) {
    this.log = options.logger ?? pino({ level: options.config.logLevel, base: { node: options.config.nodeId } });
    this.metrics = createMetrics({
      pool: () => this.pool,
      meetings: () => this.meetings.values(),
      sessions: () => this.sessions.size,
    });
  }

  get config(): EdgeConfig {
    return this.options.config;
  }

  /** The bound HTTP address (port 0 in the config picks a free one). */
  get address(): AddressInfo {
    const a = this.server?.address();
    if (!a || typeof a === 'string') throw new Error('edge node not listening');
    return a;
  }

  get url(): string {
    return `http://${this.address.address}:${this.address.port}`;
  }

  async start(): Promise<void> {
    this.verifier = await JoinTokenVerifier.create(this.config.jwks, this.config.tokenIssuer);
    this.pool = await WorkerPool.create(this.config, this.log);
    const server = createAdaptorServer({ fetch: this.buildApp().fetch }) as http.Server;
    server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.httpPort, this.config.httpHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.log.info({ url: this.url, workers: this.config.workers }, 'edge node listening');
  }

  private buildApp(): Hono {
    const app = new Hono();
    app.get('/healthz', (c) => {
      const live = this.pool?.entries.filter((e) => !e.worker.closed).length ?? 0;
      const healthy = !this.stopping && live > 0;
      return c.json(
        { status: healthy ? 'ok' : 'unavailable', nodeId: this.config.nodeId, workers: live, meetings: this.meetings.size },
        healthy ? 200 : 503,
      );
    });
    app.get('/metrics', async (c) => {
      c.header('Content-Type', this.metrics.registry.contentType);
      return c.body(await this.metrics.registry.metrics());
    });
    app.post('/commands', async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'body is not JSON' }, 400);
      }
      const req = CommandRequest.safeParse(body);
      if (!req.success) return c.json({ error: 'expected {token}' }, 400);
      const check = await this.verifier!.verifyCommand(req.data.token);
      if (!check.ok) {
        this.metrics.rejected.inc({ reason: 'bad_command' });
        return c.json({ error: check.message }, 401);
      }
      const result = await this.applyCommand(check.claims.mtg, check.claims.cmd);
      this.log.info({ meeting: check.claims.mtg, command: check.claims.cmd, ...result }, 'host command');
      return c.json(result satisfies CommandResult);
    });
    this.options.routes?.(app);
    if (this.config.webRoot) {
      app.use('/*', serveStatic({ root: this.config.webRoot }));
      // The client routes by query string; any unknown path without an extension gets the page.
      app.get('/*', serveStatic({ root: this.config.webRoot, path: 'index.html' }));
    }
    return app;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://edge');
    const match = WS_PATH.exec(url.pathname);
    if (!match || this.stopping) {
      socket.end(`HTTP/1.1 ${this.stopping ? '503 Service Unavailable' : '404 Not Found'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, match[1]!, url.searchParams.get('token')));
  }

  private onConnection(ws: WebSocket, meetingId: string, token: string | null): void {
    // Frames that arrive while the token is checked wait for the session.
    const early: Array<[Buffer, boolean]> = [];
    const buffer = (data: Buffer, isBinary: boolean) => early.length < 32 && early.push([data, isBinary]);
    ws.on('message', buffer);
    ws.on('error', (err) => this.log.debug({ err }, 'websocket error'));
    void (async () => {
      const check = await this.verifier!.verify(token, meetingId);
      if (!check.ok) {
        this.metrics.rejected.inc({ reason: check.reason });
        const code = check.reason === 'wrong_meeting' ? CloseCodes.forbidden : CloseCodes.unauthorized;
        ws.close(code, check.message);
        return;
      }
      if (ws.readyState !== ws.OPEN) return;
      let meeting: Meeting;
      try {
        meeting = await this.meeting(meetingId);
      } catch (err) {
        this.log.error({ err, meeting: meetingId }, 'cannot open meeting');
        ws.close(CloseCodes.nodeShutdown, 'meeting unavailable on this node');
        return;
      }
      // The same participant from a new connection replaces the old one (a reload or a network change).
      for (const s of this.sessions) {
        if (s.meeting === meeting && s.participant.id === check.claims.sub) s.close(CloseCodes.replaced, 'joined from another connection');
      }
      const session = new Session(ws, meeting, check.claims, this.log.child({ meeting: meetingId, participant: check.claims.sub }),
        (method, outcome) => this.metrics.requests.inc({ method, outcome }));
      this.sessions.add(session);
      ws.off('message', buffer);
      ws.on('message', (data: Buffer, isBinary: boolean) => session.receive(data, isBinary));
      ws.on('close', () => {
        session.close();
        this.sessions.delete(session);
        this.releaseIfEmpty(meeting);
      });
      if (ws.readyState !== ws.OPEN) {
        session.close();
        this.sessions.delete(session);
        this.releaseIfEmpty(meeting);
        return;
      }
      for (const [data, isBinary] of early) session.receive(data, isBinary);
    })().catch((err) => {
      this.log.error({ err }, 'connection setup failed');
      ws.close(1011, 'internal error');
    });
  }

  /** Carries out a verified host command on this node's part of the meeting. */
  private async applyCommand(meetingId: string, cmd: HostCommand): Promise<CommandResult> {
    const meeting = this.meetings.get(meetingId);
    if (!meeting || meeting.isClosed) return { applied: false, affected: 0 };
    const connected = [...this.sessions].filter((s) => s.meeting === meeting).map((s) => s.participant.id);
    const plan = commandTargets(cmd, connected);
    if (plan.effect.type === 'disconnect') {
      const ended = plan.effect.reason === 'ended';
      let affected = 0;
      for (const s of [...this.sessions]) {
        if (s.meeting !== meeting || !plan.targets.includes(s.participant.id)) continue;
        affected++;
        s.close(ended ? CloseCodes.meetingEnded : CloseCodes.removed, ended ? 'the host ended the meeting' : 'removed by a host');
      }
      return { applied: true, affected };
    }
    return { applied: true, affected: await meeting.applyMediaCommand(cmd) };
  }

  /** The meeting's router on this node, created on first use on the least loaded worker. */
  private async meeting(id: string): Promise<Meeting> {
    const existing = this.meetings.get(id);
    if (existing && !existing.isClosed) return existing;
    let pending = this.creating.get(id);
    if (!pending) {
      const pool = this.pool!;
      const entry = pool.reserve();
      pending = Meeting.create(id, entry, this.config, this.log)
        .then((m) => {
          this.meetings.set(id, m);
          m.once('close', () => {
            pool.release(entry);
            if (this.meetings.get(id) === m) this.meetings.delete(id);
            for (const s of this.sessions) if (s.meeting === m) s.close(CloseCodes.nodeShutdown, 'meeting closed on this node');
          });
          return m;
        }, (err: unknown) => {
          pool.release(entry);
          throw err;
        })
        .finally(() => this.creating.delete(id));
      this.creating.set(id, pending);
    }
    return pending;
  }

  private releaseIfEmpty(meeting: Meeting): void {
    for (const s of this.sessions) if (s.meeting === meeting) return;
    meeting.close();
  }

  /** Graceful stop: tell clients, close sessions, meetings, workers, then the HTTP server. */
  async stop(reason = 'node shutting down'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log.info({ sessions: this.sessions.size }, 'stopping');
    for (const s of this.sessions) {
      s.send('shutdown', { reason });
      s.close(CloseCodes.nodeShutdown, reason);
    }
    this.sessions.clear();
    for (const m of this.meetings.values()) m.close();
    this.meetings.clear();
    this.pool?.close();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    this.log.info('stopped');
  }
}
