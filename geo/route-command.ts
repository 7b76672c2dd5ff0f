/**
 * `meshmeet route <ip>...`: for each address, where it is, the candidate nodes and the one chosen, and why. With
 * `--nodes FILE` it needs no cluster (plan where the next node should go); inside the meshmeet CLI the cluster's
 * membership view can be passed in as `nodes`.
 */
import { parseArgs } from 'node:util';
import { GEO_ATTRIBUTION, GeoLookup } from './lookup.js';
import { placeClient, type Placement } from './place.js';
import { km, pct } from './selector/types.js';
import { nodesFileSource, type NodeSource } from './sources.js';

export const ROUTE_USAGE = `Usage: meshmeet route [options] <ip>...

For each IP address: where it is (GeoIP: country, city, coordinates), the candidate nodes and the one chosen, and why.

Options:
  --nodes FILE            JSON list of node descriptions (see geo/nodes.example.json and the README); no cluster needed
  --default-region NAME   region assumed for private, loopback and unknown addresses
  --hosting ID[,ID...]    nodes that already serve the meeting (they win when nearly as close)
  --exclude ID            a node that must not be chosen
  --json                  print the placements as JSON
  -h, --help              this text

Exit status: 0 when every address got a node, 1 when one got none, 2 on bad usage.
${GEO_ATTRIBUTION}.`;

export interface RouteCommandOptions {
  /** The cluster's nodes (the meshmeet CLI passes its membership view); --nodes FILE overrides. */
  nodes?: NodeSource;
  out?: (line: string) => void;
  err?: (line: string) => void;
  geo?: GeoLookup;
}

function describe(ip: string, p: Placement): string[] {
  const lines = [`${ip}`, `  where:      ${p.client.place}${p.client.source === 'geoip' ? '' : ` [${p.client.source}]`}`];
  lines.push('  candidates:');
  if (p.ranked.length === 0) lines.push('    (none)');
  p.ranked.forEach((c, i) => {
    lines.push(`    ${i + 1}. ${c.node.nodeId.padEnd(12)} ${c.node.region.padEnd(14)} ${km(c.distanceKm).padStart(9)}  load ${pct(c.load).padStart(4)}${c.hosting ? '  hosts the meeting' : ''}`);
  });
  for (const d of p.dropped) lines.push(`    -  ${d.nodeId.padEnd(12)} dropped by ${d.by}: ${d.reason}`);
  lines.push(p.node ? `  chosen:     ${p.node.nodeId} (${p.node.region}) ${p.node.signallingUrl}` : '  chosen:     none');
  lines.push(`  why:        ${p.reason}`);
  return lines;
}

/** Runs the command; resolves with the exit status. */
export async function routeCommand(argv: readonly string[], o: RouteCommandOptions = {}): Promise<number> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const err = o.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  let values: { nodes?: string; 'default-region'?: string; hosting?: string; exclude?: string; json?: boolean; help?: boolean };
  let ips: string[];
  try {
    const parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        nodes: { type: 'string' }, 'default-region': { type: 'string' }, hosting: { type: 'string' }, exclude: { type: 'string' },
        json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
    values = parsed.values;
    ips = parsed.positionals;
  } catch (e) {
    err(`meshmeet route: ${(e as Error).message}\n\n${ROUTE_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(ROUTE_USAGE);
    return 0;
  }
  if (ips.length === 0) {
    err(`meshmeet route: give at least one IP address\n\n${ROUTE_USAGE}`);
    return 2;
  }
  let source: NodeSource;
  try {
    if (values.nodes) source = nodesFileSource(values.nodes);
    else if (o.nodes) source = o.nodes;
    else {
      err('meshmeet route: no nodes: pass --nodes FILE (or run it as a cluster member)');
      return 2;
    }
  } catch (e) {
    err(`meshmeet route: ${(e as Error).message}`);
    return 2;
  }
  const nodes = source();
  const geo = o.geo ?? (await GeoLookup.open());
  const placements = ips.map((ip) => ({
    ip,
    placement: placeClient(nodes, {
      clientIp: ip,
      geo,
      defaultRegion: values['default-region'],
      hostingNodeIds: values.hosting?.split(',').map((s) => s.trim()).filter(Boolean),
      excludeNodeId: values.exclude,
    }),
  }));
  if (values.json) {
    out(JSON.stringify(placements.map(({ ip, placement: p }) => ({
      ip, client: { source: p.client.source, place: p.client.place, location: p.client.location },
      chosen: p.node && { nodeId: p.node.nodeId, region: p.node.region, signallingUrl: p.node.signallingUrl },
      reason: p.reason,
      candidates: p.ranked.map((c) => ({ nodeId: c.node.nodeId, region: c.node.region, distanceKm: c.distanceKm, load: c.load, hosting: c.hosting })),
      dropped: p.dropped,
    })), null, 2));
  } else {
    out([...placements.flatMap(({ ip, placement }) => [...describe(ip, placement), '']), GEO_ATTRIBUTION].join('\n'));
  }
  return placements.every((p) => p.placement.node) ? 0 : 1;
}
