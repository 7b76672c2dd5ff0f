import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_TILES_PER_PAGE, TILE_ASPECT, bestGrid, computeLayout, coverage, tilesPerPage, type Layout, type LayoutInput, type Rect,
} from '../../web/src/layout.js';

/** Stage sizes: desktop and laptop windows, tablets, phones (portrait and landscape), a narrow side-by-side window. */
const STAGES: Array<[number, number]> = [
  [1920, 1000], [1440, 800], [1366, 640], [1280, 680], [940, 680], [1024, 640], [768, 900],
  [820, 1050], [390, 640], [360, 560], [414, 700], [844, 300], [600, 400],
];
const ids = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** The invariants every layout keeps; returns the layout for more checks. */
function check(input: LayoutInput): Layout {
  const l = computeLayout(input);
  const where = `${input.mode} ${input.people.length}+${input.screens?.length ?? 0} on ${input.width}x${input.height} pin=${input.pinned ?? '-'}`;
  const all = [...input.people, ...(input.screens ?? [])];
  const rects = [...l.rects.entries()];
  for (const [id, r] of rects) {
    assert.ok(r.w > 0 && r.h > 0, `${where}: ${id} has no size`);
    assert.ok(r.x >= 0 && r.y >= 0 && r.x + r.w <= input.width && r.y + r.h <= input.height, `${where}: ${id} leaves the stage ${JSON.stringify(r)}`);
  }
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      assert.ok(!overlaps(rects[i]![1], rects[j]![1]), `${where}: ${rects[i]![0]} overlaps ${rects[j]![0]}`);
    }
  }
  // Every tile is either on screen or hidden, never both, never lost.
  assert.deepEqual([...l.rects.keys(), ...l.hidden].sort(), [...all].sort(), `${where}: tiles lost or doubled`);
  assert.ok(l.rects.size >= 1, `${where}: nothing on screen`);
  return l;
}

describe('layout: invariants for 1..49 tiles on common stages', () => {
  test('gallery: no overlap, inside the stage, 16:9 tiles, at most 25 a page, every tile on exactly one page', () => {
    for (const [width, height] of STAGES) {
      for (let n = 1; n <= 49; n++) {
        const people = ids(n);
        const first = check({ width, height, people, mode: 'gallery' });
        assert.equal(first.kind, 'gallery');
        const seen: string[] = [];
        for (let page = 0; page < first.pages; page++) {
          const l = check({ width, height, people, mode: 'gallery', page });
          assert.equal(l.page, page);
          assert.ok(l.rects.size <= MAX_TILES_PER_PAGE);
          for (const r of l.rects.values()) assert.ok(Math.abs(r.w / r.h - TILE_ASPECT) < 0.03, `${n} on ${width}x${height}: not 16:9 (${r.w}x${r.h})`);
          // Every tile on a page is the same size.
          const sizes = new Set([...l.rects.values()].map((r) => `${r.w}x${r.h}`));
          assert.equal(sizes.size, 1, `${n} on ${width}x${height} page ${page}: tiles of different sizes ${[...sizes]}`);
          seen.push(...l.rects.keys());
        }
        assert.deepEqual(seen.sort(), [...people].sort(), `${n} on ${width}x${height}: pages do not partition the tiles`);
        // No pages while everyone fits; pages only when they must.
        assert.equal(first.pages, Math.ceil(n / tilesPerPage(width, height)));
      }
    }
  });

  test('speaker and screen layouts, pinned or not: no overlap, inside the stage, the focus is the largest tile', () => {
    for (const [width, height] of STAGES) {
      for (let n = 1; n <= 49; n++) {
        const people = ids(n);
        for (const screens of [[], ['s0']]) {
          for (const pinned of [null, people[n - 1]!, ...screens]) {
            for (const mode of ['gallery', 'speaker'] as const) {
              const l = check({ width, height, people, screens, mode, pinned, activeSpeaker: people[Math.min(2, n - 1)] });
              if (l.kind === 'gallery') continue;
              const main = l.rects.get(l.focus!)!;
              assert.ok(main, 'the focus is on screen');
              for (const [id, r] of l.rects) if (id !== l.focus) assert.ok(r.w * r.h < main.w * main.h, `${id} larger than the focus`);
            }
          }
        }
      }
    }
  });
});

describe('layout: choices', () => {
  test('the gallery fills the stage: the grid reaches both sides or top and bottom', () => {
    for (const [width, height] of STAGES) {
      for (let n = 1; n <= 25; n++) {
        const l = computeLayout({ width, height, people: ids(n), mode: 'gallery' });
        const rs = [...l.rects.values()];
        const left = Math.min(...rs.map((r) => r.x)), right = Math.max(...rs.map((r) => r.x + r.w));
        const top = Math.min(...rs.map((r) => r.y)), bottom = Math.max(...rs.map((r) => r.y + r.h));
        const fillsWidth = left <= 8 + 2 && right >= width - 8 - 2;
        const fillsHeight = top <= 8 + 2 && bottom >= height - 8 - 2;
        assert.ok(fillsWidth || fillsHeight, `${n} on ${width}x${height} fills neither way: x ${left}..${right}, y ${top}..${bottom}`);
      }
    }
  });

  test('up to 25 people need no page on a desktop stage; 26 and more get pages', () => {
    for (let n = 1; n <= 25; n++) assert.equal(computeLayout({ width: 1280, height: 680, people: ids(n), mode: 'gallery' }).pages, 1);
    const l = computeLayout({ width: 1280, height: 680, people: ids(26), mode: 'gallery' });
    assert.equal(l.pages, 2);
    assert.deepEqual(l.hidden, ['p25']);
    const second = computeLayout({ width: 1280, height: 680, people: ids(26), mode: 'gallery', page: 5 });
    assert.equal(second.page, 1, 'a page past the end is clamped to the last');
    assert.deepEqual([...second.rects.keys()], ['p25']);
  });

  test('a phone stage holds fewer tiles a page, each at least 112 px wide', () => {
    const per = tilesPerPage(390, 640);
    assert.ok(per < MAX_TILES_PER_PAGE && per >= 12, `per page on a phone: ${per}`);
    const l = computeLayout({ width: 390, height: 640, people: ids(per), mode: 'gallery' });
    for (const r of l.rects.values()) assert.ok(r.w >= 112);
  });

  test('the column count follows the stage aspect: two people side by side on a wide stage, stacked on a tall one', () => {
    assert.equal(bestGrid(2, 1280, 680).cols, 2);
    assert.equal(bestGrid(2, 390, 640).cols, 1);
    assert.equal(bestGrid(4, 1280, 680).cols, 2);
    assert.equal(bestGrid(9, 1280, 680).cols, 3);
  });

  test('speaker view focuses the active speaker, then the pinned tile; a pin wins over a screen share', () => {
    const people = ids(4);
    assert.equal(computeLayout({ width: 1280, height: 680, people, mode: 'speaker', activeSpeaker: 'p2' }).focus, 'p2');
    assert.equal(computeLayout({ width: 1280, height: 680, people, mode: 'speaker', activeSpeaker: 'p2', pinned: 'p1' }).focus, 'p1');
    const pinnedInGallery = computeLayout({ width: 1280, height: 680, people, mode: 'gallery', pinned: 'p3' });
    assert.equal(pinnedInGallery.kind, 'speaker');
    assert.equal(pinnedInGallery.focus, 'p3');
    const share = computeLayout({ width: 1280, height: 680, people, screens: ['s'], mode: 'gallery' });
    assert.equal(share.kind, 'screen');
    assert.equal(share.focus, 's');
    assert.equal(computeLayout({ width: 1280, height: 680, people, screens: ['s'], mode: 'gallery', pinned: 'p0' }).focus, 'p0');
  });

  test('a screen share takes the stage (not a 16:9 box) with people in a strip; the strip goes beside on a wide stage, below on a tall one', () => {
    const wide = computeLayout({ width: 1600, height: 600, people: ids(3), screens: ['s'], mode: 'gallery' });
    const strip = [...wide.rects].filter(([id]) => id !== 's').map(([, r]) => r);
    assert.equal(new Set(strip.map((r) => r.x)).size, 1, 'beside: one column');
    const tall = computeLayout({ width: 390, height: 640, people: ids(3), screens: ['s'], mode: 'gallery' });
    const stripTall = [...tall.rects].filter(([id]) => id !== 's').map(([, r]) => r);
    assert.equal(new Set(stripTall.map((r) => r.y)).size, 1, 'below: one row');
    assert.ok(tall.rects.get('s')!.w >= 390 - 16 - 1, 'the share spans the phone');
  });

  test('a strip too short for everyone hides the rest (they get the lowest layer)', () => {
    const l = computeLayout({ width: 1280, height: 680, people: ids(30), mode: 'speaker', activeSpeaker: 'p0' });
    assert.ok(l.hidden.length > 0);
    assert.ok(!l.hidden.includes('p0'));
  });

  test('a stage too small for anything shows nothing and hides everything', () => {
    const l = computeLayout({ width: 10, height: 10, people: ids(3), mode: 'gallery' });
    assert.equal(l.rects.size, 0);
    assert.deepEqual(l.hidden, ids(3));
  });

  test('coverage of a 1280x680 stage grows with the first few tiles and stays high', () => {
    const share = (n: number) => coverage(computeLayout({ width: 1280, height: 680, people: ids(n), mode: 'gallery' }), 1280, 680);
    assert.ok(share(1) > 0.9, `one tile covers ${share(1)}`);
    for (let n = 1; n <= 9; n++) assert.ok(share(n) > 0.5, `${n} tiles cover ${share(n)}`);
  });
});
