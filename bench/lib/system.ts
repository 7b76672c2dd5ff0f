/** Machine facts, free ports in the bench's ranges, child processes, and CPU time of processes from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

const TICKS = 100; // USER_HZ on Linux

type Range = 'http' | 'media' | 'peer';
const RANGES: Record<Range, { env: string; def: [number, number] }> = {
  http: { env: 'BENCH_HTTP_PORTS', def: [8300, 8399] },
  media: { env: 'BENCH_MEDIA_PORTS', def: [52000, 52999] },
  /** RTP of the peers (LiveKit, Janus) */
  peer: { env: 'BENCH_PEER_RTP_PORTS', def: [53000, 54999] },
};

/** The bench's port ranges: HTTP/signalling, our media (UDP+TCP), the peers' RTP; overridable (BENCH_*_PORTS=lo-hi). */
export function portRange(which: Range): [number, number] {
  const env = process.env[RANGES[which].env];
  const def = RANGES[which].def;
  const m = env?.match(/^(\d+)-(\d+)$/);
  return m ? [Number(m[1]), Number(m[2])] : def;
}

function free(port: number, udp: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    if (udp) {
      const s = dgram.createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    } else {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    }
  });
}

const taken = new Set<number>();
/** `count` consecutive ports free for TCP (and UDP when `udp`) inside the range, not handed out before by this run. */
export async function freePorts(which: Range, count: number, udp = which !== 'http'): Promise<number> {
  const [lo, hi] = portRange(which);
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = lo + Math.floor(Math.random() * Math.max(1, hi - lo - count + 2));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = !taken.has(p) && p <= hi && (await free(p, false)) && (!udp || (await free(p, true)));
    if (ok) {
      for (let p = base; p < base + count; p++) taken.add(p);
      return base;
    }
  }
  throw new Error(`no ${count} free ${which} ports in ${lo}-${hi} (set ${RANGES[which].env}=lo-hi)`);
}

export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    shared: 'the machine is shared with other engineers: compare ratios measured in the same run, not absolute numbers',
  };
}

/** The process and all its descendants (from /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number): void => {
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(/\s+/).filter(Boolean)) visit(Number(c));
      } catch { /* gone */ }
    }
  };
  visit(pid);
  return out;
}

/**
 * CPU seconds that a process has used, or 0 when it is gone: the nanosecond sum of its live threads' run time
 * (/proc/<pid>/task/<tid>/schedstat), or the tick counts of /proc/<pid>/stat (which also keep the time of threads
 * that have exited, at 10 ms resolution), whichever is larger.
 */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks = (Number(f[11]) + Number(f[12])) / TICKS;
  } catch {
    return 0;
  }
  let ns = 0;
  try {
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
      } catch { /* thread gone */ }
    }
  } catch { /* process gone */ }
  return Math.max(ticks, ns / 1e9);
}

/** Total CPU seconds of the machine (all cores, all states but idle and iowait) and its wall clock. */
export function machineCpu(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0) / TICKS;
  const idle = (line[3]! + line[4]!) / TICKS;
  return { busy: total - idle, total };
}

/** Spawns a server process with its output in `logFile`; `stop()` sends SIGTERM, then SIGKILL after 10 s. */
export function startProcess(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string }): {
  child: ChildProcess;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
} {
  const log = fs.openSync(opts.logFile, 'a');
  const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Polls until a check is truthy, or throws naming what it waited for (the tests import it as `waitFor`). */
export async function until<T>(what: string, check: () => Promise<T> | T, timeoutMs = 30_000, everyMs = 200): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The kernel caps every socket's buffers at net.core.rmem_max / wmem_max (about 208 KiB on a fresh Debian): the
 * bots, our workers and LiveKit all ask for several MiB, and get this cap silently. Raises the caps to `bytes` when
 * they are lower (root only; never lowers them). Returns what it did, for the run's log.
 */
export function raiseSocketBufferLimits(bytes = 4 * 2 ** 20): string | null {
  const done: string[] = [];
  for (const key of ['rmem_max', 'wmem_max']) {
    const file = `/proc/sys/net/core/${key}`;
    let now = 0;
    try {
      now = Number(fs.readFileSync(file, 'utf8').trim());
    } catch {
      return null;
    }
    if (now >= bytes) continue;
    try {
      fs.writeFileSync(file, String(bytes));
      done.push(`net.core.${key} ${now} -> ${bytes}`);
    } catch {
      done.push(`net.core.${key} is ${now} (could not raise it: not root?); socket buffers are capped there and bots may drop packets`);
    }
  }
  return done.length ? `socket buffer limits: ${done.join('; ')}` : null;
}
