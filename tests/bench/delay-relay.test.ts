/** The WAN delay relay: its pure scheduling core, then the sockets on loopback (address rewriting, counters). */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { describe, test } from 'node:test';
import { DelaySchedule, UdpDelayRelay, linkKey } from '../../bench/lib/delay-relay.js';
import { freePorts } from '../../bench/lib/system.js';
import { waitFor } from '../helpers/edge.js';

const DELAYS: Record<string, number> = { 'a->b': 40, 'b->a': 40, 'a->c': 90, 'c->a': 90 };
const delay = (from: string, to: string): number => DELAYS[linkKey(from, to)] ?? NaN;

describe('DelaySchedule (pure core)', () => {
  test('holds each packet for its direction\'s delay, in order within a direction', () => {
    const s = new DelaySchedule<string>(delay, 100);
    s.offer('a', 'b', 100, 'ab1', 0);
    s.offer('a', 'c', 200, 'ac1', 1);
    s.offer('a', 'b', 100, 'ab2', 5);
    assert.equal(s.nextDueAt(), 40);
    assert.deepEqual(s.due(39.9), []);
    assert.deepEqual(s.due(40).map((d) => d.item), ['ab1']);
    assert.equal(s.nextDueAt(), 45);
    assert.deepEqual(s.due(90).map((d) => d.item), ['ab2']);
    assert.equal(s.nextDueAt(), 91);
    assert.deepEqual(s.due(91), [{ from: 'a', to: 'c', item: 'ac1' }]);
    assert.equal(s.nextDueAt(), null);
    assert.equal(s.held, 0);
  });

  test('counts packets and bytes per direction once forwarded', () => {
    const s = new DelaySchedule<number>(delay, 100);
    for (let i = 0; i < 10; i++) s.offer('a', 'b', 1000, i, i);
    for (let i = 0; i < 3; i++) s.offer('b', 'a', 50, i, i);
    assert.deepEqual(s.stats()['a->b'], { packets: 0, bytes: 0, dropped: 0, queued: 10, lateMsSum: 0, lateMsMax: 0 });
    s.due(45);
    // forwarded at 45 the packets due at 40..45: late by 5, 4, 3, 2, 1, 0 ms
    assert.deepEqual(s.stats()['a->b'], { packets: 6, bytes: 6000, dropped: 0, queued: 4, lateMsSum: 15, lateMsMax: 5 });
    assert.deepEqual(s.stats()['b->a'], { packets: 3, bytes: 150, dropped: 0, queued: 0, lateMsSum: 3 + 4 + 5, lateMsMax: 5 });
  });

  test('is bounded: beyond maxHeld packets are dropped and counted', () => {
    const s = new DelaySchedule<number>(delay, 3);
    const taken = [0, 1, 2, 3, 4].map((i) => s.offer('a', 'c', 10, i, 0));
    assert.deepEqual(taken, [true, true, true, false, false]);
    assert.equal(s.stats()['a->c']!.dropped, 2);
    assert.equal(s.due(90).length, 3);
    assert.equal(s.offer('a', 'c', 10, 5, 91), true, 'room again once forwarded');
  });

  test('a direction without a delay is an error, not a silent pass-through', () => {
    const s = new DelaySchedule<number>(delay, 3);
    assert.throws(() => s.offer('b', 'c', 10, 0, 0), /no delay for b->c/);
    assert.throws(() => new DelaySchedule<number>(delay, 0), /maxHeld/);
  });

  test('many packets: every one comes out exactly once, never before its due time', () => {
    const s = new DelaySchedule<{ at: number; from: string; to: string }>(delay, 100_000);
    const out: { at: number; from: string; to: string; dueAt: number; now: number }[] = [];
    let now = 0;
    for (let i = 0; i < 5000; i++) {
      now += (i * 7919) % 3;
      const [from, to] = (['a->b', 'b->a', 'a->c', 'c->a'] as const)[i % 4]!.split('->') as [string, string];
      s.offer(from, to, 100, { at: now, from, to }, now);
      for (const d of s.due(now)) out.push({ ...d.item, dueAt: d.item.at + delay(d.from, d.to), now });
    }
    for (const d of s.due(now + 1000)) out.push({ ...d.item, dueAt: d.item.at + delay(d.from, d.to), now: now + 1000 });
    assert.equal(out.length, 5000);
    for (const o of out) assert.ok(o.now >= o.dueAt, `forwarded at ${o.now}, due ${o.dueAt}`);
  });
});

describe('UdpDelayRelay (loopback sockets)', () => {
  test('a datagram from node A\'s real address reaches node B from A\'s relay address, counted', async () => {
    const base = await freePorts('media', 4);
    const nodes = [
      { id: 'a', realIp: '127.0.0.41', relayIp: '127.0.1.41', minPort: base, maxPort: base + 1 },
      { id: 'b', realIp: '127.0.0.42', relayIp: '127.0.1.42', minPort: base + 2, maxPort: base + 3 },
    ];
    const relay = await UdpDelayRelay.start(nodes, delay);
    const a = dgram.createSocket('udp4');
    const b = dgram.createSocket('udp4');
    try {
      await new Promise<void>((r) => a.bind(base, '127.0.0.41', r));
      await new Promise<void>((r) => b.bind(base + 2, '127.0.0.42', r));
      const atB: { msg: string; from: string }[] = [];
      const atA: { msg: string; from: string }[] = [];
      b.on('message', (m, r) => atB.push({ msg: m.toString(), from: `${r.address}:${r.port}` }));
      a.on('message', (m, r) => atA.push({ msg: m.toString(), from: `${r.address}:${r.port}` }));
      a.send('hello b', base + 2, '127.0.1.42'); // A's pipe talks to B's announced (relay) address
      await waitFor('the datagram at B', () => atB.length === 1, 5000, 5);
      assert.deepEqual(atB[0], { msg: 'hello b', from: `127.0.1.41:${base}` });
      b.send('hello a', base, '127.0.1.41'); // B answers the tuple it saw
      await waitFor('the answer at A', () => atA.length === 1, 5000, 5);
      assert.deepEqual(atA[0], { msg: 'hello a', from: `127.0.1.42:${base + 2}` });
      // a stranger (an address that is no node's) is not relayed
      const stranger = dgram.createSocket('udp4');
      await new Promise<void>((r) => stranger.bind(0, '127.0.0.43', r));
      stranger.send('spoof', base + 2, '127.0.1.42');
      await waitFor('the stranger counted', () => relay.stats().unroutable === 1, 5000, 5);
      stranger.close();
      const st = relay.stats();
      for (const k of ['a->b', 'b->a']) {
        const { packets, bytes, dropped, queued } = st.links[k]!;
        assert.deepEqual({ packets, bytes, dropped, queued }, { packets: 1, bytes: 7, dropped: 0, queued: 0 }, k);
      }
      assert.equal(atB.length, 1);
    } finally {
      a.close();
      b.close();
      relay.close();
    }
  });

  test('refuses addresses off loopback and nodes that share an address', async () => {
    await assert.rejects(UdpDelayRelay.start([{ id: 'a', realIp: '10.0.0.1', relayIp: '127.0.1.1', minPort: 1, maxPort: 1 }], delay), /loopback/);
    await assert.rejects(UdpDelayRelay.start([
      { id: 'a', realIp: '127.0.0.5', relayIp: '127.0.1.5', minPort: 1, maxPort: 1 },
      { id: 'b', realIp: '127.0.0.5', relayIp: '127.0.1.6', minPort: 1, maxPort: 1 },
    ], delay), /own real and relay address/);
  });
});
