/**
 * Node choice without I/O: each strategy on its own (what it drops and why, how it orders), the chain (filters
 * before orderings, fallbacks when nothing is left), position fallback to the default region, and chooseNode.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  StrategyChain, chooseNode, distanceKm, loadOf, meetingCodecHash, parseNodes, placeClient, resolvePosition, selectionContext,
  type Candidate, type NodeStrategy, type SelectionContext,
} from '../../geo/index.js';
import { active } from '../../geo/selector/strategies/active.js';
import { capacity } from '../../geo/selector/strategies/capacity.js';
import { codec } from '../../geo/selector/strategies/codec.js';
import { exclude } from '../../geo/selector/strategies/exclude.js';
import { fresh } from '../../geo/selector/strategies/fresh.js';
import { nearest } from '../../geo/selector/strategies/nearest.js';
import { preferHosting } from '../../geo/selector/strategies/prefer-hosting.js';
import type { NodeInfo } from '../../edge-node/protocol/mesh.js';
import { ASH, FRA, NOW, SIN, nodeInfo } from '../helpers/nodes.js';

const ctx = (c: Partial<SelectionContext> = {}) => selectionContext({ now: NOW, ...c });
const cand = (node: NodeInfo, distanceKm: number | null = null, hosting = false): Candidate => ({ node, distanceKm, hosting, load: loadOf(node) });
const ids = (cs: readonly Candidate[]) => cs.map((c) => c.node.nodeId);
const run = (s: NodeStrategy, cs: Candidate[], c = ctx()) => s.apply(cs, c);

/** London, for distances. */
const LONDON = { latitude: 51.51, longitude: -0.09 };

test('great-circle distances: London-New York about 5570 km, antipodes half the circumference, a point to itself 0', () => {
  const km = (a: [number, number], b: [number, number]) => distanceKm({ latitude: a[0], longitude: a[1] }, { latitude: b[0], longitude: b[1] });
  assert.ok(Math.abs(km([51.5074, -0.1278], [40.7128, -74.006]) - 5570) < 15);
  assert.ok(Math.abs(km([0, 0], [0, 180]) - Math.PI * 6371) < 1);
  assert.ok(Math.abs(km([1.35, 103.82], [-33.87, 151.21]) - 6300) < 30, 'Singapore-Sydney');
  assert.equal(km([50, 8], [50, 8]), 0);
  assert.ok(Math.abs(km([10, 179.5], [10, -179.5]) - 109.5) < 1, 'across the antimeridian');
});

describe('filters', () => {
  test('active: draining nodes are dropped, with the state as the reason', () => {
    const r = run(active, [cand(FRA), cand({ ...ASH, state: 'draining' })]);
    assert.deepEqual(ids(r.kept), ['fra']);
    assert.deepEqual(r.dropped, [{ nodeId: 'ash', by: 'active', reason: 'draining' }]);
  });

  test('fresh: a heartbeat older than the limit is dropped; up to the limit and future-dated ones are kept', () => {
    const c = ctx({ maxHeartbeatAgeMs: 4000 });
    const r = run(fresh, [cand({ ...FRA, sentAt: NOW - 4000 }), cand({ ...ASH, sentAt: NOW - 4001 }), cand({ ...SIN, sentAt: NOW + 2000 })], c);
    assert.deepEqual(ids(r.kept), ['fra', 'sin']);
    assert.equal(r.dropped[0]!.nodeId, 'ash');
    assert.match(r.dropped[0]!.reason, /last heartbeat 4 s ago/);
  });

  test('capacity: full nodes (and nodes declaring no capacity) are dropped; one seat left is enough', () => {
    const r = run(capacity, [
      cand({ ...FRA, load: { participants: 99, consumers: 0, cpu: 0 } }),
      cand({ ...ASH, load: { participants: 100, consumers: 0, cpu: 0 } }),
      cand({ ...SIN, capacity: { participants: 0 } }),
    ]);
    assert.deepEqual(ids(r.kept), ['fra']);
    assert.deepEqual(r.dropped.map((d) => d.reason), ['full (100/100 participants)', 'full (0/0 participants)']);
  });

  test('codec: only the required hash; no requirement keeps every node', () => {
    const nodes = [cand(FRA), cand({ ...ASH, codecHash: 'c2' })];
    assert.deepEqual(ids(run(codec, nodes).kept), ['fra', 'ash']);
    const r = run(codec, nodes, ctx({ codecHash: 'c2' }));
    assert.deepEqual(ids(r.kept), ['ash']);
    assert.match(r.dropped[0]!.reason, /codec hash c1 differs from the meeting's c2/);
  });

  test('exclude: the caller\'s node is dropped', () => {
    assert.deepEqual(ids(run(exclude, [cand(FRA), cand(ASH)], ctx({ excludeNodeIds: new Set(['fra']) })).kept), ['ash']);
  });
});

describe('orderings', () => {
  test('nearest: by distance', () => {
    const r = run(nearest, [cand(SIN, 10_800), cand(FRA, 640), cand(ASH, 5900)], ctx({ position: LONDON }));
    assert.deepEqual(ids(r.kept), ['fra', 'ash', 'sin']);
    assert.match(r.note!, /nearest: fra \(eu-central\) at 640 km/);
  });

  test('nearest: nodes within loadTieKm of the nearest are ordered by load; farther ones never jump ahead', () => {
    const busy = { ...FRA, nodeId: 'fra-1', load: { participants: 80, consumers: 0, cpu: 0.2 } };
    const idle = { ...FRA, nodeId: 'fra-2', load: { participants: 10, consumers: 0, cpu: 0.1 } };
    const far = { ...ASH, load: { participants: 0, consumers: 0, cpu: 0 } };
    const r = run(nearest, [cand(busy, 640), cand(idle, 700), cand(far, 5900)], ctx({ position: LONDON, loadTieKm: 300 }));
    assert.deepEqual(ids(r.kept), ['fra-2', 'fra-1', 'ash']);
    assert.match(r.note!, /fra-2 at 700 km is about as near as fra-1 at 640 km and less loaded \(10% vs 80%\)/);
    const apart = run(nearest, [cand(busy, 640), cand(idle, 941)], ctx({ position: LONDON, loadTieKm: 300 }));
    assert.deepEqual(ids(apart.kept), ['fra-1', 'fra-2'], '301 km farther is not a tie');
  });

  test('nearest: load is the larger of seats taken and worker CPU', () => {
    const seats = { ...FRA, nodeId: 'a', load: { participants: 50, consumers: 0, cpu: 0.1 } };
    const cpu = { ...FRA, nodeId: 'b', load: { participants: 10, consumers: 0, cpu: 0.7 } };
    assert.deepEqual(ids(run(nearest, [cand(cpu, 10), cand(seats, 10)], ctx({ position: LONDON })).kept), ['a', 'b']);
  });

  test('nearest without a client position: least loaded first, ties by node id', () => {
    const r = run(nearest, [cand({ ...SIN, load: { participants: 5, consumers: 0, cpu: 0 } }), cand(FRA), cand(ASH)]);
    assert.deepEqual(ids(r.kept), ['ash', 'fra', 'sin']);
    assert.match(r.note!, /client position unknown: least loaded first/);
  });

  test('prefer-hosting: a hosting node within the slack goes first, beyond it stays where it is', () => {
    const c = ctx({ position: LONDON, hostingSlackKm: 1000 });
    const near = run(preferHosting, [cand(FRA, 10), cand(ASH, 900, true), cand(SIN, 10_800)], c);
    assert.deepEqual(ids(near.kept), ['ash', 'fra', 'sin']);
    assert.match(near.note!, /ash already hosts the meeting and is only 890 km farther than fra: no new pipe/);
    const far = run(preferHosting, [cand(FRA, 10), cand(ASH, 1011, true)], c);
    assert.deepEqual(ids(far.kept), ['fra', 'ash']);
    assert.equal(far.note, undefined);
  });

  test('prefer-hosting: of several hosting nodes, the best ranked one; a first node that hosts stays', () => {
    const c = ctx({ position: LONDON });
    assert.deepEqual(ids(run(preferHosting, [cand(FRA, 10), cand(ASH, 200, true), cand(SIN, 300, true)], c).kept), ['ash', 'fra', 'sin']);
    const r = run(preferHosting, [cand(FRA, 10, true), cand(ASH, 20, true)], c);
    assert.deepEqual(ids(r.kept), ['fra', 'ash']);
    assert.equal(r.note, 'fra already hosts the meeting');
  });
});

describe('the chain', () => {
  const chain = new StrategyChain();

  test('filters run before orderings: the nearest node is skipped when draining, full, stale or excluded', () => {
    const fra2 = nodeInfo({ nodeId: 'fra-2', region: 'eu-central', latitude: 50.1, longitude: 8.7 });
    for (const broken of [
      { ...FRA, state: 'draining' as const },
      { ...FRA, load: { participants: 100, consumers: 0, cpu: 0 } },
      { ...FRA, sentAt: NOW - 60_000 },
    ]) {
      const s = chain.select([broken, ASH, SIN, fra2], ctx({ position: LONDON }));
      assert.equal(s.node?.nodeId, 'fra-2');
      assert.deepEqual(s.dropped.map((d) => d.nodeId), ['fra']);
    }
    assert.equal(chain.select([FRA, ASH, SIN], ctx({ position: LONDON, excludeNodeIds: new Set(['fra']) })).node?.nodeId, 'ash');
  });

  test('by default a heartbeat from a machine whose clock is 20 s behind is still fresh; a minute old is not', () => {
    assert.equal(chain.select([{ ...FRA, sentAt: NOW - 20_000 }, ASH], ctx({ position: LONDON })).node?.nodeId, 'fra');
    assert.equal(chain.select([{ ...FRA, sentAt: NOW - 60_000 }, ASH], ctx({ position: LONDON })).node?.nodeId, 'ash');
  });

  test('nothing eligible: no node, and the reason lists why each was dropped; no nodes at all says so', () => {
    const s = chain.select([{ ...FRA, state: 'draining' }, { ...ASH, load: { participants: 100, consumers: 0, cpu: 0 } }], ctx({ position: LONDON }));
    assert.equal(s.node, null);
    assert.equal(s.reason, 'no eligible node (fra: draining; ash: full (100/100 participants))');
    assert.equal(chain.select([], ctx()).reason, 'no nodes known');
  });

  test('a single eligible node says so', () => {
    const s = chain.select([FRA, { ...ASH, state: 'draining' }], ctx({ position: LONDON }));
    assert.equal(s.node?.nodeId, 'fra');
    assert.match(s.reason, /^the only eligible node; nearest: fra/);
  });

  test('a filter after an ordering is refused', () => {
    assert.throws(() => new StrategyChain([nearest, active]), /every filter must come before the orderings/);
    assert.doesNotThrow(() => new StrategyChain([active, nearest, preferHosting]));
  });

  test('custom chains: strategies are interchangeable parts', () => {
    const onlyLoad = new StrategyChain([active, { ...nearest, name: 'load', apply: (cs, c) => nearest.apply(cs, { ...c, position: null }) }]);
    const s = onlyLoad.select([{ ...FRA, load: { participants: 50, consumers: 0, cpu: 0 } }, SIN], ctx({ position: LONDON }));
    assert.equal(s.node?.nodeId, 'sin');
  });
});

describe('placement', () => {
  test('codec hash of a meeting: the one its hosting nodes have (most common), or none', () => {
    const nodes = [FRA, { ...ASH, codecHash: 'c2' }, { ...SIN, codecHash: 'c2' }];
    assert.equal(meetingCodecHash(nodes, new Set()), null);
    assert.equal(meetingCodecHash(nodes, new Set(['fra'])), 'c1');
    assert.equal(meetingCodecHash(nodes, new Set(['fra', 'ash', 'sin'])), 'c2');
    // A joiner of a meeting on fra (c1) is not sent to ash (c2) even though ash is nearer to Washington.
    const p = placeClient(nodes, { geo: null, hostingNodeIds: ['fra'], now: NOW });
    assert.equal(p.node?.nodeId, 'fra');
    assert.deepEqual(p.dropped.map((d) => d.by), ['codec', 'codec']);
  });

  test('no position: the default region stands in for private, loopback and unknown addresses', () => {
    for (const status of ['private', 'loopback', 'reserved', 'invalid', 'unknown'] as const) {
      const pos = resolvePosition({ ip: '10.0.0.1', status }, [SIN, FRA, ASH], 'ap-southeast');
      assert.equal(pos.source, 'default-region');
      assert.deepEqual(pos.point, { latitude: SIN.latitude, longitude: SIN.longitude });
      assert.match(pos.place, new RegExp(`^${status} address 10.0.0.1: default region ap-southeast`));
    }
    assert.equal(resolvePosition({ ip: '10.0.0.1', status: 'private' }, [FRA], 'mars').source, 'none');
    assert.equal(resolvePosition({ ip: '10.0.0.1', status: 'private' }, [FRA]).source, 'none');
    const found = resolvePosition({ ip: '81.2.69.142', status: 'found', country: 'GB', city: 'London', ...LONDON }, [FRA], 'ap-southeast');
    assert.deepEqual([found.source, found.place], ['geoip', 'London, GB (51.51, -0.09)']);
  });

  test('a private address goes to the default region\'s node, whatever the load elsewhere', () => {
    const busySin = { ...SIN, load: { participants: 60, consumers: 0, cpu: 0.5 } };
    const p = placeClient([FRA, ASH, busySin], { clientIp: '192.168.1.20', geo: null, defaultRegion: 'ap-southeast', now: NOW });
    assert.equal(p.node?.nodeId, 'sin');
    assert.match(p.client.place, /^private address 192\.168\.1\.20: default region ap-southeast/);
    const noRegion = placeClient([FRA, ASH, busySin], { clientIp: '127.0.0.1', geo: null, now: NOW });
    assert.equal(noRegion.node?.nodeId, 'ash', 'no default region: least loaded, ties by id');
    assert.match(noRegion.reason, /client position unknown/);
  });

  test('chooseNode: the edge node\'s redirect helper excludes the caller and explains', () => {
    const r = chooseNode([FRA, ASH, SIN], { meetingId: 'm1', excludeNodeId: 'ash', hostingNodeIds: ['sin'], geo: null, now: NOW });
    assert.equal(r.node?.nodeId, 'sin');
    assert.match(r.reason, /^meeting m1, client at no GeoIP lookup.*sin already hosts the meeting/);
    assert.equal(chooseNode([ASH], { meetingId: 'm1', excludeNodeId: 'ash', geo: null, now: NOW }).node, null);
  });
});

describe('redirects from an edge node', () => {
  const AMS1 = nodeInfo({ nodeId: 'ams-1', region: 'eu-west', latitude: 52.37, longitude: 4.9, capacity: { participants: 3 } });
  const AMS2 = nodeInfo({ nodeId: 'ams-2', region: 'eu-west', latitude: 52.37, longitude: 4.9, capacity: { participants: 3 } });
  const near = { latitude: FRA.latitude, longitude: FRA.longitude, label: 'fra' };

  test('near: without a client address, the redirecting node\'s own place stands in for the client\'s', () => {
    const r = chooseNode([FRA, ASH, SIN, AMS1], { meetingId: 'm1', excludeNodeId: 'fra', near, geo: null, now: NOW });
    assert.equal(r.node?.nodeId, 'ams-1');
    assert.match(r.reason, /client at no GeoIP lookup.*: near fra \(50\.11, 8\.68\): nearest: ams-1/);
    const p = placeClient([ASH, SIN, AMS1], { clientIp: '10.0.0.1', near, defaultRegion: 'ap-southeast', geo: null, now: NOW });
    assert.equal(p.client.source, 'near', 'the caller\'s place comes before the default region');
  });

  test('pending: a drain\'s participants spread over equally near nodes and stop at their capacity', () => {
    const pending = new Map<string, number>();
    const sent: Array<string | null> = [];
    for (let i = 0; i < 7; i++) {
      const r = chooseNode([FRA, ASH, AMS1, AMS2], { meetingId: 'm1', excludeNodeId: 'fra', near, pending, geo: null, now: NOW });
      const id = r.node?.nodeId ?? null;
      sent.push(id);
      if (id) pending.set(id, (pending.get(id) ?? 0) + 1);
    }
    assert.deepEqual(sent, ['ams-1', 'ams-2', 'ams-1', 'ams-2', 'ams-1', 'ams-2', 'ash']);
  });
});

describe('nodes file', () => {
  test('minimal descriptions get defaults: active, idle, capacity 1000, media address from the URL', () => {
    const [n] = parseNodes(JSON.stringify([{ nodeId: 'dub-1', region: 'eu-west', latitude: 53.35, longitude: -6.26, signallingUrl: 'https://dub-1.example.com:8443' }]));
    assert.deepEqual(
      [n!.state, n!.capacity.participants, n!.load.participants, n!.mediaAddress, n!.codecHash],
      ['active', 1000, 0, 'dub-1.example.com', 'static'],
    );
  });

  test('bad files are refused with the field named', () => {
    const ok = { nodeId: 'a', region: 'r', latitude: 1, longitude: 2, signallingUrl: 'https://a.example' };
    assert.throws(() => parseNodes('[{', 'f.json'), /^Error: f.json: not valid JSON/);
    assert.throws(() => parseNodes('[]'), /at least 1|too small|>=1/i);
    assert.throws(() => parseNodes(JSON.stringify([{ ...ok, latitude: 95 }])), /0\.latitude/);
    assert.throws(() => parseNodes(JSON.stringify([{ ...ok, signallingUrl: 'nope' }])), /0\.signallingUrl/);
    assert.throws(() => parseNodes(JSON.stringify([{ ...ok, lat: 1 }])), /lat/);
    assert.throws(() => parseNodes(JSON.stringify([ok, ok])), /node ids must be unique/);
    assert.throws(() => parseNodes(JSON.stringify([{ ...ok, state: 'sleeping' }])), /0\.state/);
  });
});
