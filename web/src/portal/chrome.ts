/** The portal's top bar: brand, and who is signed in with a Sign out button. */
import { h } from '../dom.js';
import { call, type Profile } from './api.js';

/** The top bar: brand, and who is signed in with a Sign out button. */
export function topBar(me: Profile | null): HTMLElement {
  return h('header', { class: 'portal-bar' },
    h('a', { class: 'brand', href: '/app/' }, 'MeshMeet'),
    me && h('span', { class: 'who-am-i' },
      h('span', { id: 'signed-in-as' }, `Signed in as ${me.displayName}`),
      h('button', { type: 'button', id: 'sign-out', class: 'off small', onclick: () => void signOut() }, 'Sign out')));
}

async function signOut(): Promise<void> {
  try {
    await call('POST', '/auth/logout');
  } finally {
    location.assign('/app/');
  }
}
