/**
 * Where each tile goes on the stage: pure, no DOM. The UI measures the stage, calls `computeLayout` and places each
 * tile at its rectangle; tiles left out (`hidden`) are not on screen, and the UI tells the node so (it then sends
 * them the lowest layer).
 *
 * - gallery: every person in 16:9 tiles as large as the stage allows (columns chosen from the count and the stage's
 *   aspect ratio), no scrolling: beyond what fits (at most 25, fewer on a small stage) tiles go to further pages.
 * - speaker: one person large (the pinned one, else the active speaker), the others in a strip below or beside it,
 *   whichever leaves the large tile bigger.
 * - screen: a screen share large (its own aspect, letterboxed by the video), the people in the strip.
 * A pin in gallery view shows the speaker layout around the pinned tile; a pinned person wins over a screen share.
 */

export type LayoutMode = 'gallery' | 'speaker';
export type LayoutKind = 'gallery' | 'speaker' | 'screen';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LayoutInput {
  /** Stage size in CSS pixels. */
  width: number;
  height: number;
  /** People tiles, in display order (the self tile included, usually last). */
  people: readonly string[];
  /** Screen-share tiles (ids distinct from people's), newest last. */
  screens?: readonly string[];
  mode: LayoutMode;
  /** The tile the user pinned (a person or a screen), if any. */
  pinned?: string | null;
  /** The active speaker, if any (speaker view's default focus). */
  activeSpeaker?: string | null;
  /** Gallery page, from 0 (clamped to the pages there are). */
  page?: number;
  /** Space between tiles and around them. */
  gap?: number;
}

export interface Layout {
  kind: LayoutKind;
  /** The large tile in speaker and screen layouts. */
  focus: string | null;
  /** Position of every tile on screen. */
  rects: Map<string, Rect>;
  /** Tiles not on screen (other pages, or the strip's overflow). */
  hidden: string[];
  page: number;
  pages: number;
}

export const TILE_ASPECT = 16 / 9;
export const MAX_TILES_PER_PAGE = 25;
/** A gallery page holds no more tiles than keep each at least this wide (a phone gets fewer per page). */
export const MIN_TILE_WIDTH = 112;
export const DEFAULT_GAP = 8;
/** Strip tiles (speaker and screen layouts) are at least this wide, or as wide as the strip allows. */
export const STRIP_MIN_WIDTH = 96;

interface Grid {
  cols: number;
  rows: number;
  w: number;
  h: number;
}

/** The column count that makes `n` equal 16:9 tiles largest inside `width` x `height`. */
export function bestGrid(n: number, width: number, height: number, gap = DEFAULT_GAP): Grid {
  let best: Grid = { cols: 1, rows: Math.max(1, n), w: 0, h: 0 };
  for (let cols = 1; cols <= Math.max(1, n); cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (width - gap * (cols + 1)) / cols;
    const cellH = (height - gap * (rows + 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const w = Math.min(cellW, cellH * TILE_ASPECT);
    if (w > best.w + 1e-9) best = { cols, rows, w, h: w / TILE_ASPECT };
  }
  return best;
}

/** How many tiles a gallery page holds on this stage: up to 25, fewer where tiles would get too small. */
export function tilesPerPage(width: number, height: number, gap = DEFAULT_GAP): number {
  for (let n = MAX_TILES_PER_PAGE; n > 1; n--) if (bestGrid(n, width, height, gap).w >= MIN_TILE_WIDTH) return n;
  return 1;
}

const floorRect = (r: Rect): Rect => ({ x: Math.floor(r.x), y: Math.floor(r.y), w: Math.floor(r.w), h: Math.floor(r.h) });

/** `n` tiles as a centred grid inside `area` (the last row centred too). */
function gridIn(ids: readonly string[], area: Rect, gap: number, out: Map<string, Rect>): void {
  const n = ids.length;
  if (!n) return;
  const g = bestGrid(n, area.w, area.h, gap);
  const totalH = g.rows * g.h + (g.rows - 1) * gap;
  const y0 = area.y + (area.h - totalH) / 2;
  ids.forEach((id, i) => {
    const row = Math.floor(i / g.cols);
    const inRow = row === g.rows - 1 ? n - row * g.cols : g.cols;
    const rowW = inRow * g.w + (inRow - 1) * gap;
    const x0 = area.x + (area.w - rowW) / 2;
    out.set(id, floorRect({ x: x0 + (i % g.cols) * (g.w + gap), y: y0 + row * (g.h + gap), w: g.w, h: g.h }));
  });
}

/** The largest rectangle of `aspect` centred in `area` (no aspect: the whole area). */
function fit(area: Rect, aspect: number | null): Rect {
  if (!aspect) return floorRect(area);
  const w = Math.min(area.w, area.h * aspect);
  const h = w / aspect;
  return floorRect({ x: area.x + (area.w - w) / 2, y: area.y + (area.h - h) / 2, w, h });
}

interface StripPlan {
  main: Rect;
  strip: Rect;
  vertical: boolean;
  tile: { w: number; h: number };
  fits: number;
}

/** One way to put a strip of `others` tiles beside (vertical) or below the main tile. */
function planStrip(W: number, H: number, gap: number, others: number, vertical: boolean, mainAspect: number | null): StripPlan {
  // Strip tiles: small enough that everyone fits in one row (or column) if they can, at most about a fifth of the
  // stage's other dimension, at least STRIP_MIN_WIDTH wide (then the strip's overflow is hidden).
  const most = vertical ? Math.min(Math.max(W * 0.2, 120), 280, W * 0.4) : Math.min(Math.max(H * 0.2, 68), 160, H * 0.35) * TILE_ASPECT;
  const fitAll = vertical ? ((H - (others + 1) * gap) / others) * TILE_ASPECT : (W - (others + 1) * gap) / others;
  const w = Math.min(most, Math.max(fitAll, Math.min(STRIP_MIN_WIDTH, most)));
  const tile = { w, h: w / TILE_ASPECT };
  const along = vertical ? H - gap : W - gap;
  const step = vertical ? tile.h + gap : tile.w + gap;
  const fits = Math.max(1, Math.min(others, Math.floor(along / step)));
  const strip = vertical
    ? { x: W - gap - tile.w, y: gap, w: tile.w, h: H - 2 * gap }
    : { x: gap, y: H - gap - tile.h, w: W - 2 * gap, h: tile.h };
  const mainArea = vertical
    ? { x: gap, y: gap, w: W - 3 * gap - tile.w, h: H - 2 * gap }
    : { x: gap, y: gap, w: W - 2 * gap, h: H - 3 * gap - tile.h };
  return { main: fit(mainArea, mainAspect), strip, vertical, tile, fits };
}

function stripLayout(kind: 'speaker' | 'screen', focus: string, others: readonly string[], W: number, H: number, gap: number): Layout {
  const rects = new Map<string, Rect>();
  const mainAspect = kind === 'screen' ? null : TILE_ASPECT;
  if (!others.length) {
    rects.set(focus, fit({ x: gap, y: gap, w: W - 2 * gap, h: H - 2 * gap }, mainAspect));
    return { kind, focus, rects, hidden: [], page: 0, pages: 1 };
  }
  const below = planStrip(W, H, gap, others.length, false, mainAspect);
  const beside = planStrip(W, H, gap, others.length, true, mainAspect);
  const area = (p: StripPlan) => p.main.w * p.main.h;
  const plan = area(beside) > area(below) ? beside : below;
  rects.set(focus, plan.main);
  const shown = others.slice(0, plan.fits);
  // Centre the strip's tiles along it.
  const step = (plan.vertical ? plan.tile.h : plan.tile.w) + gap;
  const used = shown.length * step - gap;
  const start = plan.vertical ? plan.strip.y + (plan.strip.h - used) / 2 : plan.strip.x + (plan.strip.w - used) / 2;
  shown.forEach((id, i) => {
    rects.set(id, floorRect(plan.vertical
      ? { x: plan.strip.x, y: start + i * step, w: plan.tile.w, h: plan.tile.h }
      : { x: start + i * step, y: plan.strip.y, w: plan.tile.w, h: plan.tile.h }));
  });
  return { kind, focus, rects, hidden: others.slice(plan.fits), page: 0, pages: 1 };
}

export function computeLayout(input: LayoutInput): Layout {
  const W = Math.max(0, Math.floor(input.width));
  const H = Math.max(0, Math.floor(input.height));
  const gap = input.gap ?? DEFAULT_GAP;
  const people = [...new Set(input.people)];
  const screens = [...new Set(input.screens ?? [])].filter((s) => !people.includes(s));
  const all = [...people, ...screens];
  const empty: Layout = { kind: 'gallery', focus: null, rects: new Map(), hidden: all, page: 0, pages: 1 };
  if (!all.length || W < 4 * gap || H < 4 * gap) return { ...empty, hidden: all };

  const pinned = input.pinned && all.includes(input.pinned) ? input.pinned : null;
  // A pinned tile, else the newest screen share, takes the large place.
  const screenFocus = pinned && screens.includes(pinned) ? pinned : !pinned ? screens.at(-1) ?? null : null;
  if (screenFocus) {
    const others = [...people, ...screens.filter((s) => s !== screenFocus)];
    return stripLayout('screen', screenFocus, others, W, H, gap);
  }
  if (pinned || (input.mode === 'speaker' && people.length > 1)) {
    const speaker = input.activeSpeaker && people.includes(input.activeSpeaker) ? input.activeSpeaker : people[0]!;
    const focus = pinned ?? speaker;
    return stripLayout('speaker', focus, all.filter((id) => id !== focus), W, H, gap);
  }

  const perPage = tilesPerPage(W, H, gap);
  const pages = Math.max(1, Math.ceil(all.length / perPage));
  const page = Math.min(Math.max(0, Math.floor(input.page ?? 0)), pages - 1);
  const onPage = all.slice(page * perPage, (page + 1) * perPage);
  const rects = new Map<string, Rect>();
  gridIn(onPage, { x: 0, y: 0, w: W, h: H }, gap, rects);
  return { kind: 'gallery', focus: null, rects, hidden: all.filter((id) => !rects.has(id)), page, pages };
}

/** The share of the stage's area the tiles cover (0..1). */
export function coverage(layout: Layout, width: number, height: number): number {
  let area = 0;
  for (const r of layout.rects.values()) area += r.w * r.h;
  return width > 0 && height > 0 ? area / (width * height) : 0;
}
