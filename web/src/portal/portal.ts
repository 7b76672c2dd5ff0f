/**
 * The control plane's web app at `/app/`: signed out, create an account or sign in (the OIDC code flow runs on the
 * server; the browser comes back with a session cookie); signed in, your meetings and profile, and a meeting page
 * at `/app/?meeting=ID`.
 */
import { $, fill, h } from '../dom.js';
import { installHooks } from '../meeting-ui.js';
import { ApiError, describe, get, loginUrl, post, type Profile } from './api.js';
import { topBar } from './chrome.js';
import { browserTimeZone } from './time.js';
import { renderDashboard } from './dashboard.js';
import { startMeetingPage } from './meeting-page.js';

function renderSignedOut(root: HTMLElement, returnTo: string, meetingId: string | null): void {
  const error = h('p', { class: 'error', role: 'alert', id: 'register-error' });
  const done = h('p', { class: 'ok', role: 'status', id: 'register-done' });
  const form = h('form', { id: 'register-form', class: 'stack' },
    h('label', {}, 'Your name', h('input', { id: 'register-name', name: 'displayName', required: true, maxlength: 100, autocomplete: 'name' })),
    h('label', {}, 'Email', h('input', { id: 'register-email', name: 'email', type: 'email', required: true, maxlength: 254, autocomplete: 'email' })),
    h('label', {}, 'Password', h('input', { id: 'register-password', name: 'password', type: 'password', required: true, minlength: 10, autocomplete: 'new-password', placeholder: 'at least 10 characters' })),
    h('button', { type: 'submit', id: 'register-button' }, 'Create account'),
    error, done);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = (id: string) => $<HTMLInputElement>(id).value;
    const email = v('register-email').trim();
    error.textContent = done.textContent = '';
    const button = $<HTMLButtonElement>('register-button');
    button.disabled = true;
    post('/auth/register', { email, password: v('register-password'), displayName: v('register-name').trim(), timeZone: browserTimeZone() })
      .then(() => {
        form.reset();
        done.textContent = `Account created for ${email}. Now sign in.`;
        $('sign-in').focus();
      })
      .catch((err) => (error.textContent = describe(err)))
      .finally(() => (button.disabled = false));
  });
  fill(root,
    topBar(null),
    h('main', { class: 'portal-body signed-out' },
      h('section', { class: 'card intro' },
        h('h1', {}, meetingId ? 'Sign in to join the meeting' : 'Video meetings, on your own servers'),
        h('p', { class: 'muted' }, 'Schedule meetings, invite people, meet with video, chat and screen sharing.'),
        h('a', { id: 'sign-in', class: 'button', href: loginUrl(returnTo) }, 'Sign in')),
      h('section', { class: 'card' }, h('h2', {}, 'Create account'), form)));
}

function renderFatal(root: HTMLElement, message: string): void {
  fill(root, topBar(null), h('main', { class: 'portal-body' }, h('section', { class: 'card' },
    h('h2', {}, 'Something went wrong'), h('p', { class: 'error', role: 'alert' }, message),
    h('button', { type: 'button', onclick: () => location.reload() }, 'Try again'))));
}

export async function startPortal(): Promise<void> {
  installHooks('portal');
  document.body.classList.add('portal-mode');
  const root = $('portal');
  root.hidden = false;
  const meetingId = new URLSearchParams(location.search).get('meeting');
  let me: Profile;
  try {
    await get<unknown>('/auth/me');
    me = await get<Profile>('/users/me');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return renderSignedOut(root, `${location.pathname}${location.search}`, meetingId);
    return renderFatal(root, describe(err));
  }
  if (meetingId) return startMeetingPage(root, me, meetingId);
  return renderDashboard(root, me);
}
