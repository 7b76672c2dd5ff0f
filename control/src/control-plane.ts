/**
 * The control plane process: PostgreSQL (external, or embedded PGlite), migrations, the chat store (Cassandra, or
 * PostgreSQL), identity, and the HTTP API. `start()` brings it up, `stop()` takes it down in reverse order.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import pg from 'pg';
import pino, { type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { Calendar } from './calendar/service.js';
import { calendarRoutes } from './calendar/routes.js';
import { CassandraChatStore } from './chat/cassandra-store.js';
import { PostgresChatStore } from './chat/postgres-store.js';
import { ChatHub, chatRoutes } from './chat/routes.js';
import type { ChatStore } from './chat/store.js';
import { TrustedProxies, type MeetingHosts, type NodeSource } from '../../geo/index.js';
import type { ControlConfig } from './config.js';
import { EMBEDDED_POOL_MAX, startEmbeddedPostgres } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { Api } from './http/api.js';
import type { AppEnv } from './http/context.js';
import { clientAddressMiddleware } from './http/client-address.js';
import { HttpError, errorResponse } from './http/errors.js';
import { guestScope } from './http/guest-scope.js';
import { RateLimiter } from './http/rate-limit.js';
import { connectSources, contentSecurityPolicy, sameOriginWrites, securityHeaders } from './http/security.js';
import { createIdentity, type Identity } from './identity/index.js';
import { KeyStore } from './keys.js';
import { EdgeClient } from './meetings/edge-client.js';
import { JoinPlacement, configuredNodeSource } from './meetings/placement.js';
import { clusterCommandRoute, clusterSources, joinCluster, type ClusterCommandRoute } from './cluster.js';
import type { ClusterView } from '../../edge-node/index.js';
import { meetingRoutes } from './meetings/routes.js';
import { CreateMeeting } from './meetings/schemas.js';
import { Meetings } from './meetings/service.js';
import { createControlMetrics } from './metrics.js';
import { userRoutes } from './users/routes.js';
import { iceServersFor, parseTurnUrls } from './turn/credentials.js';
import { dialInRoutes, phoneApi } from './phone/routes.js';
import { PhoneAdmission } from './phone/service.js';
import { PHONE_API_PREFIX } from '../../edge-node/protocol/phone.js';
import { Users } from './users/service.js';

export interface ControlPlaneOptions {
  config: ControlConfig;
  logger?: Logger;
  /** Folder of the built web app, served at /app/. */
  webRoot?: string;
  /** The clock (ms) of timed key refreshes; tests inject one instead of waiting a minute. */
  clock?: () => number;
  /** The edge nodes to place participants on (the cluster's view); default: EDGE_NODES_FILE, else EDGE_NODE_URL. */
  nodes?: NodeSource;
  /** The nodes serving a meeting (the cluster's directory), so that joiners prefer them. */
  meetingHosts?: MeetingHosts;
  /** The edge cluster's view, when the caller is already a member (dev server); else CLUSTER_KEY/CLUSTER_JOIN. */
  cluster?: ClusterView;
}

export class ControlPlane {
  readonly log: Logger;
  pool: pg.Pool | null = null;
  chat: ChatStore | null = null;
  private embedded: { stop(): Promise<void> } | null = null;
  private identity: Identity | null = null;
  private server: http.Server | null = null;
  private wss: WebSocketServer | null = null;
  private readonly hub = new ChatHub();
  private meetings: Meetings | null = null;
  private metrics: ReturnType<typeof createControlMetrics> | null = null;
  /** The edge cluster's membership and directory (null without a cluster). */
  cluster: ClusterView | null = null;
  /** Host commands through the cluster (it republishes revocations to nodes that come up). */
  private commandRoute: ClusterCommandRoute | null = null;
  /** Requests being handled (their client may have gone): stop() waits for them before closing the database. */
  private inflight = 0;

  constructor(private readonly options: ControlPlaneOptions) {
    this.log = options.logger ?? pino({ level: options.config.logLevel, base: { service: 'control' } });
  }

  get config(): ControlConfig {
    return this.options.config;
  }

  get url(): string {
    const a = this.server?.address() as AddressInfo | null;
    if (!a) throw new Error('control plane not listening');
    return `http://${a.address}:${a.port}`;
  }

  async start(): Promise<void> {
    const cfg = this.config;
    try {
      let url = cfg.databaseUrl;
      if (!url) {
        const embedded = await startEmbeddedPostgres(path.join(cfg.dataDir, 'pgdata'));
        this.embedded = embedded;
        url = embedded.url;
        this.log.info({ dataDir: cfg.dataDir }, 'embedded PostgreSQL (PGlite) started');
      }
      // PGlite runs one transaction at a time across connections: the embedded database gets a pool of one.
      this.pool = new pg.Pool({ connectionString: url, max: cfg.databaseUrl ? 10 : EMBEDDED_POOL_MAX });
      this.pool.on('error', (err) => this.log.error({ err }, 'idle PostgreSQL client error'));
      const applied = await migrate(this.pool);
      if (applied.length) this.log.info({ applied }, 'migrations applied');

      this.metrics = createControlMetrics(() => this.pool, () => this.hub.size);
      const onQuery = (op: string, seconds: number) => this.metrics!.chatQuery.observe({ op }, seconds);
      if (cfg.cassandraContactPoints) {
        this.chat = new CassandraChatStore({
          contactPoints: cfg.cassandraContactPoints.split(',').map((s) => s.trim()),
          localDataCenter: cfg.cassandraLocalDc,
          keyspace: cfg.cassandraKeyspace,
          replicationFactor: cfg.cassandraReplication,
          onQuery,
        });
      } else {
        this.chat = new PostgresChatStore({ pool: this.pool, onQuery });
      }
      await this.chat.init();

      const joinKeys = new KeyStore(this.pool, 'join', this.options.clock);
      await joinKeys.current();
      this.identity = await createIdentity({ pool: this.pool, config: cfg, log: this.log, keys: new KeyStore(this.pool, 'oidc') });
      this.cluster = this.options.cluster ?? (await joinCluster(cfg, this.log));
      const route = this.cluster ? clusterCommandRoute(this.cluster, this.log) : undefined;
      this.commandRoute = route ?? null;
      const edge = new EdgeClient(joinKeys, cfg.publicUrl, cfg.edgeNodeUrl.replace(/\/$/, ''), cfg.joinTokenTtlSeconds, route);
      const meetings = new Meetings(this.pool, edge, cfg.publicUrl);
      this.meetings = meetings;

      const app = new Hono<AppEnv>();
      app.onError((err, c) => {
        if (err instanceof HttpError) return errorResponse(c, err);
        this.log.error({ err, path: c.req.path }, 'request failed');
        return errorResponse(c, new HttpError(500, 'internal', 'internal error'));
      });
      app.notFound((c) => errorResponse(c, new HttpError(404, 'not_found', `no route ${c.req.method} ${c.req.path}`)));
      const https = cfg.publicUrl.startsWith('https:');
      const isIdp = (p: string) => p === '/oidc' || p.startsWith('/oidc/');
      const sources = this.cluster ? clusterSources(this.cluster) : undefined;
      const nodeSource = this.options.nodes ?? sources?.nodes ?? configuredNodeSource(cfg);
      const placement = JoinPlacement.fromConfig(cfg, { nodes: nodeSource, hosts: this.options.meetingHosts ?? sources?.meetingHosts, log: this.log });
      app.use('*', securityHeaders({
        // Pages connect to whichever edge node a join is placed on: every node in the view, as it is now.
        csp: () => contentSecurityPolicy({
          connect: [...new Set([cfg.edgeNodeUrl, ...nodeSource().map((n) => n.signallingUrl)].flatMap(connectSources))],
        }),
        hsts: https,
        ownPages: isIdp,
      }));
      app.use('*', sameOriginWrites({ allowed: [new URL(cfg.publicUrl).origin], exempt: isIdp }));
      app.use('*', async (c, next) => {
        const start = performance.now();
        this.inflight++;
        try {
          await next();
        } finally {
          this.inflight--;
        }
        this.log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - start) }, 'request');
      });
      app.use('*', this.metrics.middleware);
      app.use('*', clientAddressMiddleware(TrustedProxies.parse(cfg.trustedProxies)));
      app.use('*', bodyLimit({
        maxSize: 64 * 1024,
        onError: (c) => errorResponse(c, new HttpError(413, 'too_large', 'request body over 64 KiB')),
      }));
      app.get('/healthz', async (c) => {
        try {
          await this.pool!.query('SELECT 1');
          return c.json({ status: 'ok' });
        } catch {
          return c.json({ status: 'unavailable' }, 503);
        }
      });
      app.get('/metrics', async (c) => {
        c.header('Content-Type', this.metrics!.registry.contentType);
        return c.body(await this.metrics!.registry.metrics());
      });
      app.get('/.well-known/jwks.json', async (c) => {
        c.header('Cache-Control', 'public, max-age=300');
        return c.json(await joinKeys.jwks());
      });
      app.route(PHONE_API_PREFIX, phoneApi(new PhoneAdmission(this.pool, meetings, edge), cfg.phoneGatewaySecret));
      app.use('*', this.identity.authenticate);
      app.use('*', guestScope);

      const api = new Api(app);
      this.identity.mount(app, api);
      userRoutes(api, new Users(this.pool));
      const turn = cfg.turnSecret ? { urls: parseTurnUrls(cfg.turnUrls), secret: cfg.turnSecret, ttlSeconds: cfg.turnTtlSeconds } : null;
      meetingRoutes(api, meetings, new RateLimiter({ burst: cfg.joinRateBurst, perSecond: cfg.joinRatePerSecond }), placement,
        (participantId) => iceServersFor(turn, participantId), this.identity.startSession);
      calendarRoutes(api, new Calendar(this.pool, meetings, cfg.publicUrl, cfg.dialInNumber));
      dialInRoutes(api, meetings, cfg.dialInNumber);
      chatRoutes(api, this.chat, meetings, this.hub);
      const doc = api.openapi({ title: 'MeshMeet control plane', version: '1' });
      app.get('/openapi.json', (c) => c.json(doc));
      if (this.options.webRoot) {
        const root = this.options.webRoot;
        app.get('/app', (c) => c.redirect('/app/'));
        app.use('/app/*', serveStatic({ root, rewriteRequestPath: (p) => p.replace(/^\/app/, '') }));
        app.get('/app/*', serveStatic({ root, path: 'index.html' }));
        app.get('/', (c) => c.redirect('/app/'));
        // The guest page (join by name, for meetings that allow guests): the same bundle, in its join-page mode.
        app.get('/join', (c) => c.redirect(`/join/${new URL(c.req.url).search}`));
        app.use('/join/*', serveStatic({ root, rewriteRequestPath: (p) => p.replace(/^\/join/, '') }));
        app.get('/join/*', serveStatic({ root, path: 'index.html' }));
      }

      const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
      const server = createAdaptorServer({ fetch: app.fetch, websocket: { server: wss } }) as http.Server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(cfg.httpPort, cfg.httpHost, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.server = server;
      this.wss = wss;
      this.log.info({ url: this.url, chat: cfg.cassandraContactPoints ? 'cassandra' : 'postgres' }, 'control plane listening');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * An instant meeting that lets guests in by name (the quick "open a link and meet" flow of `npm start`), owned by
   * a local account that has no password (nobody signs in as it): the newest such meeting that has not ended, or a
   * new one. Returns its id and the guest link. The meeting's rules apply to guests as to anyone.
   */
  async guestMeeting(o: { ownerEmail: string; title: string }): Promise<{ id: string; link: string }> {
    if (!this.pool || !this.meetings) throw new Error('control plane not started');
    const { rows } = await this.pool.query<{ id: string; display_name: string }>(
      `INSERT INTO users (email, display_name) VALUES ($1, $2) ON CONFLICT ((lower(email))) DO UPDATE SET email = users.email
       RETURNING id, display_name`,
      [o.ownerEmail, 'Meeting owner'],
    );
    const owner = { id: rows[0]!.id, email: o.ownerEmail, displayName: rows[0]!.display_name };
    const existing = await this.pool.query<{ id: string }>(
      "SELECT id FROM meetings WHERE owner_id = $1 AND guest_join AND status <> 'ended' ORDER BY created_at DESC LIMIT 1", [owner.id]);
    const id = existing.rows[0]?.id
      ?? (await this.meetings.create(owner, CreateMeeting.parse({ kind: 'instant', title: o.title, settings: { access: 'link', guestJoin: true } }))).id;
    return { id, link: `${this.config.publicUrl}/join/?meeting=${id}` };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    // Upgraded sockets (chat live) are not the HTTP server's connections any more: server.close() would wait for them.
    const sockets = [...(this.wss?.clients ?? [])];
    this.wss = null;
    for (const ws of sockets) ws.close(1001, 'control plane stopping');
    if (server) {
      // Let requests in flight finish (bounded), then cut what is left: only then close the database under them.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const until = Date.now() + 5000;
      while (this.inflight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      server.closeAllConnections();
      for (const ws of sockets) ws.terminate();
      await closed;
    }
    await this.identity?.close().catch(() => undefined);
    await this.chat?.close().catch(() => undefined);
    await this.pool?.end().catch(() => undefined);
    await this.embedded?.stop().catch(() => undefined);
    this.commandRoute?.close();
    this.commandRoute = null;
    if (this.cluster !== this.options.cluster) await this.cluster?.close().catch(() => undefined);
    this.cluster = null;
    this.identity = this.chat = this.pool = this.embedded = this.meetings = null;
  }
}
