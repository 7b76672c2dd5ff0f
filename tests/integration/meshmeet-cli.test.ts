/**
 * The meshmeet CLI as an operator runs it: two real edge nodes started with `meshmeet node start` (real mediasoup
 * workers, real libp2p) join one cluster; `meshmeet nodes` prints both (through the local admin socket, and as a
 * listener with the cluster key); `meshmeet node drain` makes one leave: its process exits 0 and the other node's
 * view drops it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadDevKeys } from '../../edge-node/index.js';
import { ROOT, freePortBase, waitFor } from '../helpers/edge.js';

const BIN = path.join(ROOT, 'edge-node/bin/meshmeet.js');
let dir: string;
const children: ChildProcess[] = [];

function meshmeet(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, EDGE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = meshmeet(args);
  const code = await p.exited;
  return { code, out: p.output() };
}

let keyFile: string;
let jwks: string;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-cli-'));
  keyFile = path.join(dir, 'cluster.key');
  jwks = (await loadDevKeys(dir)).jwksPath;
  assert.equal((await run(['cluster-key', keyFile])).code, 0);
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await fs.rm(dir, { recursive: true, force: true });
});

async function startNode(nodeId: string, region: string, lat: string, lon: string, join: string[]) {
  const rtc = await freePortBase(1);
  const p = meshmeet([
    'node', 'start', '--region', region, '--lat', lat, '--lon', lon, '--cluster-key', keyFile, '--jwks', jwks,
    '--node-id', nodeId, '--http-port', '0', '--p2p-port', '0', '--rtc-port', String(rtc), '--workers', '1',
    '--admin-socket', path.join(dir, `${nodeId}.sock`), ...join.flatMap((j) => ['--join', j]),
  ]);
  const addr = await waitFor(`${nodeId} to print its join address`, () => /join address: (\S+)/.exec(p.output())?.[1], 90_000, 200);
  return { ...p, addr, socket: path.join(dir, `${nodeId}.sock`) };
}

test('two nodes started with meshmeet form a cluster; nodes lists them; drain makes one leave', { timeout: 240_000 }, async () => {
  const dublin = await startNode('cli-dublin', 'eu-west', '53.3', '-6.3', []);
  const mumbai = await startNode('cli-mumbai', 'ap-south', '19.1', '72.9', [dublin.addr]);
  assert.match(dublin.output(), /meshmeet node cli-dublin \(eu-west\) is up/);

  const table = await waitFor('both nodes in the table', async () => {
    const r = await run(['nodes', '--admin-socket', dublin.socket]);
    return r.code === 0 && r.out.includes('cli-mumbai') ? r.out : null;
  }, 60_000, 500);
  assert.match(table, /^\*\s+cli-dublin\s+eu-west\s+active\s+53\.30\s+-6\.30\s+0\/500\s+0%\s+self/m);
  assert.match(table, /^\s+cli-mumbai\s+ap-south\s+active\s+19\.10\s+72\.90/m);
  assert.match(table, /2 nodes/);

  const listened = await run(['nodes', '--cluster-key', keyFile, '--join', mumbai.addr, '--json']);
  assert.equal(listened.code, 0, listened.out);
  assert.deepEqual((JSON.parse(listened.out) as { nodeId: string }[]).map((n) => n.nodeId).sort(), ['cli-dublin', 'cli-mumbai']);

  const drained = await run(['node', 'drain', '--admin-socket', mumbai.socket, '--timeout', '60']);
  assert.equal(drained.code, 0, drained.out);
  assert.match(drained.out, /drained: the node has stopped/);
  assert.equal(await mumbai.exited, 0, mumbai.output());
  await waitFor('mumbai to leave dublin\'s view', async () => {
    const r = await run(['nodes', '--admin-socket', dublin.socket, '--json']);
    return r.code === 0 && !r.out.includes('cli-mumbai');
  }, 30_000, 500);
  const gone = await run(['nodes', '--admin-socket', mumbai.socket]);
  assert.equal(gone.code, 1);
  dublin.child.kill('SIGTERM');
  assert.equal(await dublin.exited, 0, dublin.output());
  await assert.rejects(fs.stat(dublin.socket), 'the admin socket is removed on stop');
});
