/** Prometheus metrics of the control plane: requests by route, latency, errors, the DB pool, chat-store latency. */
import type { MiddlewareHandler } from 'hono';
import type pg from 'pg';
import client from 'prom-client';
import type { AppEnv } from './http/context.js';

export function createControlMetrics(pool: () => pg.Pool | null, chatSockets: () => number) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'control_' });
  const requests = new client.Counter({
    name: 'control_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'control_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['route', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
  });
  const errors = new client.Counter({
    name: 'control_http_errors_total', help: 'HTTP answers with status >= 400 by route and code', labelNames: ['route', 'code'], registers: [registry],
  });
  const chatQuery = new client.Histogram({
    name: 'control_chat_store_query_seconds', help: 'chat store (Cassandra or PostgreSQL) operation latency', labelNames: ['op'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [registry],
  });
  new client.Gauge({
    name: 'control_db_pool_connections', help: 'PostgreSQL pool connections by state', labelNames: ['state'], registers: [registry],
    collect() {
      const p = pool();
      if (!p) return;
      this.set({ state: 'total' }, p.totalCount);
      this.set({ state: 'idle' }, p.idleCount);
      this.set({ state: 'waiting' }, p.waitingCount);
    },
  });
  new client.Gauge({
    name: 'control_chat_live_sockets', help: 'open live chat WebSockets', registers: [registry],
    collect() { this.set(chatSockets()); },
  });

  /** Counts and times each request under its route pattern (not the raw path, to keep label sets bounded). */
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const stop = duration.startTimer();
    await next();
    const route = c.req.routePath || 'unmatched';
    const method = c.req.method;
    stop({ route, method });
    requests.inc({ route, method, status: String(c.res.status) });
    if (c.res.status >= 400) errors.inc({ route, code: String(c.res.status) });
  };
  return { registry, middleware, chatQuery };
}
