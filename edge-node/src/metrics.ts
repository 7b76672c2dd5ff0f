/** Prometheus metrics of one edge node, read from live state at scrape time. */
import type { types } from 'mediasoup';
import client from 'prom-client';
import type { Meeting } from './media/meeting.js';
import type { MeshMeeting } from './media/mesh-meeting.js';
import type { WorkerPool } from './media/worker-pool.js';

export interface MetricsSource {
  pool(): WorkerPool | null;
  meetings(): Iterable<Meeting>;
  sessions(): number;
  /** Meetings joined to the mesh (pipes to and from other nodes). */
  meshMeetings?(): Iterable<MeshMeeting>;
}

export function createMetrics(src: MetricsSource) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'edge_' });

  const counts = () => {
    let participants = 0, transports = 0, producers = 0, consumers = 0, routers = 0;
    for (const m of src.meetings()) {
      routers++;
      for (const p of m.localParticipants()) {
        const n = p.counts;
        participants++;
        transports += n.transports;
        producers += n.producers;
        consumers += n.consumers;
      }
    }
    return { participants, transports, producers, consumers, routers };
  };
  const gauge = (name: string, help: string, read: (c: ReturnType<typeof counts>) => number) =>
    new client.Gauge({
      name, help, registers: [registry],
      collect() { this.set(read(counts())); },
    });
  gauge('edge_routers', 'mediasoup routers (one per meeting on this node)', (c) => c.routers);
  gauge('edge_participants', 'participants joined', (c) => c.participants);
  gauge('edge_transports', 'WebRTC transports', (c) => c.transports);
  gauge('edge_producers', 'producers', (c) => c.producers);
  gauge('edge_consumers', 'consumers', (c) => c.consumers);
  const pipes = (dir: 'outbound' | 'inbound') => {
    let n = 0;
    for (const mm of src.meshMeetings?.() ?? []) for (const v of Object.values(mm.pipeCounts()[dir])) n += v;
    return n;
  };
  new client.Gauge({
    name: 'edge_pipe_consumers', help: 'pipe consumers: producers of this node piped to other nodes (one per producer and node)', registers: [registry],
    collect() { this.set(pipes('outbound')); },
  });
  new client.Gauge({
    name: 'edge_pipe_producers', help: 'pipe producers: producers of other nodes piped here', registers: [registry],
    collect() { this.set(pipes('inbound')); },
  });
  const pipeBytes = new client.Gauge({
    name: 'edge_pipe_bytes', help: 'bytes through the pipe transports to and from other nodes (live pipes)', labelNames: ['direction'], registers: [registry],
    async collect() {
      let sent = 0, received = 0;
      for (const b of await Promise.all([...(src.meshMeetings?.() ?? [])].map((mm) => mm.pipeBytes()))) {
        sent += b.sent;
        received += b.received;
      }
      pipeBytes.set({ direction: 'out' }, sent);
      pipeBytes.set({ direction: 'in' }, received);
    },
  });
  new client.Gauge({
    name: 'edge_signalling_connections', help: 'open signalling WebSockets', registers: [registry],
    collect() { this.set(src.sessions()); },
  });
  new client.Gauge({
    name: 'edge_workers', help: 'live mediasoup workers', registers: [registry],
    collect() { this.set(src.pool()?.entries.filter((e) => !e.worker.closed).length ?? 0); },
  });

  const bytes = new client.Gauge({
    name: 'edge_transport_bytes', help: 'bytes through live WebRTC transports', labelNames: ['direction'], registers: [registry],
    async collect() {
      let rx = 0, tx = 0;
      const stats = [];
      for (const m of src.meetings()) {
        for (const p of m.localParticipants()) for (const t of p.allTransports()) stats.push(t.getStats().catch(() => []));
      }
      for (const list of await Promise.all(stats)) {
        for (const s of list) { rx += s.bytesReceived ?? 0; tx += s.bytesSent ?? 0; }
      }
      bytes.set({ direction: 'in' }, rx);
      bytes.set({ direction: 'out' }, tx);
    },
  });

  // One getResourceUsage() per worker per scrape, shared by the CPU and memory gauges.
  let usage: { at: number; value: Promise<Array<[string, types.WorkerResourceUsage | null]>> } | null = null;
  const resourceUsage = () => {
    if (!usage || Date.now() - usage.at > 500) {
      const entries = src.pool()?.entries.filter((e) => !e.worker.closed) ?? [];
      usage = {
        at: Date.now(),
        value: Promise.all(entries.map(async (e) => [String(e.index), await e.worker.getResourceUsage().catch(() => null)] as [string, types.WorkerResourceUsage | null])),
      };
    }
    return usage.value;
  };
  new client.Gauge({
    name: 'edge_worker_cpu_seconds', help: 'CPU time used by each mediasoup worker (user+system)', labelNames: ['worker'], registers: [registry],
    async collect() {
      this.reset();
      for (const [worker, ru] of await resourceUsage()) if (ru) this.set({ worker }, (ru.ru_utime + ru.ru_stime) / 1000);
    },
  });
  new client.Gauge({
    name: 'edge_worker_max_rss_bytes', help: 'peak resident memory of each mediasoup worker', labelNames: ['worker'], registers: [registry],
    async collect() {
      this.reset();
      for (const [worker, ru] of await resourceUsage()) if (ru) this.set({ worker }, ru.ru_maxrss * 1024);
    },
  });
  new client.Gauge({
    name: 'edge_worker_meetings', help: 'meetings placed on each worker', labelNames: ['worker'], registers: [registry],
    collect() {
      for (const e of src.pool()?.entries ?? []) this.set({ worker: String(e.index) }, e.meetings);
    },
  });

  const requests = new client.Counter({
    name: 'edge_signalling_requests_total', help: 'signalling requests by method and outcome',
    labelNames: ['method', 'outcome'], registers: [registry],
  });
  const rejected = new client.Counter({
    name: 'edge_signalling_rejected_total', help: 'signalling connections refused, by reason',
    labelNames: ['reason'], registers: [registry],
  });
  // Where a join's time goes on the node: each request's wait in its connection's queue and its handling, and the
  // connection's setup before the first request can run (token check, meeting opened).
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const requestSeconds = new client.Histogram({
    name: 'edge_signalling_request_seconds', help: 'signalling requests: seconds queued behind the connection\'s earlier requests, and handling',
    labelNames: ['method', 'phase'], buckets, registers: [registry],
  });
  const setupSeconds = new client.Histogram({
    name: 'edge_connection_setup_seconds', help: 'signalling connection setup before its first request runs, by step',
    labelNames: ['step'], buckets, registers: [registry],
  });
  return { registry, requests, rejected, requestSeconds, setupSeconds };
}
export type EdgeMetrics = ReturnType<typeof createMetrics>;
