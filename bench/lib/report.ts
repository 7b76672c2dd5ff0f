/**
 * The bench's output: a table on the terminal, and under bench/results/<date>-<scenario>/ a JSON file with every
 * figure and the machine, and a self-contained HTML report (inline SVG charts, no script, no CDN).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Point } from './fleet.js';

export interface Table {
  columns: string[];
  rows: (string | number | null)[][];
}
export interface Series {
  label: string;
  points: Point[];
}
export interface Bars {
  title: string;
  unit: string;
  items: { label: string; value: number }[];
}
export interface ScenarioResult {
  /** Every figure, per SFU or per step: goes to the JSON as is. */
  figures: Record<string, unknown>;
  table: Table;
  series: Series[];
  bars: Bars[];
  notes: string[];
  /** Failures the run saw (bots that could not connect, peers that are missing): never hidden. */
  failures: string[];
  /** What the real Chromium participants (--browsers) decoded, one row per SFU run; every figure in `figures`. */
  browserQuality?: { table: Table; figures: Record<string, unknown> };
}
export interface Report extends ScenarioResult {
  scenario: string;
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: Record<string, unknown>;
  flags: Record<string, unknown>;
}

export function fmt(v: string | number | null | undefined, digits = 1): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return '-';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  if (Number.isInteger(v)) return String(v);
  return v.toFixed(Math.abs(v) < 10 ? Math.max(digits, 2) : digits);
}

export function renderTable(t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map((c) => fmt(c)))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: (string | number | null)[]): string => r.map((c, i) => String(c ?? '').padStart(widths[i]!)).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** Markdown version of the table (for the README's Performance section). */
export function markdownTable(t: Table): string {
  const row = (r: (string | number | null)[]): string => `| ${r.map((c) => fmt(c)).join(' | ')} |`;
  return [row(t.columns), `|${t.columns.map(() => '---').join('|')}|`, ...t.rows.map(row)].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

function lineChart(title: string, series: Series[], pick: (p: Point) => number | null, unit: string): string {
  // the legend on its own lines under the title (long in compare), naming only the series this chart has data for
  const named = series.map((s, i) => ({ s, color: COLORS[i % COLORS.length] })).filter(({ s }) => s.points.some((p) => Number.isFinite(pick(p) ?? NaN)));
  const legendLines = Array.from({ length: Math.ceil(named.length / 3) }, (_, k) => named.slice(k * 3, k * 3 + 3));
  const W = 640, L = 56, R = 12, T = 26 + 14 * legendLines.length, H = T + 192, B = 30;
  const all = series.flatMap((s) => s.points.map((p) => ({ t: p.t, v: pick(p) }))).filter((x) => x.v !== null && Number.isFinite(x.v)) as { t: number; v: number }[];
  if (all.length === 0) return '';
  const tMax = Math.max(1, ...all.map((x) => x.t));
  const vMax = Math.max(1e-9, ...all.map((x) => x.v)) * 1.1;
  const X = (t: number): number => L + (t / tMax) * (W - L - R);
  const Y = (v: number): number => H - B - (v / vMax) * (H - T - B);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = vMax * f;
    return `<line x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}" stroke="#e5e7eb"/><text x="${L - 4}" y="${Y(v) + 4}" text-anchor="end" font-size="10">${esc(fmt(v, 2))}</text>`;
  }).join('');
  const lines = series.map((s, i) => {
    const pts = s.points.map((p) => [p.t, pick(p)] as const).filter(([, v]) => v !== null && Number.isFinite(v));
    if (pts.length === 0) return '';
    const d = pts.map(([t, v], j) => `${j ? 'L' : 'M'}${X(t).toFixed(1)},${Y(v!).toFixed(1)}`).join('');
    return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.8"/>`;
  }).join('');
  const legend = legendLines.map((line, k) => `<text x="${L}" y="${32 + 14 * k}" font-size="11">${line
    .map(({ s, color }) => `<tspan fill="${color}">■ ${esc(s.label)}</tspan>`).join('  ')}</text>`).join('');
  return `<figure><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<text x="${L}" y="16" font-size="13" font-weight="bold">${esc(title)} (${esc(unit)})</text>${legend}
${grid}<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#9ca3af"/><text x="${(W + L) / 2}" y="${H - 6}" font-size="10" text-anchor="middle">seconds</text>
<text x="${W - R}" y="${H - B + 14}" font-size="10" text-anchor="end">${fmt(tMax)}</text>${lines}</svg></figure>`;
}

function barChart(b: Bars): string {
  const W = 720, rowH = 26, L = 150, R = 170;
  const max = Math.max(1e-9, ...b.items.map((i) => i.value));
  const H = 30 + b.items.length * rowH;
  const rows = b.items.map((it, i) => {
    const w = ((W - L - R) * it.value) / max;
    const y = 26 + i * rowH;
    return `<text x="${L - 6}" y="${y + 15}" font-size="12" text-anchor="end">${esc(it.label)}</text><rect x="${L}" y="${y}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 8}" fill="${COLORS[i % COLORS.length]}"/><text x="${L + w + 6}" y="${y + 14}" font-size="12">${esc(fmt(it.value))} ${esc(b.unit)}</text>`;
  }).join('');
  return `<figure><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(b.title)}"><text x="4" y="16" font-size="13" font-weight="bold">${esc(b.title)}</text>${rows}</svg></figure>`;
}

const htmlTable = (t: Table): string => `<table><thead><tr>${t.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${t.rows
  .map((row) => `<tr>${row.map((c) => `<td>${esc(fmt(c))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

export function renderHtml(r: Report): string {
  const table = htmlTable(r.table);
  const charts = [
    lineChart('SFU CPU', r.series, (p) => p.sfuCpuCores, 'cores'),
    lineChart('Packets received by the bots', r.series, (p) => p.rxPps, 'packets/s'),
    lineChart('Receive loss', r.series, (p) => p.lossPct, '%'),
    lineChart('Bots connected', r.series, (p) => p.connected, 'bots'),
    lineChart('Bot CPU', r.series, (p) => p.botCpuCores, 'cores'),
    lineChart('Jitter', r.series, (p) => p.jitterMs, 'ms'),
  ].join('');
  const browsers = r.browserQuality ? `<h2>Browser quality (real Chromium participants)</h2>
${htmlTable(r.browserQuality.table)}
${lineChart('Frames decoded per second per stream, in Chromium', r.series, (p) => p.browser?.fpsPerStream ?? null, 'frames/s')}
${lineChart('Freezes in Chromium', r.series, (p) => p.browser?.freezes ?? null, 'per second')}` : '';
  const list = (xs: string[]): string => (xs.length ? `<ul>${xs.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : '<p>none</p>');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>MeshMeet bench: ${esc(r.scenario)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1000px;color:#111}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #d1d5db;padding:4px 8px;text-align:right}th{background:#f3f4f6}figure{margin:1em 0}code{background:#f3f4f6;padding:2px 4px}
.fail{color:#b91c1c}</style></head><body>
<h1>MeshMeet bench: ${esc(r.scenario)}</h1>
<p><code>${esc(r.command)}</code><br>${esc(r.startedAt)} to ${esc(r.finishedAt)}</p>
<p>Machine: ${esc(String(r.machine.cpuModel))}, ${esc(String(r.machine.cores))} cores, ${esc(String(r.machine.memoryGiB))} GiB, Node ${esc(String(r.machine.node))}.
${esc(String(r.machine.shared ?? ''))}</p>
${table}
${r.bars.map(barChart).join('')}
${charts}
${browsers}
<h2>Notes</h2>${list(r.notes)}
<h2 class="fail">Failures</h2>${list(r.failures)}
<details><summary>Every figure (JSON)</summary><pre>${esc(JSON.stringify({ figures: r.figures, flags: r.flags, machine: r.machine }, null, 2))}</pre></details>
</body></html>
`;
}

export async function writeReport(r: Report, resultsRoot: string): Promise<string> {
  const day = r.startedAt.slice(0, 19).replace(/[:T]/g, '-');
  const dir = path.join(resultsRoot, `${day}-${r.scenario}`);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'result.json'), `${JSON.stringify(r, null, 2)}\n`);
  await fs.writeFile(path.join(dir, 'report.html'), renderHtml(r));
  return dir;
}
