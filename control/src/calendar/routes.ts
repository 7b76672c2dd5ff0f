/** The calendar API: a meeting's .ics invite, and the user's secret subscribable feed. */
import { z } from 'zod';
import type { Api } from '../http/api.js';
import type { Calendar } from './service.js';

const ICS = 'text/calendar; charset=utf-8';

/** POST /calendar/feed: your new secret feed URL. */
export const CalendarFeed = z.object({ url: z.string() });
export type CalendarFeed = z.infer<typeof CalendarFeed>;

export function calendarRoutes(api: Api, calendar: Calendar): void {
  const tag = 'calendar';
  api.route({ method: 'get', path: '/meetings/:id/invite.ics', tag, summary: 'iCalendar invite of a scheduled meeting', auth: 'user', errors: [404] },
    async ({ user, params }, c) => {
      // The meeting (and the 404) first; the id is validated already (a-z0-9), so it is safe in a header.
      const ics = await calendar.invite(user, params.id!);
      c.header('Content-Type', ICS);
      c.header('Content-Disposition', `attachment; filename="meeting-${params.id}.ics"`);
      return c.body(ics);
    });
  api.route({ method: 'post', path: '/calendar/feed', tag, summary: 'Create or replace your secret calendar feed URL (the old one stops working)', auth: 'user',
    response: CalendarFeed, status: 201 },
  async ({ user }) => ({ url: await calendar.createFeed(user) }));
  api.route({ method: 'delete', path: '/calendar/feed', tag, summary: 'Revoke your calendar feed', auth: 'user', status: 204, errors: [404] },
    async ({ user }) => {
      await calendar.revokeFeed(user);
    });
  api.route({ method: 'get', path: '/calendar/feed/:file', tag, summary: 'A calendar feed (the secret URL is the credential)', auth: 'none', errors: [404] },
    async ({ params }, c) => {
      const secret = /^([A-Za-z0-9_-]{20,100})\.ics$/.exec(params.file!)?.[1];
      if (!secret) return c.json({ error: { code: 'not_found', message: 'no such feed' } }, 404);
      c.header('Content-Type', ICS);
      return c.body(await calendar.feed(secret));
    });
}
