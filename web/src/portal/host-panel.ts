/**
 * Host controls in the meeting: the waiting room (Admit / Deny), per-participant actions in the participant list
 * (Mute, Stop video, Stop screen, Remove, Make co-host) and meeting-wide ones (Mute all, Lock / Unlock, End for
 * all). Everything goes through `POST /meetings/:id/controls`; the participant list comes from polling
 * `GET /meetings/:id/participants` (hosts also see who is waiting), which also tells a participant when a host has
 * made them a co-host.
 */
import { $, h } from '../dom.js';
import { renderParticipants } from '../meeting-ui.js';
import { describe, get, isHostLike, meetingPath, post, type ControlRequest, type ControlResponse, type HostAction, type Participant, type ParticipantList, type Role } from './api.js';

const ROLE_LABEL: Record<Role, string> = { host: 'host', cohost: 'co-host', panelist: 'panelist', participant: '', attendee: 'attendee', phone: 'phone caller' };

const PERSON_ACTIONS: Array<{ action: HostAction; label: string; done: string }> = [
  { action: 'mute', label: 'Mute', done: 'muted' },
  { action: 'stopVideo', label: 'Stop video', done: 'stopped the video of' },
  { action: 'stopScreen', label: 'Stop screen', done: 'stopped the screen share of' },
  { action: 'makeCohost', label: 'Make co-host', done: 'made a co-host:' },
  { action: 'remove', label: 'Remove', done: 'removed' },
];

export class HostPanel {
  private readonly people = new Map<string, Participant>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private endArmed: ReturnType<typeof setTimeout> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly meetingId: string,
    private readonly myId: string,
    public role: Role,
    private locked: boolean,
  ) {}

  start(): void {
    const signal = this.abort.signal;
    $('btn-mute-all').addEventListener('click', () => void this.control('muteAll', undefined, 'Muted everyone else.'), { signal });
    $('btn-lock').addEventListener('click', () => {
      const action = this.locked ? 'unlock' : 'lock';
      void this.control(action, undefined, action === 'lock' ? 'Locked: nobody new can join.' : 'Unlocked.').then((ok) => {
        if (ok) this.locked = action === 'lock';
        this.renderPanel();
      });
    }, { signal });
    $('btn-end').addEventListener('click', () => {
      const b = $<HTMLButtonElement>('btn-end');
      if (!this.endArmed) {
        b.textContent = 'Click again to end for everyone';
        this.endArmed = setTimeout(() => {
          this.endArmed = null;
          b.textContent = 'End for all';
        }, 5000);
        return;
      }
      clearTimeout(this.endArmed);
      this.endArmed = null;
      b.textContent = 'End for all';
      void this.control('end', undefined, 'Meeting ended.');
    }, { signal });
    this.renderPanel();
    void this.poll();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    $('host-panel').hidden = true;
    $('waiting-list').replaceChildren();
  }

  /** Display name of a participant the API has told us about. */
  nameOf(id: string): string | undefined {
    return this.people.get(id)?.displayName;
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    try {
      const { participants } = await get<ParticipantList>(meetingPath(this.meetingId, '/participants'));
      this.people.clear();
      for (const p of participants) this.people.set(p.participantId, p);
      const mine = this.people.get(this.myId);
      if (mine && mine.role === 'cohost' && this.role !== 'host' && this.role !== 'cohost') {
        this.role = 'cohost';
        this.note('A host made you a co-host.');
      }
      this.renderPanel();
      renderParticipants();
    } catch (err) {
      if (isHostLike(this.role)) this.note(`Could not refresh participants: ${describe(err)}`, true);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), isHostLike(this.role) ? 2000 : 5000);
  }

  private note(text: string, isError = false): void {
    const el = $('host-note');
    el.textContent = text;
    el.classList.toggle('error', isError);
  }

  /** Sends a control; shows what happened or the API's error. Resolves true when the API accepted it. */
  private async control(action: HostAction, participantId?: string, done?: string): Promise<boolean> {
    try {
      await post<ControlResponse>(meetingPath(this.meetingId, '/controls'), (participantId ? { action, participantId } : { action }) satisfies ControlRequest);
      if (done) this.note(done);
      void this.refreshSoon();
      return true;
    } catch (err) {
      const who = participantId ? ` (${this.people.get(participantId)?.displayName ?? 'participant'})` : '';
      this.note(`${action}${who} refused: ${describe(err)}`, true);
      return false;
    }
  }

  private async refreshSoon(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.poll();
  }

  private renderPanel(): void {
    const hostLike = isHostLike(this.role);
    $('host-panel').hidden = !hostLike;
    if (!hostLike) return;
    $('btn-lock').textContent = this.locked ? 'Unlock meeting' : 'Lock meeting';
    $('btn-end').hidden = this.role !== 'host';
    const list = $('waiting-list');
    const waiting = [...this.people.values()].filter((p) => p.state === 'waiting');
    $('waiting-count').textContent = waiting.length ? `(${waiting.length})` : '';
    const keep = new Set(waiting.map((p) => p.participantId));
    list.querySelectorAll<HTMLLIElement>(':scope > li').forEach((li) => {
      if (!keep.has(li.dataset.participantId ?? '')) li.remove();
    });
    for (const p of waiting) {
      if (list.querySelector(`:scope > li[data-participant-id="${CSS.escape(p.participantId)}"]`)) continue;
      list.append(h('li', { 'data-participant-id': p.participantId },
        h('span', { class: 'who' }, p.displayName),
        h('span', { class: 'actions' },
          h('button', { type: 'button', class: 'small admit', onclick: () => void this.control('admit', p.participantId, `Admitted ${p.displayName}.`) }, 'Admit'),
          h('button', { type: 'button', class: 'small off deny', onclick: () => void this.control('deny', p.participantId, `Denied ${p.displayName}.`) }, 'Deny'))));
    }
    $('waiting-empty').hidden = waiting.length > 0;
  }

  /** Adds the role label and, for hosts, the per-participant actions to an entry of the participant list. */
  readonly decorate = (li: HTMLLIElement, participantId: string, isSelf: boolean): void => {
    const target = this.people.get(participantId);
    const targetRole: Role = target?.role ?? (isSelf ? this.role : 'participant');
    let label = li.querySelector<HTMLElement>('.role');
    if (!label) li.querySelector('.who')!.after((label = h('span', { class: 'role' })));
    label.textContent = ROLE_LABEL[targetRole] ? ` ${ROLE_LABEL[targetRole]}` : '';

    let box = li.querySelector<HTMLDetailsElement>('details.host-actions');
    const canAct = !isSelf && isHostLike(this.role) && !(this.role === 'cohost' && isHostLike(targetRole)) && !(this.role === 'host' && targetRole === 'host');
    if (!canAct) {
      box?.remove();
      return;
    }
    if (!box) {
      box = h('details', { class: 'host-actions' },
        h('summary', {}, 'Manage'),
        h('div', { class: 'actions' }, ...PERSON_ACTIONS.map((a) => h('button', {
          type: 'button',
          class: `small${a.action === 'remove' ? ' danger' : ''}`,
          'data-action': a.action,
          onclick: () => {
            const name = this.people.get(participantId)?.displayName ?? li.querySelector('.who')?.textContent ?? 'participant';
            void this.control(a.action, participantId, `You ${a.done} ${name}.`).then(() => box?.removeAttribute('open'));
          },
        }, a.label))));
      li.append(box);
    }
    const cohostButton = box.querySelector<HTMLButtonElement>('[data-action="makeCohost"]')!;
    cohostButton.hidden = this.role !== 'host' || isHostLike(targetRole) || targetRole === 'phone';
  };
}
