/** Client addresses: normalising what sockets and proxies give, classifying them, and trusting X-Forwarded-For only from configured proxies. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TrustedProxies, classifyIp, clientAddress, normalizeIp } from '../../geo/index.js';

describe('addresses', () => {
  test('normalised: ports, brackets, zones and IPv4-mapped IPv6 removed; garbage refused', () => {
    const cases: Array<[string, string | null]> = [
      ['81.2.69.142', '81.2.69.142'], [' 81.2.69.142 ', '81.2.69.142'], ['81.2.69.142:5060', '81.2.69.142'],
      ['::ffff:81.2.69.142', '81.2.69.142'], ['0:0:0:0:0:ffff:81.2.69.142', '81.2.69.142'],
      ['2001:DB8::1', '2001:db8::1'], ['[2001:db8::1]:443', '2001:db8::1'], ['[::1]', '::1'], ['fe80::1%eth0', 'fe80::1'],
      ['', null], ['unknown', null], ['1.2.3', null], ['1.2.3.4.5', null], ['999.1.1.1', null], ['1.2.3.4:', null],
      ['[1.2.3.4', null], ['x'.repeat(100), null], ['1.2.3.4, 5.6.7.8', null],
    ];
    for (const [raw, want] of cases) assert.equal(normalizeIp(raw), want, raw);
    assert.equal(normalizeIp(undefined), null);
  });

  test('classified: loopback, private (RFC 1918, CGNAT, link-local, ULA), reserved, public', () => {
    const cases: Array<[string, string]> = [
      ['127.0.0.1', 'loopback'], ['127.9.9.9', 'loopback'], ['::1', 'loopback'],
      ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.0.10', 'private'],
      ['100.64.0.1', 'private'], ['169.254.1.1', 'private'], ['fd12:3456::1', 'private'], ['fe80::1', 'private'],
      ['0.0.0.0', 'reserved'], ['192.0.2.1', 'reserved'], ['203.0.113.9', 'reserved'], ['224.0.0.1', 'reserved'],
      ['255.255.255.255', 'reserved'], ['::', 'reserved'], ['2001:db8::1', 'reserved'], ['ff02::1', 'reserved'],
      ['fdff:ffff::1', 'private'], ['fe00::1', 'public'], ['febf::1', 'private'], ['fec0::1', 'public'], ['ff00::', 'reserved'],
      ['2001:db7:ffff::1', 'public'], ['2001:db8:ffff::1', 'reserved'], ['100::ffff:ffff:ffff:ffff', 'reserved'], ['100::1:0:0:0:0', 'public'],
      ['64:ff9b::10.0.0.1', 'public'], ['::10.0.0.1', 'public'], ['1::', 'public'], ['::2', 'public'],
      ['172.32.0.1', 'public'], ['81.2.69.142', 'public'], ['100.128.0.1', 'public'], ['2a00:1450:4001:80b::200e', 'public'],
    ];
    for (const [ip, want] of cases) assert.equal(classifyIp(ip), want, ip);
  });
});

describe('X-Forwarded-For', () => {
  const trusted = TrustedProxies.parse('127.0.0.2, 10.0.0.0/8, 2001:db8:1::/48');

  test('trusted proxies: IPs and CIDR networks, IPv4 and IPv6; bad entries refused by name', () => {
    assert.ok(trusted.has('127.0.0.2') && trusted.has('10.200.3.4') && trusted.has('2001:db8:1:ff::5') && trusted.has('::ffff:10.0.0.1'));
    assert.ok(!trusted.has('127.0.0.1') && !trusted.has('11.0.0.1') && !trusted.has('2001:db8:2::1') && !trusted.has('garbage'));
    for (const bad of ['10.0.0.0/33', 'proxy.example.com', '10.0.0.0/x', '::1/129', '1.2.3.4/']) {
      assert.throws(() => TrustedProxies.parse(bad), new RegExp(`trusted proxy '${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}'`));
    }
    assert.ok(!TrustedProxies.parse('').has('127.0.0.1'));
    assert.ok(!TrustedProxies.none().has('10.0.0.1'));
  });

  test('from an untrusted peer the header is ignored: nobody picks their own region', () => {
    assert.deepEqual(clientAddress('127.0.0.1', '133.242.0.1', trusted), { ip: '127.0.0.1', via: 'socket' });
    assert.deepEqual(clientAddress('81.2.69.142', '133.242.0.1', trusted), { ip: '81.2.69.142', via: 'socket' });
    assert.deepEqual(clientAddress('10.0.0.1', '133.242.0.1', TrustedProxies.none()), { ip: '10.0.0.1', via: 'socket' });
  });

  test('from a trusted peer: the rightmost address that is not a trusted proxy; what the client put left of it is ignored', () => {
    assert.deepEqual(clientAddress('127.0.0.2', '133.242.0.1', trusted), { ip: '133.242.0.1', via: 'x-forwarded-for' });
    assert.deepEqual(clientAddress('::ffff:127.0.0.2', '6.6.6.6, 133.242.0.1', trusted), { ip: '133.242.0.1', via: 'x-forwarded-for' });
    assert.deepEqual(clientAddress('127.0.0.2', '6.6.6.6, 133.242.0.1, 10.1.1.1, 10.2.2.2', trusted), { ip: '133.242.0.1', via: 'x-forwarded-for' });
    assert.deepEqual(clientAddress('127.0.0.2', ['6.6.6.6, 133.242.0.1', '10.1.1.1'], trusted), { ip: '133.242.0.1', via: 'x-forwarded-for' });
    assert.deepEqual(clientAddress('127.0.0.2', '[2a00:1450:4001:80b::200e]:1234', trusted), { ip: '2a00:1450:4001:80b::200e', via: 'x-forwarded-for' });
  });

  test('only trusted hops: the leftmost; a malformed entry ends the walk at the hop that forwarded it; no header: the socket', () => {
    assert.deepEqual(clientAddress('127.0.0.2', '10.9.9.9, 10.1.1.1', trusted), { ip: '10.9.9.9', via: 'x-forwarded-for' });
    assert.deepEqual(clientAddress('127.0.0.2', '133.242.0.1, nonsense, 10.1.1.1', trusted), { ip: '10.1.1.1', via: 'x-forwarded-for' });
    assert.deepEqual(clientAddress('127.0.0.2', 'nonsense', trusted), { ip: '127.0.0.2', via: 'socket' });
    assert.deepEqual(clientAddress('127.0.0.2', undefined, trusted), { ip: '127.0.0.2', via: 'socket' });
    assert.deepEqual(clientAddress('127.0.0.2', ' , ,', trusted), { ip: '127.0.0.2', via: 'socket' });
    assert.deepEqual(clientAddress(undefined, '133.242.0.1', trusted), { ip: null, via: 'socket' });
  });

  test('a long header is read from the right only as far as needed (bounded)', () => {
    const spoof = Array.from({ length: 5000 }, (_, i) => `6.6.${i % 250}.1`).join(', ');
    assert.deepEqual(clientAddress('127.0.0.2', `${spoof}, 133.242.0.1, 10.1.1.1`, trusted), { ip: '133.242.0.1', via: 'x-forwarded-for' });
  });
});
