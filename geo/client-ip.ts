/**
 * The client's address for routing. It is the socket's peer address, except when that peer is one of the
 * operator's trusted proxies (a load balancer, a CDN): then X-Forwarded-For is read from the right, skipping the
 * trusted hops, and the first address that is not a trusted proxy is the client. Entries left of it are whatever
 * the client sent and are never believed. Without trusted proxies the header is ignored entirely, so nobody can
 * pick their own node (or region) by sending it.
 */
import { AddressSet, normalizeIp } from './address.js';

/** A set of proxy addresses and networks: `10.0.0.5`, `10.0.0.0/8`, `2001:db8::/32`. */
export class TrustedProxies {
  private readonly set = new AddressSet();

  private constructor(readonly entries: readonly string[]) {
    for (const entry of entries) {
      try {
        this.set.add(entry);
      } catch {
        throw new Error(`trusted proxy '${entry}': not an IP address or CIDR network`);
      }
    }
  }

  /** From a comma separated list or an array; throws naming the first bad entry. */
  static parse(spec: string | readonly string[] | undefined): TrustedProxies {
    const entries = (typeof spec === 'string' ? spec.split(',') : spec ?? []).map((s) => s.trim()).filter(Boolean);
    return new TrustedProxies(entries);
  }

  static none(): TrustedProxies {
    return new TrustedProxies([]);
  }

  has(ip: string): boolean {
    const n = normalizeIp(ip);
    return !!n && this.set.has(n);
  }
}

/** Hops read from the right of X-Forwarded-For at most (a request cannot make the walk long). */
const MAX_HOPS = 32;

export interface ClientAddress {
  /** The client's address, normalised; null when even the socket's is missing or malformed. */
  ip: string | null;
  /** Where it came from. */
  via: 'socket' | 'x-forwarded-for';
}

/**
 * The client's address from the socket's peer and the X-Forwarded-For header values (as given: one string, several
 * header lines, or none). A malformed entry ends the walk: the hop that forwarded it is the last one we know.
 */
export function clientAddress(socketIp: string | null | undefined, forwardedFor: string | readonly string[] | null | undefined, trusted: TrustedProxies): ClientAddress {
  const peer = normalizeIp(socketIp);
  if (!peer || !trusted.has(peer) || !forwardedFor) return { ip: peer, via: 'socket' };
  const hops = (typeof forwardedFor === 'string' ? [forwardedFor] : forwardedFor).join(',').split(',')
    .map((s) => s.trim()).filter(Boolean).slice(-MAX_HOPS);
  let client = peer;
  let via: ClientAddress['via'] = 'socket';
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = normalizeIp(hops[i]);
    if (!ip) break;
    client = ip;
    via = 'x-forwarded-for';
    if (!trusted.has(ip)) break;
  }
  return { ip: client, via };
}
