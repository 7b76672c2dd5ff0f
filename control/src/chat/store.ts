/**
 * The control plane's meeting chat: one interface, {@link ChatStore}, with two implementations that behave the
 * same (one shared test suite runs against both): `CassandraChatStore` for large deployments and
 * `PostgresChatStore` for everything else (including the embedded PGlite database).
 *
 * What both guarantee:
 * - Message ids are version-1 time UUIDs ("timeuuid"); the id's timestamp is the message's `sentAt`, and history is
 *   ordered by it, newest first.
 * - `append` is idempotent per (meetingId, senderId, clientId): a client that retries a send (lost answer,
 *   reconnect) gets back the message stored the first time, with `duplicate: true`, and nothing new is stored;
 *   concurrent retries also store exactly one message.
 * - A direct message (`recipientId` set) is visible only to its sender and its recipient.
 * - Cursors are opaque strings, bound to one meeting; anything else is rejected with {@link ChatCursorError}.
 * - Input is validated here, once, with the same rules for both stores ({@link ChatValidationError}).
 */
import cassandra from 'cassandra-driver';
import { z } from 'zod';

export interface NewChatMessage {
  meetingId: string;
  senderId: string;
  senderName: string;
  /** Client-chosen id (a UUID): makes retries idempotent. */
  clientId: string;
  /** A direct message to one participant; null: to everyone in the meeting. */
  recipientId: string | null;
  /** 1..4000 characters (Unicode code points). */
  body: string;
}

export interface ChatMessage extends NewChatMessage {
  /** timeuuid, string form */
  id: string;
  sentAt: Date;
}

export interface HistoryPage {
  /** Newest first. */
  messages: ChatMessage[];
  /** Opaque; null when there is nothing older to read. */
  nextCursor: string | null;
}

export interface ChatStore {
  /** Creates the schema if missing (Cassandra: keyspace and tables; PostgreSQL: nothing, migrations do it). */
  init(): Promise<void>;
  /** Stores a message; the same (meetingId, senderId, clientId) again returns the first stored message, `duplicate: true`. */
  append(msg: NewChatMessage): Promise<{ message: ChatMessage; duplicate: boolean }>;
  /**
   * Messages `viewerId` may see, newest first, `limit` (1..200) per page; pass the previous page's `nextCursor`
   * for older ones. A page is full unless the history is exhausted. A bad cursor throws {@link ChatCursorError}.
   */
  history(meetingId: string, viewerId: string, opts: { limit: number; cursor?: string | null }): Promise<HistoryPage>;
  close(): Promise<void>;
}

/** Options both stores take besides their connection. */
export interface ChatStoreOptions {
  /**
   * Source of message times. Default: the real clock with 100 ns ticks that increase within a process, so that
   * messages sent in the same millisecond keep their order. Tests pass a fixed clock to write into past days.
   */
  clock?: () => Date;
  /** Latency of each database operation (for a Prometheus histogram); errors it throws are ignored. */
  onQuery?: (op: string, seconds: number) => void;
}

/** The input was invalid; `message` names every bad field, e.g. `invalid chat message: body: must be 1..4000 characters (got 4001)`. */
export class ChatValidationError extends Error {
  override readonly name = 'ChatValidationError';
  constructor(what: string, readonly issues: Array<{ path: string; message: string }>) {
    super(`invalid ${what}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

/** A history cursor that this store did not issue for this meeting (garbled, truncated, or from another meeting). */
export class ChatCursorError extends Error {
  override readonly name = 'ChatCursorError';
  constructor(reason: string) {
    super(`invalid chat history cursor: ${reason}`);
  }
}

export const BODY_MAX_CHARS = 4000;
export const HISTORY_MAX_LIMIT = 200;

/** Unicode code points, not UTF-16 units: an emoji counts as one character, as PostgreSQL's char_length does. */
export function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

// A lone surrogate cannot be encoded as UTF-8: drivers would silently replace it, so the message would not
// round-trip. NUL is refused by PostgreSQL's text type; refusing it in both stores keeps them identical.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A text field of `min..max` code points that both databases store exactly. */
function text(min: number, max: number) {
  return z.string().superRefine((s, ctx) => {
    const n = charCount(s);
    if (n < min || n > max) ctx.addIssue({ code: 'custom', message: `must be ${min}..${max} characters (got ${n})` });
    if (s.includes('\u0000')) ctx.addIssue({ code: 'custom', message: 'must not contain NUL characters' });
    if (LONE_SURROGATE.test(s)) ctx.addIssue({ code: 'custom', message: 'must be well-formed Unicode (lone surrogate)' });
  });
}

const ParticipantId = text(1, 200);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const NewChatMessageSchema = z.object({
  meetingId: text(1, 200),
  senderId: ParticipantId,
  senderName: text(1, 200),
  // lower-cased so that "ABC…" and "abc…" are one idempotency key, as they are one UUID
  clientId: z.string().regex(UUID_RE, 'must be a UUID').transform((s) => s.toLowerCase()),
  recipientId: ParticipantId.nullable(),
  body: text(1, BODY_MAX_CHARS),
});

export const HistoryQuerySchema = z.object({
  meetingId: text(1, 200),
  viewerId: ParticipantId,
  limit: z.number().int().min(1).max(HISTORY_MAX_LIMIT),
  cursor: z.string().nullish(),
});

function issuesOf(err: z.ZodError): Array<{ path: string; message: string }> {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** Validates (and normalizes) a message before either store touches its database. */
export function parseNewMessage(input: NewChatMessage): NewChatMessage {
  const r = NewChatMessageSchema.safeParse(input);
  if (!r.success) throw new ChatValidationError('chat message', issuesOf(r.error));
  return r.data;
}

/** Validates history arguments; returns the decoded cursor position, if any. */
export function parseHistoryQuery(meetingId: string, viewerId: string, opts: { limit: number; cursor?: string | null }): { limit: number; after: CursorPosition | null } {
  const r = HistoryQuerySchema.safeParse({ meetingId, viewerId, limit: opts?.limit, cursor: opts?.cursor });
  if (!r.success) throw new ChatValidationError('chat history query', issuesOf(r.error));
  const cursor = r.data.cursor;
  return { limit: r.data.limit, after: cursor === null || cursor === undefined ? null : decodeCursor(meetingId, cursor) };
}

/** Whether `viewerId` may see `msg`: everyone sees messages to everyone; a direct message only its two ends. */
export function visibleTo(msg: Pick<ChatMessage, 'senderId' | 'recipientId'>, viewerId: string): boolean {
  return msg.recipientId === null || msg.senderId === viewerId || msg.recipientId === viewerId;
}

// ---- time UUIDs ----

/**
 * A new timeuuid (string form). Without `at`: the current time, with 100 ns ticks that increase within this
 * process (cassandra-driver's `TimeUuid.now()`). With `at`: that time (random node and clock sequence bytes).
 */
export function timeuuid(at?: Date): string {
  return (at === undefined ? cassandra.types.TimeUuid.now() : cassandra.types.TimeUuid.fromDate(at)).toString();
}

const TIMEUUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isTimeuuid(s: string): boolean {
  return TIMEUUID_RE.test(s);
}

/** The 60-bit timestamp of a timeuuid: 100 ns units since 1582-10-15, the order both stores sort by. */
export function timeuuidTicks(id: string): bigint {
  if (!isTimeuuid(id)) throw new Error(`not a timeuuid: ${id}`);
  const timeLow = id.slice(0, 8);
  const timeMid = id.slice(9, 13);
  const timeHigh = id.slice(15, 18); // after the version nibble
  return BigInt(`0x${timeHigh}${timeMid}${timeLow}`);
}

/** The time of a timeuuid, to the millisecond (what `sentAt` holds). */
export function timeuuidDate(id: string): Date {
  return cassandra.types.TimeUuid.fromString(id).getDate();
}

/** A message id and its time; the store's clock (if any) supplies the time. */
export function newMessageId(clock: (() => Date) | undefined): { id: string; sentAt: Date } {
  const id = timeuuid(clock?.());
  return { id, sentAt: timeuuidDate(id) };
}

/** The UTC day of `date` as a number, e.g. 20261125: Cassandra's partition bucket, and part of every cursor. */
export function dayBucket(date: Date): number {
  return date.getUTCFullYear() * 10_000 + (date.getUTCMonth() + 1) * 100 + date.getUTCDate();
}

// ---- cursors ----

/** Where a history page ended: the last message returned (its day bucket and id). */
export interface CursorPosition {
  bucket: number;
  id: string;
}

const CursorPayload = z.object({ v: z.literal(1), m: z.string(), b: z.number().int(), id: z.string() }).strict();

/** base64url(JSON) of version, meeting, bucket and message id; both stores use the same format. */
export function encodeCursor(meetingId: string, pos: CursorPosition): string {
  return Buffer.from(JSON.stringify({ v: 1, m: meetingId, b: pos.bucket, id: pos.id }), 'utf8').toString('base64url');
}

/** Decodes a cursor issued for `meetingId`, checking everything in it; throws {@link ChatCursorError}. */
export function decodeCursor(meetingId: string, cursor: string): CursorPosition {
  if (cursor.length === 0 || cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new ChatCursorError('not a cursor string');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ChatCursorError('not a cursor string');
  }
  const r = CursorPayload.safeParse(json);
  if (!r.success) throw new ChatCursorError('unknown cursor format');
  const { m, b, id } = r.data;
  if (m !== meetingId) throw new ChatCursorError('the cursor belongs to another meeting');
  if (!isTimeuuid(id)) throw new ChatCursorError('bad message id');
  if (dayBucket(timeuuidDate(id)) !== b) throw new ChatCursorError('bucket does not match the message id');
  return { bucket: b, id };
}

// ---- metrics ----

/** Runs `fn`, reporting its duration to `onQuery` (success or failure); a failing callback never fails the query. */
export async function timed<T>(onQuery: ChatStoreOptions['onQuery'], op: string, fn: () => Promise<T>): Promise<T> {
  if (!onQuery) return fn();
  const t0 = process.hrtime.bigint();
  try {
    return await fn();
  } finally {
    try {
      onQuery(op, Number(process.hrtime.bigint() - t0) / 1e9);
    } catch {
      // metrics are best effort
    }
  }
}
