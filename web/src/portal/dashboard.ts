/** Signed in: your meetings, the "New meeting" form, your profile and your calendar feed. */
import { $, fill, h } from '../dom.js';
import { del, describe, get, meetingPath, patch, post, type CalendarFeed, type CreateMeetingInput, type Meeting, type MeetingList, type Profile, type Role, type UpdateMeetingInput,
  type UpdateProfileInput } from './api.js';
import { topBar } from './chrome.js';
import { browserTimeZone, formatClock, formatInstant, instantToZonedLocal, nextHourLocal, timeZones, zonedToInstant } from './time.js';

const INVITE_ROLES: Array<{ role: Exclude<Role, 'host'>; label: string }> = [
  { role: 'participant', label: 'Participant' },
  { role: 'cohost', label: 'Co-host' },
  { role: 'panelist', label: 'Panelist' },
  { role: 'attendee', label: 'Attendee (watches only)' },
];

/** What each access setting means for someone who gets the link: shown where the setting is chosen. */
export const ACCESS_HELP: Record<'invited' | 'link', string> = {
  invited: 'Only the people you invite (by the email they sign in with) can join. Anyone else who opens the link is told the meeting was not found: invite them, or choose "Anyone with the link".',
  link: 'Anyone who has the link and signs in can join. Add a passcode or a waiting room to control who gets in.',
};

/** The "Who can join" picker with its explanation under it, kept in step. */
function accessPicker(id: string, value: 'invited' | 'link'): HTMLElement {
  const help = h('p', { class: 'field-help', id: `${id}-help` }, ACCESS_HELP[value]);
  const select = h('select', { id, 'aria-describedby': `${id}-help` },
    h('option', { value: 'invited', selected: value === 'invited' }, 'Invited people only'),
    h('option', { value: 'link', selected: value === 'link' }, 'Anyone with the link'));
  select.addEventListener('change', () => (help.textContent = ACCESS_HELP[select.value as 'invited' | 'link']));
  return h('div', { class: 'access-field' }, h('label', {}, 'Who can join', select), help);
}

const zoneOptions = (selected: string) =>
  timeZones(selected).map((z) => h('option', { value: z, selected: z === selected }, z.replace(/_/g, ' ')));

export function renderDashboard(root: HTMLElement, me: Profile): void {
  const list = h('ul', { id: 'meeting-list', class: 'meeting-list' });
  fill(root,
    topBar(me),
    h('main', { class: 'portal-body dashboard' },
      h('div', { class: 'column main' },
        h('section', { class: 'card', id: 'meetings-card' },
          h('h2', {}, 'Your meetings'),
          h('p', { id: 'meetings-error', class: 'error', role: 'alert' }),
          list),
        newMeetingCard((m) => {
          list.querySelector('.empty')?.remove();
          list.prepend(meetingItem(m, me));
        })),
      h('div', { class: 'column side' }, profileCard(me), feedCard())));
  void loadMeetings(list, me);
}

async function loadMeetings(list: HTMLElement, me: Profile): Promise<void> {
  try {
    const { meetings } = await get<MeetingList>('/meetings');
    fill(list, ...meetings.map((m) => meetingItem(m, me)));
    if (!meetings.length) list.append(h('li', { class: 'empty muted' }, 'No meetings yet. Create one below.'));
  } catch (err) {
    $('meetings-error').textContent = `Could not load your meetings: ${describe(err)}`;
  }
}

function settingsSummary(m: Meeting): string {
  const s = m.settings;
  return [
    s.access === 'link' ? 'anyone with the link' : 'invited people only',
    s.hasPasscode && 'passcode',
    s.waitingRoom && 'waiting room',
    s.muteOnEntry && 'muted on entry',
    s.webinar && 'webinar',
    s.screenShare === 'hosts' && 'only hosts share screens',
    m.locked && 'locked',
  ].filter(Boolean).join(' · ');
}

function meetingItem(m: Meeting, me: Profile): HTMLLIElement {
  const yourZone = me.timeZone || browserTimeZone();
  const when = m.kind === 'scheduled' && m.startsAt
    ? `${formatInstant(m.startsAt, yourZone)} · ${m.durationMinutes} min${m.timeZone !== yourZone ? ` (${formatClock(m.startsAt, m.timeZone)} in ${m.timeZone.replace(/_/g, ' ')})` : ''}`
    : 'Instant meeting';
  const link = h('input', { class: 'meeting-link', readonly: true, value: m.link, 'aria-label': 'Meeting link' });
  const copy = h('button', { type: 'button', class: 'small off', onclick: () => {
    void navigator.clipboard?.writeText(m.link).then(() => (copy.textContent = 'Copied'), () => link.select());
  } }, 'Copy link');
  const li: HTMLLIElement = h('li', { class: 'meeting', 'data-meeting-id': m.id },
    h('div', { class: 'meeting-head' },
      h('strong', { class: 'meeting-title' }, m.title),
      h('span', { class: `badge status-${m.status}` }, m.status),
      h('span', { class: 'badge' }, m.yourRole === 'cohost' ? 'co-host' : m.yourRole)),
    h('div', { class: 'meeting-when' }, when),
    h('div', { class: 'meeting-settings muted' }, settingsSummary(m)),
    h('div', { class: 'meeting-link-row' }, link, copy),
    h('div', { class: 'meeting-actions' },
      m.status !== 'ended' && h('a', { class: 'button join-link', href: `/app/?meeting=${encodeURIComponent(m.id)}` }, 'Join'),
      m.kind === 'scheduled' && h('a', { class: 'ics-link', href: meetingPath(m.id, '/invite.ics'), download: `meeting-${m.id}.ics` }, 'Download invite (.ics)'),
      (m.yourRole === 'host' || m.yourRole === 'cohost') && m.status !== 'ended' && h('button', {
        type: 'button', class: 'small off edit-meeting', 'aria-expanded': 'false',
        onclick: (e: Event) => toggleEdit(li, m, me, e.currentTarget as HTMLButtonElement),
      }, 'Edit'),
      m.ownerId === me.id && deleteButton(() => li, m)),
    h('p', { class: 'error meeting-error', role: 'alert' }));
  return li;
}

/** Delete, after a second click within five seconds. */
function deleteButton(item: () => HTMLLIElement, m: Meeting): HTMLButtonElement {
  let armed: ReturnType<typeof setTimeout> | null = null;
  const b: HTMLButtonElement = h('button', { type: 'button', class: 'small danger delete-meeting', onclick: () => {
    if (!armed) {
      b.textContent = 'Click again to delete';
      armed = setTimeout(() => {
        armed = null;
        b.textContent = 'Delete';
      }, 5000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    b.disabled = true;
    del(meetingPath(m.id))
      .then(() => item().remove())
      .catch((err) => {
        b.disabled = false;
        b.textContent = 'Delete';
        item().querySelector('.meeting-error')!.textContent = `Could not delete: ${describe(err)}`;
      });
  } }, 'Delete');
  return b;
}

/** Opens (or closes) the inline edit form of a meeting: title, schedule, who can join, waiting room, muting. */
function toggleEdit(li: HTMLLIElement, m: Meeting, me: Profile, button: HTMLButtonElement): void {
  const open = li.querySelector('form.edit-form');
  button.setAttribute('aria-expanded', String(!open));
  if (open) return void open.remove();
  const id = (name: string) => `edit-${name}-${m.id}`;
  const scheduled = m.kind === 'scheduled' && m.startsAt;
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'edit-form stack', 'aria-label': `Edit ${m.title}` },
    h('label', {}, 'Title', h('input', { id: id('title'), required: true, maxlength: 200, value: m.title })),
    scheduled && h('div', { class: 'row' },
      h('label', {}, 'Starts', h('input', { id: id('start'), type: 'datetime-local', value: instantToZonedLocal(m.startsAt!, m.timeZone) })),
      h('label', {}, 'Duration (min)', h('input', { id: id('duration'), type: 'number', min: 1, max: 1440, value: m.durationMinutes ?? 30 })),
      h('label', {}, 'Time zone', h('select', { id: id('tz') }, ...zoneOptions(m.timeZone)))),
    accessPicker(id('access'), m.settings.access),
    h('div', { class: 'row checks' },
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: id('waiting'), checked: m.settings.waitingRoom }), 'Waiting room'),
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: id('mute'), checked: m.settings.muteOnEntry }), 'Mute on entry')),
    h('div', { class: 'button-row' },
      h('button', { type: 'submit', class: 'small save-meeting' }, 'Save changes'),
      h('button', { type: 'button', class: 'small off', onclick: () => {
        form.remove();
        button.setAttribute('aria-expanded', 'false');
        button.focus();
      } }, 'Cancel')),
    error);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = (name: string) => (document.getElementById(id(name)) as HTMLInputElement).value;
    const checked = (name: string) => (document.getElementById(id(name)) as HTMLInputElement).checked;
    const body: UpdateMeetingInput = {
      title: v('title').trim(),
      settings: { access: v('access') as MeetingSettings['access'], waitingRoom: checked('waiting'), muteOnEntry: checked('mute') },
    };
    try {
      if (scheduled) {
        body.timeZone = v('tz');
        body.startsAt = zonedToInstant(v('start'), v('tz')).toISOString();
        body.durationMinutes = Number(v('duration'));
      }
    } catch (err) {
      error.textContent = describe(err);
      return;
    }
    patch<Meeting>(meetingPath(m.id), body)
      .then((updated) => li.replaceWith(meetingItem(updated, me)))
      .catch((err) => (error.textContent = describe(err)));
  });
  li.append(form);
  form.querySelector('input')!.focus();
}

function newMeetingCard(created: (m: Meeting) => void): HTMLElement {
  const tz = browserTimeZone();
  const error = h('p', { class: 'error', role: 'alert', id: 'new-meeting-error' });
  const done = h('p', { class: 'ok', role: 'status', id: 'new-meeting-done' });
  const invitees = h('ul', { id: 'invitee-list', class: 'invitee-list' });
  const addInvitee = () => {
    const row = h('li', { class: 'invitee' },
      h('input', { type: 'email', class: 'invitee-email', placeholder: 'name@example.com', 'aria-label': 'Invitee email', maxlength: 254 }),
      h('select', { class: 'invitee-role', 'aria-label': 'Role' }, ...INVITE_ROLES.map((r) => h('option', { value: r.role }, r.label))),
      h('button', { type: 'button', class: 'small off', onclick: () => row.remove() }, 'Remove'));
    invitees.append(row);
    row.querySelector('input')!.focus();
  };
  const schedule = h('fieldset', { id: 'schedule-fields', hidden: true },
    h('legend', {}, 'Schedule'),
    h('div', { class: 'row' },
      h('label', {}, 'Starts', h('input', { id: 'nm-start', type: 'datetime-local', value: nextHourLocal(tz) })),
      h('label', {}, 'Duration', h('select', { id: 'nm-duration' },
        ...[15, 30, 45, 60, 90, 120, 180, 240].map((n) => h('option', { value: n, selected: n === 30 }, n < 60 || n % 60 ? `${n} min` : `${n / 60} h`)))),
      h('label', {}, 'Time zone', h('select', { id: 'nm-timezone' }, ...zoneOptions(tz)))));
  const form = h('form', { id: 'new-meeting-form', class: 'stack' },
    h('label', {}, 'Title', h('input', { id: 'nm-title', required: true, maxlength: 200, placeholder: 'Weekly sync' })),
    h('div', { class: 'choice', role: 'radiogroup', 'aria-label': 'When' },
      h('label', { class: 'inline' }, h('input', { type: 'radio', name: 'kind', value: 'instant', id: 'nm-instant', checked: true }), 'Now (instant)'),
      h('label', { class: 'inline' }, h('input', { type: 'radio', name: 'kind', value: 'scheduled', id: 'nm-scheduled' }), 'Scheduled')),
    schedule,
    h('fieldset', { class: 'settings' },
      h('legend', {}, 'Settings'),
      h('div', { class: 'row' },
        accessPicker('nm-access', 'invited'),
        h('label', {}, 'Passcode (optional)', h('input', { id: 'nm-passcode', minlength: 4, maxlength: 32, autocomplete: 'off' })),
        h('label', {}, 'Screen sharing', h('select', { id: 'nm-screen' },
          h('option', { value: 'all' }, 'Everyone'),
          h('option', { value: 'hosts' }, 'Hosts only'))),
        h('label', {}, 'Max participants', h('input', { id: 'nm-max', type: 'number', min: 2, max: 10000, value: 100 }))),
      h('div', { class: 'row checks' },
        h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: 'nm-waiting' }), 'Waiting room'),
        h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: 'nm-mute' }), 'Mute on entry'),
        h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: 'nm-webinar' }), 'Webinar (attendees only watch)'))),
    h('fieldset', {},
      h('legend', {}, 'Invitees'),
      invitees,
      h('button', { type: 'button', id: 'add-invitee', class: 'small off', onclick: addInvitee }, 'Add invitee')),
    h('div', { class: 'form-end' }, h('button', { type: 'submit', id: 'nm-create' }, 'Create meeting')),
    error, done);
  form.addEventListener('change', (e) => {
    if ((e.target as HTMLInputElement).name === 'kind') schedule.hidden = !$<HTMLInputElement>('nm-scheduled').checked;
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.textContent = done.textContent = '';
    let body: CreateMeetingInput;
    try {
      body = meetingBody();
    } catch (err) {
      error.textContent = describe(err);
      return;
    }
    const button = $<HTMLButtonElement>('nm-create');
    button.disabled = true;
    post<Meeting>('/meetings', body)
      .then((m) => {
        created(m);
        form.reset();
        $('nm-access').dispatchEvent(new Event('change', { bubbles: true }));
        invitees.replaceChildren();
        schedule.hidden = true;
        $<HTMLInputElement>('nm-start').value = nextHourLocal(tz);
        done.textContent = `Created “${m.title}”. Its link is in the list above.`;
      })
      .catch((err) => (error.textContent = describe(err)))
      .finally(() => (button.disabled = false));
  });
  return h('section', { class: 'card', id: 'new-meeting-card' }, h('h2', {}, 'New meeting'), form);
}

/** The POST /meetings body from the form; throws a readable Error for what the form can tell before the server. */
type MeetingSettings = NonNullable<CreateMeetingInput['settings']>;
type InviteeRole = NonNullable<CreateMeetingInput['invitees']>[number]['role'];

function meetingBody(): CreateMeetingInput {
  const v = (id: string) => $<HTMLInputElement>(id).value;
  const checked = (id: string) => $<HTMLInputElement>(id).checked;
  const passcode = v('nm-passcode').trim();
  const settings: MeetingSettings = {
    access: v('nm-access') as MeetingSettings['access'],
    passcode: passcode || null,
    waitingRoom: checked('nm-waiting'),
    muteOnEntry: checked('nm-mute'),
    screenShare: v('nm-screen') as MeetingSettings['screenShare'],
    webinar: checked('nm-webinar'),
    maxParticipants: Number(v('nm-max')) || 100,
  };
  const invitees = [...document.querySelectorAll<HTMLLIElement>('#invitee-list li')]
    .map((li) => ({ email: li.querySelector<HTMLInputElement>('.invitee-email')!.value.trim(), role: li.querySelector<HTMLSelectElement>('.invitee-role')!.value as InviteeRole }))
    .filter((i) => i.email);
  const title = v('nm-title').trim();
  if (!checked('nm-scheduled')) return { kind: 'instant', title, settings, invitees };
  const timeZone = v('nm-timezone');
  const startsAt = zonedToInstant(v('nm-start'), timeZone).toISOString();
  return { kind: 'scheduled', title, startsAt, durationMinutes: Number(v('nm-duration')), timeZone, settings, invitees };
}

function profileCard(me: Profile): HTMLElement {
  const note = h('p', { role: 'status', id: 'profile-note' });
  const form = h('form', { id: 'profile-form', class: 'stack' },
    h('p', { class: 'muted' }, me.email),
    h('label', {}, 'Display name', h('input', { id: 'profile-name', required: true, maxlength: 100, value: me.displayName })),
    h('label', {}, 'Time zone', h('select', { id: 'profile-timezone' }, ...zoneOptions(me.timeZone || browserTimeZone()))),
    h('div', { class: 'form-end' }, h('button', { type: 'submit', id: 'profile-save' }, 'Save profile')),
    note);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    note.className = '';
    patch<Profile>('/users/me', { displayName: $<HTMLInputElement>('profile-name').value.trim(), timeZone: $<HTMLSelectElement>('profile-timezone').value } satisfies UpdateProfileInput)
      .then((p) => {
        Object.assign(me, p);
        note.className = 'ok';
        note.textContent = 'Saved.';
        const who = document.getElementById('signed-in-as');
        if (who) who.textContent = `Signed in as ${p.displayName}`;
      })
      .catch((err) => {
        note.className = 'error';
        note.textContent = describe(err);
      });
  });
  return h('section', { class: 'card', id: 'profile-card' }, h('h2', {}, 'Profile'), form);
}

function feedCard(): HTMLElement {
  const url = h('input', { id: 'feed-url', readonly: true, hidden: true, 'aria-label': 'Calendar feed URL' });
  const note = h('p', { role: 'status', id: 'feed-note' });
  const show = (text: string, isError = false) => {
    note.textContent = text;
    note.className = isError ? 'error' : 'muted';
  };
  return h('section', { class: 'card', id: 'feed-card' },
    h('h2', {}, 'Calendar feed'),
    h('p', { class: 'muted' }, 'Subscribe to your scheduled meetings from any calendar app. The URL is a secret: anyone who has it sees your meetings.'),
    url,
    h('div', { class: 'button-row' },
      h('button', { type: 'button', id: 'feed-create', class: 'small', onclick: () => {
        post<CalendarFeed>('/calendar/feed')
          .then((r) => {
            url.value = r.url;
            url.hidden = false;
            url.select();
            show('A new URL: any older one stops working.');
          })
          .catch((err) => show(describe(err), true));
      } }, 'Create feed URL'),
      h('button', { type: 'button', id: 'feed-revoke', class: 'small off', onclick: () => {
        del('/calendar/feed')
          .then(() => {
            url.value = '';
            url.hidden = true;
            show('Revoked: the feed URL no longer works.');
          })
          .catch((err) => show(describe(err), true));
      } }, 'Revoke')),
    note);
}
