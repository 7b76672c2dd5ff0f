/** The users API: your profile, search, contacts. */
import { z } from 'zod';
import type { Api } from '../http/api.js';
import { Profile, PublicProfile, UpdateProfile, type Users } from './service.js';

export function userRoutes(api: Api, users: Users): void {
  const tag = 'users';
  api.route({ method: 'get', path: '/users/me', tag, summary: 'Your profile', auth: 'user', response: Profile },
    ({ user }) => users.get(user.id));
  api.route({ method: 'patch', path: '/users/me', tag, summary: 'Change display name, avatar URL or time zone', auth: 'user', body: UpdateProfile, response: Profile },
    ({ user, body }) => users.update(user.id, body));
  api.route({
    method: 'get', path: '/users/search', tag, summary: 'Find users by name or email prefix', auth: 'user',
    query: z.object({ q: z.string().trim().min(2).max(100), limit: z.coerce.number().int().min(1).max(50).default(20) }),
    response: z.object({ users: z.array(PublicProfile) }),
  }, async ({ user, query }) => ({ users: await users.search(user.id, query.q, query.limit) }));
  api.route({ method: 'get', path: '/users/me/contacts', tag, summary: 'Your contacts', auth: 'user', response: z.object({ contacts: z.array(PublicProfile) }) },
    async ({ user }) => ({ contacts: await users.contacts(user.id) }));
  api.route({ method: 'post', path: '/users/me/contacts', tag, summary: 'Add a contact', auth: 'user', body: z.object({ userId: z.uuid() }), status: 204, errors: [404] },
    async ({ user, body }) => {
      await users.addContact(user.id, body.userId);
    });
  api.route({ method: 'delete', path: '/users/me/contacts/:userId', tag, summary: 'Remove a contact', auth: 'user', status: 204, errors: [404] },
    async ({ user, params }) => {
      await users.removeContact(user.id, params.userId!);
    });
}
