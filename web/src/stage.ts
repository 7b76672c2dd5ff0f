/**
 * The stage: one tile per person (and per screen share), placed where `computeLayout` says, re-placed when the
 * stage resizes or people come and go. Tiles are focusable; Enter or a click pins one. After each layout the node
 * is told which participants are on screen (`setView`), so tiles on other pages get the lowest layer.
 */
import { h } from './dom.js';
import { computeLayout, type Layout, type LayoutMode } from './layout.js';

export interface TileInfo {
  /** Participant id, 'self', or `screen:<consumerId>`. */
  id: string;
  participantId: string;
  name: string;
  kind: 'person' | 'screen' | 'self';
  /** The video to show, if any (camera or screen). */
  video: MediaStreamTrack | null;
  micOn: boolean;
  hand: boolean;
  speaking: boolean;
}

export interface StageEvents {
  /** The user pinned (or unpinned: null) a tile. */
  onPin: (tileId: string | null) => void;
  /** Participants on screen changed (self and screens left out). */
  onVisible: (participantIds: string[]) => void;
  /** A remote video painted its first frame (join-time bench). */
  onFirstFrame?: () => void;
}

export class Stage {
  mode: LayoutMode = 'gallery';
  pinned: string | null = null;
  page = 0;
  layout: Layout | null = null;
  private tiles: TileInfo[] = [];
  private activeSpeaker: string | null = null;
  private lastVisible = '';
  private readonly observer: ResizeObserver;

  constructor(
    private readonly root: HTMLElement,
    private readonly container: HTMLElement,
    private readonly pager: { box: HTMLElement; prev: HTMLButtonElement; next: HTMLButtonElement; label: HTMLElement },
    private readonly events: StageEvents,
  ) {
    this.observer = new ResizeObserver(() => this.place());
    this.observer.observe(root);
    pager.prev.addEventListener('click', () => this.turn(-1));
    pager.next.addEventListener('click', () => this.turn(1));
  }

  /** Renders these tiles (in this order) and lays them out. */
  update(tiles: TileInfo[], activeSpeaker: string | null): void {
    this.tiles = tiles;
    if (activeSpeaker && activeSpeaker !== 'self') this.activeSpeaker = activeSpeaker;
    if (this.pinned && !tiles.some((t) => t.id === this.pinned)) {
      this.pinned = null;
      this.events.onPin(null);
    }
    const keep = new Set(tiles.map((t) => t.id));
    for (const el of [...this.container.children] as HTMLElement[]) if (!keep.has(el.dataset.tileId ?? '')) el.remove();
    for (const t of tiles) this.render(t);
    this.place();
  }

  setMode(mode: LayoutMode): void {
    this.mode = mode;
    this.place();
  }

  pin(tileId: string | null): void {
    this.pinned = tileId && this.pinned !== tileId ? tileId : null;
    this.events.onPin(this.pinned);
    this.update(this.tiles, this.activeSpeaker);
  }

  clear(): void {
    this.container.replaceChildren();
    this.tiles = [];
    this.pinned = null;
    this.page = 0;
    this.lastVisible = '';
    this.layout = null;
    this.pager.box.hidden = true;
  }

  private turn(by: number): void {
    this.page = Math.max(0, this.page + by);
    this.place();
  }

  private tileEl(id: string): HTMLElement | null {
    return this.container.querySelector<HTMLElement>(`:scope > [data-tile-id="${CSS.escape(id)}"]`);
  }

  private render(t: TileInfo): void {
    let el = this.tileEl(t.id);
    if (!el) {
      const video = h('video', { autoplay: true, playsinline: true });
      video.muted = true;
      if (t.kind !== 'self') video.requestVideoFrameCallback?.(() => this.events.onFirstFrame?.());
      el = h('div', {
        class: `tile ${t.kind}`,
        'data-tile-id': t.id,
        'data-participant-id': t.kind === 'self' ? 'self' : t.kind === 'screen' ? undefined : t.participantId,
        'data-screen-of': t.kind === 'screen' ? t.participantId : undefined,
        tabindex: 0,
        role: 'button',
        'aria-pressed': 'false',
      },
      h('div', { class: 'placeholder', 'aria-hidden': 'true' }),
      video,
      h('div', { class: 'tile-info' },
        h('span', { class: 'hand-mark', 'aria-hidden': 'true', hidden: true }, '✋'),
        h('span', { class: 'name' }),
        h('span', { class: 'mic-mark', 'aria-hidden': 'true', hidden: true }, '🔇')));
      const id = t.id;
      el.addEventListener('click', () => this.pin(id));
      el.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          this.pin(id);
        }
      });
      this.container.append(el);
    }
    const video = el.querySelector('video')!;
    const current = (video.srcObject as MediaStream | null)?.getVideoTracks()[0] ?? null;
    if (current !== t.video) video.srcObject = t.video ? new MediaStream([t.video]) : null;
    video.hidden = !t.video;
    const name = t.kind === 'screen' ? `${t.name} is sharing their screen` : t.kind === 'self' ? `${t.name} (you)` : t.name;
    el.querySelector('.name')!.textContent = name;
    el.querySelector<HTMLElement>('.placeholder')!.textContent = t.video ? '' : t.name.slice(0, 1).toUpperCase();
    el.querySelector<HTMLElement>('.hand-mark')!.hidden = !t.hand;
    el.querySelector<HTMLElement>('.mic-mark')!.hidden = t.micOn || t.kind === 'screen';
    el.classList.toggle('speaking', t.speaking);
    el.classList.toggle('pinned', this.pinned === t.id);
    el.setAttribute('aria-pressed', String(this.pinned === t.id));
    const states = [t.kind !== 'screen' && !t.micOn && 'muted', t.kind !== 'screen' && !t.video && 'camera off', t.hand && 'hand raised'].filter(Boolean).join(', ');
    el.setAttribute('aria-label', `${name}${states ? ` (${states})` : ''}. ${this.pinned === t.id ? 'Pinned: press Enter to unpin' : 'Press Enter to pin'}`);
    video.setAttribute('aria-label', t.kind === 'screen' ? `Screen shared by ${t.name}` : `Video of ${t.kind === 'self' ? 'you' : t.name}`);
  }

  /** Lays the tiles out at the stage's current size. */
  place(): void {
    const width = this.root.clientWidth;
    const height = this.root.clientHeight;
    const people = this.tiles.filter((t) => t.kind !== 'screen').map((t) => t.id);
    const screens = this.tiles.filter((t) => t.kind === 'screen').map((t) => t.id);
    const layout = computeLayout({ width, height, people, screens, mode: this.mode, pinned: this.pinned, activeSpeaker: this.activeSpeaker, page: this.page });
    this.layout = layout;
    this.page = layout.page;
    this.root.dataset.layout = layout.kind;
    for (const t of this.tiles) {
      const el = this.tileEl(t.id);
      if (!el) continue;
      const r = layout.rects.get(t.id);
      el.hidden = !r;
      el.classList.toggle('focus', t.id === layout.focus);
      if (!r) continue;
      el.style.transform = `translate(${r.x}px, ${r.y}px)`;
      el.style.width = `${r.w}px`;
      el.style.height = `${r.h}px`;
    }
    this.pager.box.hidden = layout.pages < 2;
    this.pager.label.textContent = `Page ${layout.page + 1} of ${layout.pages}`;
    this.pager.prev.disabled = layout.page === 0;
    this.pager.next.disabled = layout.page >= layout.pages - 1;
    const visible = this.tiles.filter((t) => t.kind === 'person' && layout.rects.has(t.id)).map((t) => t.participantId).sort();
    const key = visible.join(',');
    if (key !== this.lastVisible) {
      this.lastVisible = key;
      this.events.onVisible(visible);
    }
  }
}
