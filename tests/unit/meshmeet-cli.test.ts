/** The meshmeet CLI's pure parts: flags (negative coordinates, errors), the nodes table, cluster-key files. */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { formatNodesTable } from '../../edge-node/src/cli/nodes-table.js';
import { main } from '../../edge-node/src/cli/meshmeet.js';
import { parseStartFlags } from '../../edge-node/src/cli/node-start.js';
import { joinNegativeNumbers } from '../../edge-node/src/cli/usage.js';
import { readClusterKey } from '../../edge-node/src/mesh/cluster-key.js';
import { heartbeat } from '../helpers/mesh.js';

const BASE = ['--region', 'eu-west', '--lat', '53.3', '--lon', '-6.3', '--cluster-key', 'k', '--jwks', 'j.json'];

test('node start flags: `--lon -6.3` as typed, defaults, public IP, and a clear error per mistake', () => {
  assert.deepEqual(joinNegativeNumbers(['--lon', '-6.3', '--lat', '5', '-h']), ['--lon=-6.3', '--lat', '5', '-h']);
  const f = parseStartFlags(BASE, {});
  assert.ok(f !== 'help');
  assert.equal(f.longitude, -6.3);
  assert.equal(f.latitude, 53.3);
  assert.equal(f.httpPort, 8080);
  assert.equal(f.p2pPort, 9000);
  assert.equal(f.capacity, 500);
  assert.deepEqual(f.join, []);
  assert.equal(f.config.httpHost, undefined, 'loopback unless a public IP is given');
  const pub = parseStartFlags([...BASE, '--public-ip', '203.0.113.10', '--join', '/ip4/1.2.3.4/tcp/9000/p2p/x', '--join', '/ip4/5.6.7.8/tcp/9000/p2p/y'], {});
  assert.ok(pub !== 'help');
  assert.deepEqual([pub.config.httpHost, pub.config.rtcListenIp, pub.config.rtcAnnouncedIp], ['0.0.0.0', '0.0.0.0', '203.0.113.10']);
  assert.equal(pub.join.length, 2);
  assert.equal(parseStartFlags(['--help'], {}), 'help');
  assert.throws(() => parseStartFlags(BASE.slice(2), {}), /--region is required/);
  assert.throws(() => parseStartFlags(BASE.map((a) => (a === '53.3' ? '95' : a)), {}), /--lat: expected a number from -90 to 90, got "95"/);
  assert.throws(() => parseStartFlags([...BASE, '--http-port', 'eighty'], {}), /--http-port: expected an integer/);
  assert.throws(() => parseStartFlags([...BASE, '--colour', 'red'], {}), /Unknown option '--colour'/);
  assert.throws(() => parseStartFlags(BASE.slice(0, -2), {}), /--jwks \(or EDGE_JWKS\) is required/);
  assert.ok(parseStartFlags(BASE.slice(0, -2), { EDGE_JWKS: 'x.json' }) !== 'help');
});

test('nodes table: this node first and marked, the rest by region, load and heard-ago columns', () => {
  const now = 10_000;
  const table = formatNodesTable([
    heartbeat({ nodeId: 'b', region: 'us-east', sentAt: 8_500, load: { participants: 7, consumers: 0, cpu: 0.42 } }),
    heartbeat({ nodeId: 'c', region: 'ap-south', sentAt: 9_000, state: 'draining' }),
    heartbeat({ nodeId: 'a', region: 'eu-west', sentAt: now }),
  ], now, 'a');
  const lines = table.trimEnd().split('\n');
  assert.match(lines[0]!, /NODE\s+REGION\s+STATE\s+LAT\s+LON\s+PARTICIPANTS\s+CPU\s+HEARD/);
  assert.match(lines[1]!, /^\*\s+a\s+eu-west\s+active\s+53\.30\s+-6\.30\s+0\/100\s+0%\s+self/);
  assert.match(lines[2]!, /^\s+c\s+ap-south\s+draining .* 1\.0s ago/);
  assert.match(lines[3]!, /^\s+b\s+us-east\s+active .* 7\/100\s+42%\s+1\.5s ago/);
  assert.equal(lines[4], '3 nodes');
});

test('meshmeet cluster-key writes a valid key, refuses to overwrite; unknown commands exit 2', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-cli-'));
  try {
    const file = path.join(dir, 'cluster.key');
    const out: string[] = [];
    const err: string[] = [];
    assert.equal(await main(['cluster-key', file], (t) => out.push(t), (t) => err.push(t)), 0);
    assert.equal((await readClusterKey(file)).length, 95);
    assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    const before = await fs.readFile(file, 'utf8');
    assert.equal(await main(['cluster-key', file], (t) => out.push(t), (t) => err.push(t)), 1);
    assert.match(err.join(''), /exists: not overwritten/);
    assert.equal(await fs.readFile(file, 'utf8'), before);
    await fs.writeFile(path.join(dir, 'bad.key'), 'hello');
    await assert.rejects(readClusterKey(path.join(dir, 'bad.key')), /not a cluster key/);
    assert.equal(await main(['frobnicate'], () => undefined, (t) => err.push(t)), 2);
    assert.match(err.join(''), /unknown command: frobnicate/);
    assert.equal(await main(['node', 'start', '--region', 'x'], () => undefined, (t) => err.push(t)), 2);
    assert.match(err.join(''), /--lat is required/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
