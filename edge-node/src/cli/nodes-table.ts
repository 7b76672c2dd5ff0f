/** `meshmeet nodes` output: the membership view as a table (pure, tested). */
import type { NodeInfo } from '../../protocol/mesh.js';

const COLUMNS = ['', 'NODE', 'REGION', 'STATE', 'LAT', 'LON', 'PARTICIPANTS', 'CPU', 'HEARD', 'VERSION', 'SIGNALLING'] as const;

/** One row per node, this node (if given) first and marked `*`, the rest by region then id. */
export function formatNodesTable(nodes: readonly NodeInfo[], now: number, selfId?: string): string {
  const sorted = [...nodes].sort((a, b) =>
    (a.nodeId === selfId ? -1 : 0) - (b.nodeId === selfId ? -1 : 0) || a.region.localeCompare(b.region) || a.nodeId.localeCompare(b.nodeId));
  const rows = sorted.map((n) => [
    n.nodeId === selfId ? '*' : '',
    n.nodeId,
    n.region,
    n.state,
    n.latitude.toFixed(2),
    n.longitude.toFixed(2),
    `${n.load.participants}/${n.capacity.participants}`,
    `${Math.round(n.load.cpu * 100)}%`,
    n.nodeId === selfId ? 'self' : `${Math.max(0, (now - n.sentAt) / 1000).toFixed(1)}s ago`,
    n.version,
    n.signallingUrl,
  ]);
  const table = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const lines = table.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
  return `${lines.join('\n')}\n${nodes.length} node${nodes.length === 1 ? '' : 's'}\n`;
}
