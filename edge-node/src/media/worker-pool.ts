/**
 * The node's mediasoup workers, one per core by default, each with a WebRtcServer on one UDP and one TCP port
 * (rtcBasePort + index) so that all of a worker's WebRTC transports share those two ports. A worker that dies is
 * replaced on the same ports; its routers are gone with it and their meetings close (clients reconnect).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import type { types } from 'mediasoup';
import type { Logger } from 'pino';
import type { EdgeConfig } from '../config.js';
import { loadMediasoup } from '../worker-bin.js';

export interface WorkerEntry {
  index: number;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  /** Meetings (routers) placed on this worker. */
  meetings: number;
}

/** Socket buffers our worker build asks for (scripts/mediasoup-worker-patches/udp-socket-buffers.patch) get at most this. */
const WANTED_SOCKET_BUFFER = 4 * 2 ** 20;
function socketBufferCap(): number | null {
  try {
    return Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  } catch {
    return null;
  }
}

type PoolEvents = { workerReplaced: [index: number] };

export class WorkerPool extends EventEmitter<PoolEvents> {
  private closed = false;

  private constructor(
    private readonly mediasoup: typeof import('mediasoup'),
    private readonly config: EdgeConfig,
    private readonly log: Logger,
    readonly entries: WorkerEntry[],
  ) {
    super();
  }

  static async create(config: EdgeConfig, log: Logger): Promise<WorkerPool> {
    const mediasoup = await loadMediasoup();
    const pool = new WorkerPool(mediasoup, config, log, []);
    try {
      for (let i = 0; i < config.workers; i++) pool.entries.push(await pool.spawn(i));
    } catch (err) {
      pool.close();
      throw err;
    }
    log.info({ workers: pool.entries.length, mediasoup: mediasoup.version }, 'mediasoup workers started');
    const cap = socketBufferCap();
    if (cap !== null && cap < WANTED_SOCKET_BUFFER) {
      log.warn({ rmemMax: cap }, `UDP socket buffers are capped at ${cap} bytes (net.core.rmem_max): the workers' media sockets drop ` +
        `packets whenever a worker waits for a core; raise it: sysctl -w net.core.rmem_max=${WANTED_SOCKET_BUFFER} net.core.wmem_max=${WANTED_SOCKET_BUFFER}`);
    }
    return pool;
  }

  private async spawn(index: number): Promise<WorkerEntry> {
    // Pipe transports take their ports from this range, never a WebRtcServer's port.
    const worker = await this.mediasoup.createWorker({
      logLevel: 'warn', rtcMinPort: this.config.pipeMinPort, rtcMaxPort: this.config.pipeMaxPort, appData: { index },
    });
    const port = this.config.rtcBasePort + index;
    let webRtcServer: types.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp' as const, ip: this.config.rtcListenIp, announcedIp: this.config.rtcAnnouncedIp, port },
          { protocol: 'tcp' as const, ip: this.config.rtcListenIp, announcedIp: this.config.rtcAnnouncedIp, port },
        ].filter((l) => l.protocol === 'tcp' || this.config.rtcUdp),
      });
    } catch (err) {
      worker.close();
      throw new Error(`worker ${index}: cannot listen for media on ${this.config.rtcListenIp}:${port} (${String(err)})`);
    }
    const entry: WorkerEntry = { index, worker, webRtcServer, meetings: 0 };
    worker.on('died', (error) => {
      this.log.error({ worker: index, pid: worker.pid, err: error }, 'mediasoup worker died');
      if (!this.closed) void this.replace(index);
    });
    return entry;
  }

  private async replace(index: number): Promise<void> {
    for (let attempt = 1; attempt <= 5 && !this.closed; attempt++) {
      try {
        await new Promise((r) => setTimeout(r, 500 * attempt));
        if (this.closed) return;
        this.entries[index] = await this.spawn(index);
        this.log.warn({ worker: index }, 'mediasoup worker replaced');
        this.emit('workerReplaced', index);
        return;
      } catch (err) {
        this.log.error({ worker: index, attempt, err }, 'replacing mediasoup worker failed');
      }
    }
  }

  /** Places a meeting on the live worker with the fewest meetings, counting it there at once. */
  reserve(): WorkerEntry {
    const live = this.entries.filter((e) => !e.worker.closed);
    if (live.length === 0) throw new Error('no live mediasoup worker');
    const entry = live.reduce((a, b) => (b.meetings < a.meetings ? b : a));
    entry.meetings++;
    return entry;
  }

  /** A live worker not in `exclude` (the fewest meetings first), counted there at once; null when there is none. */
  reserveOther(exclude: ReadonlySet<number>): WorkerEntry | null {
    const free = this.entries.filter((e) => !e.worker.closed && !exclude.has(e.index));
    if (free.length === 0) return null;
    const entry = free.reduce((a, b) => (b.meetings < a.meetings ? b : a));
    entry.meetings++;
    return entry;
  }

  release(entry: WorkerEntry): void {
    entry.meetings = Math.max(0, entry.meetings - 1);
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries) e.worker.close();
  }
}
