/**
 * The node's local admin endpoint: HTTP on a Unix socket (mode 0600: only the node's user can use it), for the
 * operator's `meshmeet nodes` and `meshmeet node drain` on the same machine. Never on a network port.
 *   GET  /nodes  {self, peers}: this node's heartbeat and its membership view
 *   POST /drain  starts draining (202); the node exits when drained
 */
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { NodeInfo } from '../../protocol/mesh.js';

export const ADMIN_DIR = path.join(os.tmpdir(), 'meshmeet');

export function adminSocketPath(nodeId: string, dir = ADMIN_DIR): string {
  return path.join(dir, `${nodeId.replace(/[^A-Za-z0-9_.-]/g, '_')}.sock`);
}

export const NodesAnswer = z.object({ self: NodeInfo.nullable(), peers: z.array(NodeInfo) });
export type NodesAnswer = z.infer<typeof NodesAnswer>;

export interface AdminHandlers {
  nodes(): NodesAnswer;
  drain(): void;
}

export class AdminServer {
  private constructor(
    private readonly server: http.Server,
    readonly socketPath: string,
  ) {}

  /** Listens on `socketPath`; refuses when a live node already answers there, replaces a stale socket. */
  static async listen(socketPath: string, handlers: AdminHandlers): Promise<AdminServer> {
    await fs.mkdir(path.dirname(socketPath), { recursive: true, mode: 0o700 });
    if (await adminAlive(socketPath)) throw new Error(`a node already runs with admin socket ${socketPath} (another --node-id, or stop it first)`);
    await fs.rm(socketPath, { force: true });
    const server = http.createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === '/nodes') return reply(200, handlers.nodes());
      if (req.method === 'POST' && req.url === '/drain') {
        handlers.drain();
        return reply(202, { draining: true });
      }
      return reply(404, { error: `no admin route ${req.method} ${req.url}` });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    await fs.chmod(socketPath, 0o600);
    return new AdminServer(server, socketPath);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await fs.rm(this.socketPath, { force: true });
  }
}

/** One admin request; rejects when nothing listens there. */
export function adminRequest(socketPath: string, method: 'GET' | 'POST', url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: url, timeout: 5_000 }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (data += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) });
        } catch {
          reject(new Error(`admin socket ${socketPath}: not a meshmeet node's answer`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`admin socket ${socketPath}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

export async function adminAlive(socketPath: string): Promise<boolean> {
  try {
    await adminRequest(socketPath, 'GET', '/nodes');
    return true;
  } catch {
    return false;
  }
}

/** The admin sockets of the nodes running on this machine (stale sockets of killed nodes left out). */
export async function runningNodes(dir = ADMIN_DIR): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const sockets = names.filter((n) => n.endsWith('.sock')).map((n) => path.join(dir, n));
  const alive = await Promise.all(sockets.map(adminAlive));
  return sockets.filter((_, i) => alive[i]);
}
