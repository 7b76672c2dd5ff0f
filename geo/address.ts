/**
 * IP address text as it arrives from sockets and proxy headers: normalised (brackets, ports, zone ids and
 * IPv4-mapped IPv6 removed) and classified, so that private, loopback and reserved addresses never reach the GeoIP
 * database (they have no location) and fall back to the configured default region instead.
 */
import net from 'node:net';

export type AddressKind = 'public' | 'private' | 'loopback' | 'reserved';

/**
 * The canonical form of an address, or null if `raw` is not one. Accepts what sockets and X-Forwarded-For give:
 * `1.2.3.4`, `1.2.3.4:5678`, `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket), `[2001:db8::1]:443`,
 * `fe80::1%eth0`.
 */
export function normalizeIp(raw: string | null | undefined): string | null {
  if (typeof raw !== 'string') return null;
  let s = raw.trim();
  if (s.length === 0 || s.length > 64) return null;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (bracketed) s = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  const zone = s.indexOf('%');
  if (zone > 0) s = s.slice(0, zone);
  const version = net.isIP(s);
  if (version === 0) return null;
  if (version === 4) return s;
  const lower = s.toLowerCase();
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (mapped && net.isIPv4(mapped[1]!)) return mapped[1]!;
  return lower;
}

function blockList(entries: Array<[string, number, 'ipv4' | 'ipv6']>): net.BlockList {
  const list = new net.BlockList();
  for (const [address, prefix, family] of entries) list.addSubnet(address, prefix, family);
  return list;
}

const LOOPBACK = blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]);
/** RFC 1918, carrier-grade NAT, link-local, unique-local: a client behind a NAT or on the same LAN. */
const PRIVATE = blockList([
  ['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], ['fc00::', 7, 'ipv6'], ['fe80::', 10, 'ipv6'],
]);
/** Not routable on the internet at all: "this network", documentation, benchmarking, multicast, reserved. */
const RESERVED = blockList([
  ['0.0.0.0', 8, 'ipv4'], ['192.0.0.0', 24, 'ipv4'], ['192.0.2.0', 24, 'ipv4'], ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'], ['203.0.113.0', 24, 'ipv4'], ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'], ['2001:db8::', 32, 'ipv6'], ['ff00::', 8, 'ipv6'], ['100::', 64, 'ipv6'],
]);

/** What kind of address a normalised IP is (see {@link normalizeIp}). */
export function classifyIp(ip: string): AddressKind {
  const family = net.isIPv4(ip) ? 'ipv4' : 'ipv6';
  if (LOOPBACK.check(ip, family)) return 'loopback';
  if (PRIVATE.check(ip, family)) return 'private';
  if (RESERVED.check(ip, family)) return 'reserved';
  return 'public';
}

/** An address normalised and classified in one step; `invalid` when it is not an address. */
export function inspectIp(raw: string): { ip: string; kind: AddressKind | 'invalid' } {
  const ip = normalizeIp(raw);
  return ip ? { ip, kind: classifyIp(ip) } : { ip: String(raw).slice(0, 64), kind: 'invalid' };
}
