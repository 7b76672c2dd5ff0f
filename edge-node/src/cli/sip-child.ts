/**
 * `meshmeet node start --sip`: the region's SIP gateway, run beside the node as a child process of its own (a crash
 * of the gateway never takes the node down, and the node restarts it, at most a few times a minute). Configured by
 * the gateway's own SIP_* variables and PHONE_GATEWAY_SECRET (see the README's Phone dial-in section).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

const GATEWAY_MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../sip/main.ts');
/** Restarts allowed within `RESTART_WINDOW_MS`; past that the gateway stays down (and says why in the log). */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

export class SipChild {
  private child: ChildProcess | null = null;
  private stopping = false;
  private restarts: number[] = [];
  /** The gateway's HTTP URL (health, metrics, calls) once it said it is ready. */
  httpUrl: string | null = null;
  /** Times the gateway was started (1 + restarts). */
  starts = 0;

  constructor(private readonly env: NodeJS.ProcessEnv, private readonly log: Logger) {}

  start(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', GATEWAY_MAIN], { env: this.env, stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    this.starts++;
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const ready = /^\{"ready":true,"http":"([^"]+)"\}$/.exec(line.trim());
        if (ready) {
          this.httpUrl = ready[1]!;
          this.log.info({ http: this.httpUrl }, 'SIP gateway ready');
        } else if (line.trim()) {
          process.stdout.write(`${line}\n`);
        }
      }
    });
    child.once('exit', (code, signal) => {
      this.child = null;
      this.httpUrl = null;
      if (this.stopping) return;
      const now = Date.now();
      this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
      if (this.restarts.length > MAX_RESTARTS) {
        this.log.error({ code, signal }, `SIP gateway exited ${MAX_RESTARTS + 1} times within a minute: not restarted`);
        return;
      }
      this.log.error({ code, signal }, 'SIP gateway exited: restarting it');
      setTimeout(() => !this.stopping && this.start(), 1000).unref();
    });
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Hangs up every call (the gateway's SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
