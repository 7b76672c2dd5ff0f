/** The edge node as an operator runs it: the CLI process, its configuration errors, SIGTERM and SIGINT (Ctrl-C). */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadDevKeys, mintJoinToken } from '../../edge-node/index.js';
import { CloseCodes } from '../../edge-node/protocol/signalling.js';
import { ROOT, freePortBase, waitFor } from '../helpers/edge.js';
import { joinAs } from '../helpers/ws-client.js';

const MAIN = path.join(ROOT, 'edge-node/src/main.ts');

function run(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

test('a bad configuration stops the node with a message naming the variable', { timeout: 60_000 }, async () => {
  const p = run({ EDGE_JWKS: '/nonexistent', EDGE_HTTP_PORT: 'eighty' });
  assert.notEqual(await p.exited, 0);
  assert.match(p.output(), /EDGE_HTTP_PORT/);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} tells clients, closes them and exits 0`, { timeout: 90_000 }, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-proc-'));
    const keys = await loadDevKeys(dir);
    const port = await freePortBase(2); // media on port, HTTP on port + 1
    const httpPort = port + 1;
    const p = run({
      EDGE_JWKS: keys.jwksPath, EDGE_HTTP_PORT: String(httpPort), EDGE_RTC_BASE_PORT: String(port), EDGE_WORKERS: '1',
    });
    try {
      const url = `http://127.0.0.1:${httpPort}`;
      await waitFor('the node to answer /healthz', async () => (await fetch(`${url}/healthz`)).ok, 60_000, 300);
      const token = await mintJoinToken(keys, { meetingId: 'm', participantId: 'p', name: 'P' });
      const client = await joinAs(url.replace('http', 'ws'), 'm', token);
      const shutdown: string[] = [];
      client.on('shutdown', ({ reason }) => shutdown.push(reason));
      let closedWith: { code: number } | null = null;
      client.onClose((info) => (closedWith = info));
      p.child.kill(signal);
      assert.equal(await p.exited, 0, p.output());
      assert.deepEqual(shutdown, [`received ${signal}`]);
      await waitFor('the socket to close', () => closedWith);
      assert.equal(closedWith!.code, CloseCodes.nodeShutdown);
    } finally {
      p.child.kill('SIGKILL');
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
}
