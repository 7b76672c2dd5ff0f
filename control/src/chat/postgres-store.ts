/**
 * Chat in PostgreSQL (a real server or the embedded PGlite one): the table `chat_messages` from
 * `control/migrations/004_chat.sql`.
 *
 * Idempotency is the unique constraint on (meeting_id, sender_id, client_id): `INSERT ... ON CONFLICT DO NOTHING
 * RETURNING` stores a new message or returns nothing, and then the stored one is read. Under READ COMMITTED an
 * insert that conflicts with a concurrent, uncommitted insert waits for it, so the read that follows sees the
 * winner; concurrent retries therefore store exactly one message.
 *
 * History is ordered by (id_ticks, id) DESC, the timeuuid's own timestamp, and filters direct messages in SQL.
 */
import pg from 'pg';
import {
  type ChatMessage,
  type ChatStore,
  type ChatStoreOptions,
  type HistoryPage,
  type NewChatMessage,
  dayBucket,
  encodeCursor,
  newMessageId,
  parseHistoryQuery,
  parseNewMessage,
  timed,
  timeuuidTicks,
} from './store.js';

export type PostgresChatStoreOptions = ChatStoreOptions &
  (
    | { /** A pool the caller owns: `close()` leaves it open. */ pool: pg.Pool }
    | { /** The store makes (and on `close()` ends) its own pool. */ connectionString: string; maxConnections?: number }
  );

interface Row {
  id: string;
  meeting_id: string;
  sent_at: Date;
  sender_id: string;
  sender_name: string;
  client_id: string;
  recipient_id: string | null;
  body: string;
}

const COLUMNS = 'id, meeting_id, sent_at, sender_id, sender_name, client_id, recipient_id, body';
const Q = {
  insert:
    'INSERT INTO chat_messages (id, meeting_id, id_ticks, sent_at, sender_id, sender_name, client_id, recipient_id, body) ' +
    `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (meeting_id, sender_id, client_id) DO NOTHING RETURNING ${COLUMNS}`,
  existing: `SELECT ${COLUMNS} FROM chat_messages WHERE meeting_id = $1 AND sender_id = $2 AND client_id = $3`,
  history:
    `SELECT ${COLUMNS} FROM chat_messages WHERE meeting_id = $1 AND (recipient_id IS NULL OR sender_id = $2 OR recipient_id = $2) ` +
    'ORDER BY id_ticks DESC, id DESC LIMIT $3',
  historyAfter:
    `SELECT ${COLUMNS} FROM chat_messages WHERE meeting_id = $1 AND (recipient_id IS NULL OR sender_id = $2 OR recipient_id = $2) ` +
    'AND (id_ticks, id) < ($4::bigint, $5::uuid) ORDER BY id_ticks DESC, id DESC LIMIT $3',
} as const;

/** Insert-or-read rounds before giving up; a second round only happens if the conflicting insert rolled back. */
const APPEND_ROUNDS = 3;

export class PostgresChatStore implements ChatStore {
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  private readonly clock: (() => Date) | undefined;
  private readonly onQuery: ChatStoreOptions['onQuery'];

  constructor(opts: PostgresChatStoreOptions) {
    if ('pool' in opts) {
      this.pool = opts.pool;
      this.ownsPool = false;
    } else {
      this.pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.maxConnections ?? 10 });
      // An idle pooled connection that the server ends (restart, failover, admin) makes the pool emit 'error',
      // which would crash the process without a listener. The pool has already discarded that connection and
      // the next query opens a new one, so there is nothing else to do; queries in flight fail on their own.
      this.pool.on('error', () => {});
      this.ownsPool = true;
    }
    this.clock = opts.clock;
    this.onQuery = opts.onQuery;
  }

  /** Nothing to create (the migration runner applies 004_chat.sql); checks that the table is there. */
  async init(): Promise<void> {
    await this.query('init', 'SELECT 1 FROM chat_messages LIMIT 1', []);
  }

  async append(input: NewChatMessage): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const msg = parseNewMessage(input);
    const { id, sentAt } = newMessageId(this.clock);
    const values = [id, msg.meetingId, timeuuidTicks(id).toString(), sentAt, msg.senderId, msg.senderName, msg.clientId, msg.recipientId, msg.body];
    for (let round = 1; round <= APPEND_ROUNDS; round++) {
      const inserted = await this.query('message_insert', Q.insert, values);
      if (inserted[0]) return { message: toMessage(inserted[0]), duplicate: false };
      const existing = await this.query('message_existing', Q.existing, [msg.meetingId, msg.senderId, msg.clientId]);
      if (existing[0]) return { message: toMessage(existing[0]), duplicate: true };
    }
    throw new Error(`chat append for client id ${msg.clientId} kept conflicting with inserts that rolled back (${APPEND_ROUNDS} rounds)`);
  }

  async history(meetingId: string, viewerId: string, opts: { limit: number; cursor?: string | null }): Promise<HistoryPage> {
    const { limit, after } = parseHistoryQuery(meetingId, viewerId, opts);
    // one more than a page tells whether there is an older page
    const rows = after
      ? await this.query('history_page', Q.historyAfter, [meetingId, viewerId, limit + 1, timeuuidTicks(after.id).toString(), after.id])
      : await this.query('history_page', Q.history, [meetingId, viewerId, limit + 1]);
    const messages = rows.slice(0, limit).map(toMessage);
    const last = messages.at(-1);
    return {
      messages,
      nextCursor: rows.length > limit && last ? encodeCursor(meetingId, { bucket: dayBucket(last.sentAt), id: last.id }) : null,
    };
  }

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  /** One statement, timed; a missing table gets an error that says which migration is missing. */
  private async query(op: string, sql: string, values: unknown[]): Promise<Row[]> {
    try {
      const res = await timed(this.onQuery, op, () => this.pool.query<Row>(sql, values));
      return res.rows;
    } catch (err) {
      if ((err as { code?: string }).code === '42P01') {
        throw new Error('chat_messages table missing: apply control/migrations/004_chat.sql', { cause: err });
      }
      throw err;
    }
  }
}

function toMessage(r: Row): ChatMessage {
  return {
    id: r.id,
    sentAt: r.sent_at,
    meetingId: r.meeting_id,
    senderId: r.sender_id,
    senderName: r.sender_name,
    clientId: r.client_id,
    recipientId: r.recipient_id,
    body: r.body,
  };
}
