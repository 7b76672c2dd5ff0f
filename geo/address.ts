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

/** IPv4 as an unsigned 32-bit number. Input: a normalised IPv4 address. */
function ipv4Number(ip: string): number {
  const [a, b, c, d] = ip.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** IPv6 as eight 16-bit groups. Input: a normalised IPv6 address (a trailing dotted quad is allowed). */
function ipv6Groups(ip: string): number[] {
  const dotted = /\d{1,3}(?:\.\d{1,3}){3}$/.exec(ip)?.[0];
  if (dotted) {
    const n = ipv4Number(dotted);
    ip = `${ip.slice(0, -dotted.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const groups = (part: string) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const [head, tail] = ip.split('::') as [string, string | undefined];
  if (tail === undefined) return groups(head);
  const left = groups(head);
  const right = groups(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** A normalised address in numbers, parsed once for all the sets it is checked against. */
type Parsed = { v4: number; v6?: undefined } | { v4?: undefined; v6: number[] };
const parse = (ip: string): Parsed => (net.isIPv4(ip) ? { v4: ipv4Number(ip) } : { v6: ipv6Groups(ip) });

/**
 * A set of networks (CIDR), IPv4 and IPv6, matched in plain arithmetic (node's net.BlockList was the slowest part of
 * a GeoIP lookup). Addresses given to `has` must be normalised ({@link normalizeIp}).
 */
export class AddressSet {
  private readonly v4: Array<[base: number, bits: number]> = [];
  private readonly v6: Array<[groups: number[], bits: number]> = [];

  /** Adds `ip/bits` (bits defaults to the whole address); throws on anything else. */
  add(network: string): this {
    const [addr, prefix] = network.split('/') as [string, string | undefined];
    const ip = normalizeIp(addr);
    const v4 = !!ip && net.isIPv4(ip);
    const max = v4 ? 32 : 128;
    const bits = prefix === undefined ? max : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (!ip || !(bits >= 0 && bits <= max)) throw new Error(`'${network}': not an IP address or CIDR network`);
    if (v4) this.v4.push([ipv4Number(ip), bits]);
    else this.v6.push([ipv6Groups(ip), bits]);
    return this;
  }

  /** Whether a normalised address (or one parsed already) is in one of the networks. */
  has(address: string | Parsed): boolean {
    const p = typeof address === 'string' ? parse(address) : address;
    if (p.v4 !== undefined) {
      const n = p.v4;
      return this.v4.some(([base, bits]) => bits === 0 || n >>> (32 - bits) === base >>> (32 - bits));
    }
    const g = p.v6;
    return this.v6.some(([base, bits]) => {
      for (let i = 0; bits > 0; i++, bits -= 16) {
        const shift = Math.max(0, 16 - bits);
        if (g[i]! >>> shift !== base[i]! >>> shift) return false;
      }
      return true;
    });
  }
}

const networks = (list: string[]) => list.reduce((set, n) => set.add(n), new AddressSet());
const LOOPBACK = networks(['127.0.0.0/8', '::1/128']);
/** RFC 1918, carrier-grade NAT, link-local, unique-local: a client behind a NAT or on the same LAN. */
const PRIVATE = networks(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16', 'fc00::/7', 'fe80::/10']);
/** Not routable on the internet at all: "this network", documentation, benchmarking, multicast, reserved. */
const RESERVED = networks([
  '0.0.0.0/8', '192.0.0.0/24', '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/3',
  '::/128', '2001:db8::/32', 'ff00::/8', '100::/64',
]);

/** What kind of address a normalised IP is (see {@link normalizeIp}). */
export function classifyIp(ip: string): AddressKind {
  const p = parse(ip);
  if (LOOPBACK.has(p)) return 'loopback';
  if (PRIVATE.has(p)) return 'private';
  if (RESERVED.has(p)) return 'reserved';
  return 'public';
}

/** An address normalised and classified in one step; `invalid` when it is not an address. */
export function inspectIp(raw: string): { ip: string; kind: AddressKind | 'invalid' } {
  const ip = normalizeIp(raw);
  return ip ? { ip, kind: classifyIp(ip) } : { ip: String(raw).slice(0, 64), kind: 'invalid' };
}
