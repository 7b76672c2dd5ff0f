/** Request and response bodies of the chat API, and the frames of its live WebSocket (zod: validation and OpenAPI). */
import { z } from 'zod';

/** A chat message as the API shows it. */
export const ChatMessageView = z.object({
  id: z.string(),
  meetingId: z.string(),
  senderId: z.string(),
  senderName: z.string(),
  recipientId: z.string().nullable(),
  clientId: z.string(),
  body: z.string(),
  sentAt: z.string(),
});
export type ChatMessageView = z.infer<typeof ChatMessageView>;

/** POST /meetings/:id/chat: to everyone (recipientId null) or to one participant; a retry with the same clientId is stored once. */
export const ChatSend = z.object({ clientId: z.uuid(), body: z.string().min(1).max(20_000), recipientId: z.uuid().nullable().default(null) });
export type ChatSend = z.input<typeof ChatSend>;
export const ChatSent = z.object({ message: ChatMessageView, duplicate: z.boolean() });
export type ChatSent = z.infer<typeof ChatSent>;

/** GET /meetings/:id/chat: newest first; `nextCursor` reads older messages (null: nothing older). */
export const ChatPage = z.object({ messages: z.array(ChatMessageView), nextCursor: z.string().nullable() });
export type ChatPage = z.infer<typeof ChatPage>;

/** What the server sends on `/meetings/:id/chat/live`. */
export type ChatLiveFrame = { type: 'ready' } | { type: 'message'; message: ChatMessageView } | { type: 'error'; message: string };
