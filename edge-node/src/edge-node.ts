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
import type { PipeRequest, PipeResponse } from '../protocol/mesh.js';
import { CloseCodes } from '../protocol/signalling.js';
import { JoinTokenVerifier } from './auth/join-token.js';
import { RevocationStore } from './auth/revocations.js';
import type { EdgeConfig } from './config.js';
import { chooseNode } from '../../geo/index.js';
import { CODEC_HASH } from './media-codecs.js';
import { commandTargets } from './media/host-commands.js';
import { Meeting } from './media/meeting.js';
import { MeshMeeting } from './media/mesh-meeting.js';
import type { MeshLink, SelfDescription } from './mesh/link.js';
import { WorkerPool, type WorkerEntry } from './media/worker-pool.js';
import { createMetrics, type EdgeMetrics } from './metrics.js';
import { Session } from './signalling/session.js';

const NODE_VERSION = '0.1.0';
const WS_PATH = /^\/ws\/([A-Za-z0-9_.~-]{1,128})$/;
/**
 * The page and every answer: no framing, no sniffing, no referrer to other origins (links carry tokens), and a strict CSP that the
 * web client runs under (its own script and style only; media from the camera; signalling to this or another node).
 */
const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "media-src 'self' blob: mediastream:",
    "connect-src 'self' ws: wss:", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'",
  ].join('; '),
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};
/** Frames above this are cut off by ws itself (connection closed); frames up to it get a protocol error instead. */
const WS_HARD_LIMIT = 1024 * 1024;

export interface EdgeNodeOptions {
  config: EdgeConfig;
  logger?: Logger;
  /** Extra HTTP routes (the dev server adds a token endpoint); mounted before the static files. */
  routes?: (app: Hono) => void;
  /** The mesh: other nodes' shards of a meeting, pipes to and from them. Without it the node stands alone. */
  mesh?: MeshLink;
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
  /** Removals and ends, kept until the join tokens they refuse have expired (consulted on every connection). */
  readonly revocations = new RevocationStore();
  private readonly meshMeetings = new Map<string, MeshMeeting>();
  private stopping = false;
  private draining = false;
  /** The HTTP URL once bound (kept after stop, for the last heartbeats). */
  private boundUrl: string | null = null;
  private cpu = { value: 0, at: 0, used: 0, timer: null as NodeJS.Timeout | null };

  constructor(private readonly options: EdgeNodeOptions) {
    this.log = options.logger ?? pino({ level: options.config.logLevel, base: { node: options.config.nodeId } });
    this.metrics = createMetrics({
      pool: () => this.pool,
      meetings: () => this.meetings.values(),
      sessions: () => this.sessions.size,
      meshMeetings: () => this.meshMeetings.values(),
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
    this.boundUrl = this.url;
    this.options.mesh?.serve((from, req) => this.servePipe(from, req));
    this.options.mesh?.on('revocation', (command) => void this.applyRevocation(command));
    this.cpu.timer = setInterval(() => void this.sampleCpu(), 2000).unref();
    this.log.info({ url: this.url, workers: this.config.workers, mesh: !!this.options.mesh }, 'edge node listening');
  }

  /** The mesh link, if any. */
  get mesh(): MeshLink | undefined {
    return this.options.mesh;
  }

  /** A meeting open on this node (tests and the bench read it). */
  meetingOf(meetingId: string): Meeting | undefined {
    return this.meetings.get(meetingId);
  }

  /** This node's part of a meeting as joined to the mesh (tests and the bench read its pipe counts). */
  meshMeeting(meetingId: string): MeshMeeting | undefined {
    return this.meshMeetings.get(meetingId);
  }

  /** What this node says about itself in heartbeats (the mesh link adds peer id, incarnation, sequence, time). */
  describe(): SelfDescription {
    let participants = 0, consumers = 0;
    for (const m of this.meetings.values()) {
      for (const p of m.localParticipants()) {
        participants++;
        consumers += p.counts.consumers;
      }
    }
    return {
      nodeId: this.config.nodeId,
      region: this.config.region,
      latitude: this.config.latitude,
      longitude: this.config.longitude,
      signallingUrl: this.config.publicUrl ?? this.boundUrl ?? `http://${this.config.httpHost}:${this.config.httpPort}`,
      mediaAddress: this.config.rtcAnnouncedIp,
      capacity: { participants: this.config.capacity },
      load: { participants, consumers, cpu: this.cpu.value },
      state: this.draining || this.stopping ? 'draining' : 'active',
      version: NODE_VERSION,
      codecHash: CODEC_HASH,
    };
  }

  /** Share of the workers' CPU used since the last sample (0..1). */
  private async sampleCpu(): Promise<void> {
    const live = this.pool?.entries.filter((e) => !e.worker.closed) ?? [];
    if (live.length === 0) return;
    const usage = await Promise.all(live.map((e) => e.worker.getResourceUsage().catch(() => null)));
    const used = usage.reduce((n, u) => n + (u ? u.ru_utime + u.ru_stime : 0), 0);
    const now = Date.now();
    if (this.cpu.at > 0 && now > this.cpu.at) {
      this.cpu.value = Math.max(0, Math.min(1, (used - this.cpu.used) / (now - this.cpu.at) / live.length));
    }
    this.cpu.at = now;
    this.cpu.used = used;
  }

  /** A host command (remove, end) gossiped by the control plane: taken as a revocation record (`acceptRevocation`). */
  private async applyRevocation(command: string): Promise<void> {
    const r = await this.acceptRevocation(command).catch((err: Error) => ({ ok: false as const, message: err.message }));
    if (!r.ok) this.metrics.rejected.inc({ reason: 'bad_revocation' });
  }

  /** Answers a peer's pipe request by handing it to the meeting it names. */
  private async servePipe(from: string, req: PipeRequest): Promise<PipeResponse> {
    const mm = this.meshMeetings.get(req.meetingId);
    if (!mm || mm.meeting.isClosed) return { ok: false, error: { code: 'not_found', message: `meeting '${req.meetingId}' has no participant on this node` } };
    return mm.serve(from, req);
  }

  /**
   * Where a participant of `meetingId` that this node will not take should go (as a ws(s) base URL), chosen by geo's
   * node choice among the live peers: nearest to this node (its participants came to it for being near it), the
   * meeting's other nodes preferred, same codecs, a seat left; null: reconnect through the control plane. `sent`
   * spreads a drain's participants over the peers.
   */
  private redirectUrl(meetingId: string, sent: Map<string, number> = new Map()): string | null {
    const mesh = this.options.mesh;
    if (!mesh) return null;
    const { node } = chooseNode(mesh.peers(), {
      meetingId,
      excludeNodeId: this.config.nodeId,
      hostingNodeIds: mesh.shards(meetingId).map((s) => s.nodeId),
      codecHash: CODEC_HASH,
      near: { latitude: this.config.latitude, longitude: this.config.longitude, label: this.config.nodeId },
      pending: sent,
    });
    if (!node) return null;
    sent.set(node.nodeId, (sent.get(node.nodeId) ?? 0) + 1);
    return node.signallingUrl.replace(/^http/, 'ws');
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Drains the node: takes no new participants (they are redirected), tells every current one to move (a `redirect`
   * event: to a peer, or through the control plane), waits until they left or `timeoutMs` passed, then stops.
   */
  async drain(timeoutMs = this.config.drainTimeoutMs): Promise<void> {
    if (this.stopping) return;
    this.draining = true;
    this.log.info({ sessions: this.sessions.size }, 'draining');
    const sent = new Map<string, number>();
    for (const s of this.sessions) s.send('redirect', { nodeUrl: this.redirectUrl(s.meeting.id, sent), reason: 'draining' });
    const until = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < until && !this.stopping) await new Promise((r) => setTimeout(r, 100));
    await this.stop('node drained');
  }

  private buildApp(): Hono {
    const app = new Hono();
    app.use('*', async (c, next) => {
      await next();
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(k, v);
    });
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
      this.revoke(check.claims);
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
    const connectedAt = performance.now();
    void (async () => {
      const check = await this.verifier!.verify(token, meetingId);
      const verifiedAt = performance.now();
      this.metrics.setupSeconds.observe({ step: 'verify token' }, (verifiedAt - connectedAt) / 1000);
      if (!check.ok) {
        this.metrics.rejected.inc({ reason: check.reason });
        const code = check.reason === 'wrong_meeting' ? CloseCodes.forbidden : CloseCodes.unauthorized;
        ws.close(code, check.message);
        return;
      }
      if (ws.readyState !== ws.OPEN) return;
      const refusal = () => {
        const r = this.revocations.check(check.claims, Math.floor(Date.now() / 1000));
        if (!r) return false;
        this.metrics.rejected.inc({ reason: r.code === CloseCodes.removed ? 'removed' : 'meeting_ended' });
        ws.close(r.code, r.reason);
        return true;
      };
      if (refusal()) return;
      // A draining or full node sends the participant elsewhere (after the token check: nothing leaks to strangers).
      const full = this.localParticipantCount() >= this.config.capacity;
      if (this.draining || full) {
        const reason = this.draining ? 'draining' : 'full';
        ws.send(JSON.stringify({ event: 'redirect', data: { nodeUrl: this.redirectUrl(meetingId), reason } }));
        ws.close(CloseCodes.redirected, `this node is ${reason}`);
        return;
      }
      let meeting: Meeting;
      try {
        meeting = await this.meeting(meetingId);
        this.metrics.setupSeconds.observe({ step: 'open meeting' }, (performance.now() - verifiedAt) / 1000);
      } catch (err) {
        this.log.error({ err, meeting: meetingId }, 'cannot open meeting');
        ws.close(CloseCodes.nodeShutdown, 'meeting unavailable on this node');
        return;
      }
      // A removal or end may have arrived while the meeting was opened: from here on, no await until the session exists.
      if (refusal()) {
        this.releaseIfEmpty(meeting);
        return;
      }
      // The same participant from a new connection replaces the old one (a reload or a network change).
      for (const s of this.sessions) {
        if (s.meeting === meeting && s.participant.id === check.claims.sub) s.close(CloseCodes.replaced, 'joined from another connection');
      }
      const session = new Session(ws, meeting, check.claims, this.log.child({ meeting: meetingId, participant: check.claims.sub }),
        (method, outcome, timing) => {
          this.metrics.requests.inc({ method, outcome });
          if (!timing) return;
          this.metrics.requestSeconds.observe({ method, phase: 'queued' }, timing.queuedSeconds);
          this.metrics.requestSeconds.observe({ method, phase: 'handled' }, timing.handledSeconds);
        });
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

  /**
   * Takes a signed `remove` or `end` command as a revocation record (gossiped by the control plane, or relayed):
   * verified against the JWKS like any command, a replay or a late copy of a command already POSTed is fine; kept in
   * the revocation store and carried out on this node's sessions. Returns false (with the reason) for anything else.
   */
  async acceptRevocation(signedCommand: string): Promise<{ ok: true } | { ok: false; message: string }> {
    const check = await this.verifier!.verifyCommand(signedCommand, Date.now(), { asRecord: true });
    if (!check.ok) return check;
    const { mtg, cmd } = check.claims;
    if (!this.revoke(check.claims)) return { ok: false, message: `a ${cmd.act} command revokes nothing` };
    const result = await this.applyCommand(mtg, cmd);
    if (result.affected > 0) this.log.info({ meeting: mtg, command: cmd, ...result }, 'revocation record carried out');
    return { ok: true };
  }

  /** Records a verified remove/end (even with no participant of that meeting here); false for other commands. */
  private revoke(claims: { mtg: string; cmd: HostCommand; iat: number }): boolean {
    this.revocations.prune(Math.floor(Date.now() / 1000));
    return this.revocations.add({ mtg: claims.mtg, cmd: claims.cmd, iat: claims.iat });
  }

  private localParticipantCount(): number {
    let n = 0;
    for (const s of this.sessions) if (s.participant.joined) n++;
    return n;
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
      const spread = { perRouter: this.config.routerParticipants, reserve: (ex: ReadonlySet<number>) => pool.reserveOther(ex), release: (e: WorkerEntry) => pool.release(e) };
      pending = Meeting.create(id, entry, this.config, this.log, spread)
        .then((m) => {
          this.meetings.set(id, m);
          const mesh = this.options.mesh;
          if (mesh) {
            this.meshMeetings.set(id, new MeshMeeting(m, mesh, {
              selfId: mesh.nodeId,
              codecHash: CODEC_HASH,
              listenIp: this.config.rtcListenIp,
              announcedIp: this.config.pipeAnnouncedIp,
              idleMs: this.config.pipeIdleMs,
              log: this.log.child({ meeting: id }),
              onReplaced: (participantId) => {
                for (const s of this.sessions) {
                  if (s.meeting === m && s.participant.id === participantId) s.close(CloseCodes.replaced, 'joined on another node');
                }
              },
            }));
          }
          m.once('close', () => {
            const mm = this.meshMeetings.get(id);
            if (mm?.meeting === m) {
              mm.close();
              this.meshMeetings.delete(id);
            }
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
    if (this.cpu.timer) clearInterval(this.cpu.timer);
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
