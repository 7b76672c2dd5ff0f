/**
 * Datagrams the kernel dropped on a process's own UDP sockets (receive buffer full): the `drops` column of
 * /proc/net/udp for the socket inodes the process holds. Per process, so other load on a shared machine does not
 * blur it (the machine-wide /proc/net/snmp RcvbufErrors would).
 */
import fs from 'node:fs';

export interface UdpSocketRow {
  inode: string;
  /** Bytes waiting in the receive queue. */
  rxQueue: number;
  drops: number;
}

/** Parses /proc/net/udp or /proc/net/udp6 text (header line first). Rows it cannot read are left out. */
export function parseProcNetUdp(text: string): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    if (f.length < 13) continue;
    const queues = f[4]!.split(':');
    const rxQueue = Number.parseInt(queues[1] ?? '', 16);
    const drops = Number(f[12]);
    if (!Number.isFinite(rxQueue) || !Number.isFinite(drops) || !/^\d+$/.test(f[9]!)) continue;
    rows.push({ inode: f[9]!, rxQueue, drops });
  }
  return rows;
}

/** Socket inodes among a process's open files (`socket:[N]` links in /proc/<pid>/fd). */
function socketInodes(pid: number | 'self'): Set<string> {
  const out = new Set<string>();
  let fds: string[] = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  return out;
}

/** Drops (since each socket opened) and the fullest receive queue over the UDP sockets that `pid` holds now. */
export function udpSocketDrops(pid: number | 'self' = 'self'): { sockets: number; drops: number; maxRxQueue: number } {
  const inodes = socketInodes(pid);
  const res = { sockets: 0, drops: 0, maxRxQueue: 0 };
  for (const file of ['udp', 'udp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const r of parseProcNetUdp(text)) {
      if (!inodes.has(r.inode)) continue;
      res.sockets++;
      res.drops += r.drops;
      res.maxRxQueue = Math.max(res.maxRxQueue, r.rxQueue);
    }
  }
  return res;
}
