/**
 * `meshmeet node start --sip`: the region's SIP gateway runs beside the node as a process of its own. Killing the
 * gateway never takes the node down, and the node starts it again; stopping the node stops the gateway.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadDevKeys, startNode, writeClusterKey, type RunningNode } from '../../edge-node/index.js';
import { freePortBase, waitFor } from '../helpers/edge.js';

let dir: string;
let running: RunningNode | null = null;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-sip-'));
});
after(async () => {
  await running?.stop('test over');
  await fs.rm(dir, { recursive: true, force: true });
});

test('--sip runs the SIP gateway as its own process; a gateway crash leaves the node up and the gateway is restarted', { timeout: 180_000 }, async () => {
  const keyFile = path.join(dir, 'cluster.key');
  await writeClusterKey(keyFile);
  const { jwksPath } = await loadDevKeys(dir);
  const base = await freePortBase(3);
  running = await startNode({
    region: 'eu-west', latitude: 53.3, longitude: -6.3, clusterKeyFile: keyFile, join: [], nodeId: 'sip-test', httpPort: 0,
    p2pPort: 0, capacity: 10, adminSocket: path.join(dir, 'admin.sock'), sip: true,
    config: { jwks: jwksPath, httpPort: 0, workers: 1, rtcBasePort: base, logLevel: 'warn' },
  }, {
    ...process.env, SIP_CONTROL_URL: 'http://127.0.0.1:9', PHONE_GATEWAY_SECRET: 'a-test-secret-of-enough-length',
    SIP_PORT: String(base + 1), SIP_HTTP_PORT: '0', SIP_RTP_MIN_PORT: String(base + 2), SIP_RTP_MAX_PORT: String(base + 2), SIP_LOG_LEVEL: 'warn',
  });
  const sip = running.sip!;
  assert.ok(sip, 'a gateway child with --sip');
  const url = await waitFor('the gateway to be ready', () => sip.httpUrl, 60_000, 100);
  assert.equal((await (await fetch(`${url}/healthz`)).json() as { status: string }).status, 'ok');

  const first = sip.pid!;
  process.kill(first, 'SIGKILL');
  await waitFor('the gateway to come back', () => sip.starts === 2 && sip.httpUrl, 60_000, 100);
  assert.notEqual(sip.pid, first);
  assert.equal((await fetch(`${running.node.url}/healthz`)).status, 200, 'the node stayed up');

  const second = sip.pid!;
  await running.stop('test over');
  running = null;
  assert.throws(() => process.kill(second, 0), /ESRCH/, 'stopping the node stops the gateway');
});
