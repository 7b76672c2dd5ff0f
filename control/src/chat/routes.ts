/**
 * The chat API: send (idempotent by the client's id), history pages, and live delivery over a WebSocket at
 * `/meetings/:id/chat/live` (the same session cookie or bearer token). Only admitted, not removed, participants
 * take part; a direct message reaches only its sender and recipient.
 */
import { upgradeWebSocket } from '@hono/node-server';
import type { WSContext } from 'hono/ws';
import { z } from 'zod';
import type { Api } from '../http/api.js';
import { HttpError, badRequest } from '../http/errors.js';
import type { Meetings } from '../meetings/service.js';
import { ChatPage, ChatSend, ChatSent, type ChatLiveFrame, type ChatMessageView } from './schemas.js';
import { ChatCursorError, ChatValidationError, visibleTo, type ChatMessage, type ChatStore } from './store.js';

const view = (m: ChatMessage): ChatMessageView => ({ ...m, sentAt: m.sentAt.toISOString() });
const frame = (f: ChatLiveFrame): string => JSON.stringify(f);

/** Live subscribers per meeting, in this process. (Several control-plane instances would fan out through the database.) */
export class ChatHub {
  private readonly subs = new Map<string, Set<{ userId: string; ws: WSContext }>>();

  add(meetingId: string, userId: string, ws: WSContext): () => void {
    let set = this.subs.get(meetingId);
    if (!set) this.subs.set(meetingId, (set = new Set()));
    const sub = { userId, ws };
    set.add(sub);
    return () => {
      set.delete(sub);
      if (set.size === 0) this.subs.delete(meetingId);
    };
  }

  deliver(m: ChatMessage): void {
    const data = frame({ type: 'message', message: view(m) });
    for (const s of this.subs.get(m.meetingId) ?? []) if (visibleTo(m, s.userId)) s.ws.send(data);
  }

  /** Closes the sockets of users who may no longer take part (removed, or the meeting ended). */
  async recheck(meetingId: string, stillAllowed: (userId: string) => Promise<boolean>): Promise<void> {
    for (const s of [...(this.subs.get(meetingId) ?? [])]) {
      if (!(await stillAllowed(s.userId))) s.ws.close(4403, 'no longer in the meeting');
    }
  }

  get size(): number {
    let n = 0;
    for (const s of this.subs.values()) n += s.size;
    return n;
  }
}

export function chatRoutes(api: Api, store: ChatStore, meetings: Meetings, hub: ChatHub): void {
  const tag = 'chat';
  const storeErrors = (err: unknown): never => {
    if (err instanceof ChatValidationError) throw badRequest(err.message, err.issues[0]?.path);
    if (err instanceof ChatCursorError) throw badRequest(err.message, 'cursor');
    throw err;
  };

  meetings.onEvent((e) => {
    void hub.recheck(e.meetingId, async (userId) => {
      if (e.kind === 'ended') return false;
      const p = await meetings.stateOf(e.meetingId, userId);
      return p === 'admitted';
    }).catch(() => undefined);
  });

  api.route({
    method: 'post', path: '/meetings/:id/chat', tag, auth: 'user', status: 201, errors: [403, 404, 409],
    summary: 'Send a chat message (to everyone, or to one participant); a retry with the same clientId is stored once',
    body: ChatSend,
    response: ChatSent,
  }, async ({ user, params, body }, c) => {
    const id = params.id!;
    const { m } = await meetings.requireAdmitted(user, id);
    if (m.status === 'ended') throw new HttpError(409, 'meeting_ended', 'the meeting has ended: chat is closed');
    if (body.recipientId !== null) {
      if (body.recipientId === user.id) throw badRequest('you cannot message yourself', 'recipientId');
      if ((await meetings.stateOf(id, body.recipientId)) !== 'admitted') throw new HttpError(404, 'not_found', 'no such participant in this meeting');
    }
    const r = await store.append({
      meetingId: id, senderId: user.id, senderName: user.displayName, clientId: body.clientId, recipientId: body.recipientId, body: body.body,
    }).catch(storeErrors);
    if (!r.duplicate) hub.deliver(r.message);
    return c.json({ message: view(r.message), duplicate: r.duplicate }, r.duplicate ? 200 : 201);
  });

  api.route({
    method: 'get', path: '/meetings/:id/chat', tag, auth: 'user', errors: [403, 404],
    summary: 'Chat history, newest first, by pages (pass nextCursor for older messages)',
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(512).optional() }),
    response: ChatPage,
  }, async ({ user, params, query }) => {
    await meetings.requireAdmitted(user, params.id!);
    const page = await store.history(params.id!, user.id, { limit: query.limit, cursor: query.cursor ?? null }).catch(storeErrors);
    return { messages: page.messages.map(view), nextCursor: page.nextCursor };
  });

  api.app.get('/meetings/:id/chat/live', async (c, next) => {
    const user = c.get('user');
    if (!user) throw new HttpError(401, 'unauthorized', 'sign in first');
    const id = c.req.param('id');
    await meetings.requireAdmitted(user, id);
    return upgradeWebSocket(() => {
      let release = () => {};
      return {
        onOpen: (_e, ws) => {
          release = hub.add(id, user.id, ws);
          ws.send(frame({ type: 'ready' }));
        },
        onMessage: (_e, ws) => ws.send(frame({ type: 'error', message: 'send messages with POST /meetings/:id/chat' })),
        onClose: () => release(),
      };
    })(c, next);
  });
}
