/**
 * Chat in Apache Cassandra, for deployments whose chat outgrows one PostgreSQL.
 *
 * Tables (in the configured keyspace):
 * - `chat_messages`: partition (meeting_id, bucket), bucket = the UTC day (20261125), clustered by the message
 *   timeuuid DESC. Day buckets keep partitions bounded however long a meeting room lives, and a page of recent
 *   history is one partition read.
 * - `chat_message_buckets`: per meeting, the days that have messages (DESC): history walks them newest first
 *   without probing empty days.
 * - `chat_message_dedup`: (meeting_id, sender_id, client_id) -> the whole first message, claimed with a
 *   lightweight transaction (`INSERT ... IF NOT EXISTS`). The claim is what makes `append` idempotent even under
 *   concurrent retries; it holds the whole message so that a retry can finish a first attempt that died between
 *   the claim and the message write. Only LWTs ever write this table (mixing LWT and plain writes on one table
 *   breaks LWT guarantees).
 *
 * Every statement is prepared and runs at LOCAL_QUORUM (the claim's Paxos phase at LOCAL_SERIAL), set per query
 * so that no client default can weaken it. Direct messages are filtered here while reading (Cassandra cannot
 * express "recipient is null or sender = ? or recipient = ?"), so a page may read more rows than it returns.
 */
import cassandra from 'cassandra-driver';
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
  timeuuidDate,
  visibleTo,
} from './store.js';

const { consistencies } = cassandra.types;

export interface CassandraChatStoreOptions extends ChatStoreOptions {
  /** `host` or `host:port`, e.g. `127.0.0.1:9042`. */
  contactPoints: string[];
  /** Default `datacenter1` (the name a single-node or SimpleSnitch cluster reports). */
  localDataCenter?: string;
  keyspace: string;
  /** SimpleStrategy replication factor for the keyspace `init()` creates (default 1). Ignored if it exists. */
  replicationFactor?: number;
  /** Per-request client timeout (default 12000 ms, the driver's). */
  requestTimeoutMs?: number;
}

/** The stored form of one message (the dedup row holds the same fields). */
interface StoredMessage {
  id: string;
  bucket: number;
  senderName: string;
  recipientId: string | null;
  body: string;
}

const KEYSPACE_RE = /^[a-z_][a-z0-9_]{0,47}$/;
const CLAIM_ATTEMPTS = 4;
/** Bound on the (meeting, day) pairs remembered as indexed; forgetting one only costs one idempotent re-write. */
const KNOWN_BUCKETS_MAX = 10_000;

const Q = {
  claim:
    'INSERT INTO chat_message_dedup (meeting_id, sender_id, client_id, id, bucket, sender_name, recipient_id, body) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS',
  indexBucket: 'INSERT INTO chat_message_buckets (meeting_id, bucket) VALUES (?, ?)',
  write:
    'INSERT INTO chat_messages (meeting_id, bucket, id, sender_id, sender_name, client_id, recipient_id, body) ' +
    'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  exists: 'SELECT id FROM chat_messages WHERE meeting_id = ? AND bucket = ? AND id = ?',
  buckets: 'SELECT bucket FROM chat_message_buckets WHERE meeting_id = ?',
  bucketsUpTo: 'SELECT bucket FROM chat_message_buckets WHERE meeting_id = ? AND bucket <= ?',
  page: 'SELECT id, sender_id, sender_name, client_id, recipient_id, body FROM chat_messages WHERE meeting_id = ? AND bucket = ?',
  pageBefore:
    'SELECT id, sender_id, sender_name, client_id, recipient_id, body FROM chat_messages WHERE meeting_id = ? AND bucket = ? AND id < ?',
} as const;

function schema(keyspace: string, replicationFactor: number): string[] {
  return [
    `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replicationFactor}}`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.chat_messages (
       meeting_id text, bucket int, id timeuuid,
       sender_id text, sender_name text, client_id text, recipient_id text, body text,
       PRIMARY KEY ((meeting_id, bucket), id)
     ) WITH CLUSTERING ORDER BY (id DESC)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.chat_message_buckets (
       meeting_id text, bucket int,
       PRIMARY KEY (meeting_id, bucket)
     ) WITH CLUSTERING ORDER BY (bucket DESC)`,
    `CREATE TABLE IF NOT EXISTS ${keyspace}.chat_message_dedup (
       meeting_id text, sender_id text, client_id text,
       id timeuuid, bucket int, sender_name text, recipient_id text, body text,
       PRIMARY KEY ((meeting_id, sender_id, client_id))
     )`,
  ];
}

export class CassandraChatStore implements ChatStore {
  private readonly client: cassandra.Client;
  private readonly knownBuckets = new Set<string>();
  private readonly clock: (() => Date) | undefined;
  private readonly onQuery: ChatStoreOptions['onQuery'];

  constructor(private readonly opts: CassandraChatStoreOptions) {
    if (!KEYSPACE_RE.test(opts.keyspace)) throw new Error(`invalid Cassandra keyspace name '${opts.keyspace}' (want ${KEYSPACE_RE})`);
    if (opts.contactPoints.length === 0) throw new Error('CassandraChatStore needs at least one contact point');
    const rf = opts.replicationFactor ?? 1;
    if (!Number.isInteger(rf) || rf < 1) throw new Error(`invalid Cassandra replication factor ${rf}`);
    this.clock = opts.clock;
    this.onQuery = opts.onQuery;
    this.client = new cassandra.Client(this.clientOptions(opts.keyspace));
  }

  private clientOptions(keyspace: string | undefined): cassandra.ClientOptions {
    return {
      contactPoints: this.opts.contactPoints,
      localDataCenter: this.opts.localDataCenter ?? 'datacenter1',
      ...(keyspace ? { keyspace } : {}),
      socketOptions: { readTimeout: this.opts.requestTimeoutMs ?? 12_000 },
    };
  }

  /**
   * Creates the keyspace and tables if missing. The keyspace must exist before a client bound to it can
   * connect, so the DDL runs on a short-lived client without a keyspace (the driver waits for schema agreement
   * after each statement).
   */
  async init(): Promise<void> {
    const admin = new cassandra.Client(this.clientOptions(undefined));
    try {
      await admin.connect();
      for (const ddl of schema(this.opts.keyspace, this.opts.replicationFactor ?? 1)) {
        await timed(this.onQuery, 'schema', () => admin.execute(ddl, [], { consistency: consistencies.localQuorum }));
      }
    } catch (err) {
      throw new Error(`Cassandra chat schema (keyspace ${this.opts.keyspace} at ${this.opts.contactPoints.join(',')}): ${(err as Error).message}`, { cause: err });
    } finally {
      await admin.shutdown();
    }
    await this.client.connect();
  }

  async append(input: NewChatMessage): Promise<{ message: ChatMessage; duplicate: boolean }> {
    const msg = parseNewMessage(input);
    const { id, sentAt } = newMessageId(this.clock);
    const mine: StoredMessage = { id, bucket: dayBucket(sentAt), senderName: msg.senderName, recipientId: msg.recipientId, body: msg.body };
    const { stored, ours } = await this.claim(msg, mine);
    if (ours) {
      await this.write(msg, stored);
    } else if (!(await this.exists(msg.meetingId, stored))) {
      // The first attempt claimed the key but its message write has not landed (still in flight, or that
      // process died): write it now from the claim. Same primary key and content, so racing writers agree.
      await this.write(msg, stored);
    }
    return {
      message: {
        id: stored.id,
        sentAt: timeuuidDate(stored.id),
        meetingId: msg.meetingId,
        senderId: msg.senderId,
        senderName: stored.senderName,
        clientId: msg.clientId,
        recipientId: stored.recipientId,
        body: stored.body,
      },
      duplicate: !ours,
    };
  }

  /**
   * Claims (meeting, sender, clientId) for `mine`, or returns the message that claimed it first. A CAS write
   * timeout leaves the outcome unknown, so the claim is retried: if our own earlier attempt won, the existing row
   * carries our id and counts as ours.
   */
  private async claim(msg: NewChatMessage, mine: StoredMessage): Promise<{ stored: StoredMessage; ours: boolean }> {
    const params = [msg.meetingId, msg.senderId, msg.clientId, mine.id, mine.bucket, mine.senderName, mine.recipientId ?? cassandra.types.unset, mine.body];
    for (let attempt = 1; ; attempt++) {
      let rs: cassandra.types.ResultSet;
      try {
        rs = await this.run('dedup_claim', Q.claim, params, { serialConsistency: consistencies.localSerial });
      } catch (err) {
        if (attempt < CLAIM_ATTEMPTS && outcomeUnknown(err)) {
          await sleep(50 * attempt ** 2);
          continue;
        }
        throw err;
      }
      const row = rs.first();
      if (row === null) throw new Error('Cassandra returned no row for a conditional INSERT');
      if (row['[applied]'] === true) return { stored: mine, ours: true };
      const stored: StoredMessage = {
        id: String(row['id']),
        bucket: Number(row['bucket']),
        senderName: String(row['sender_name']),
        recipientId: row['recipient_id'] === null || row['recipient_id'] === undefined ? null : String(row['recipient_id']),
        body: String(row['body']),
      };
      return { stored, ours: stored.id === mine.id };
    }
  }

  /** Indexes the day (once per process while remembered), then writes the message: an indexed day may be empty, never the reverse. */
  private async write(msg: NewChatMessage, m: StoredMessage): Promise<void> {
    const key = `${m.bucket}\u0000${msg.meetingId}`;
    if (!this.knownBuckets.has(key)) {
      await this.run('bucket_index', Q.indexBucket, [msg.meetingId, m.bucket]);
      if (this.knownBuckets.size >= KNOWN_BUCKETS_MAX) this.knownBuckets.clear();
      this.knownBuckets.add(key);
    }
    await this.run('message_write', Q.write, [
      msg.meetingId, m.bucket, m.id, msg.senderId, m.senderName, msg.clientId, m.recipientId ?? cassandra.types.unset, m.body,
    ]);
  }

  private async exists(meetingId: string, m: StoredMessage): Promise<boolean> {
    const rs = await this.run('message_read', Q.exists, [meetingId, m.bucket, m.id]);
    return rs.rowLength > 0;
  }

  async history(meetingId: string, viewerId: string, opts: { limit: number; cursor?: string | null }): Promise<HistoryPage> {
    const { limit, after } = parseHistoryQuery(meetingId, viewerId, opts);
    const want = limit + 1; // one more than a page tells whether there is an older page
    const found: ChatMessage[] = [];
    const [bucketQuery, bucketParams] = after ? [Q.bucketsUpTo, [meetingId, after.bucket]] : [Q.buckets, [meetingId]];
    outer: for await (const b of this.rows('bucket_list', bucketQuery, bucketParams, 1000)) {
      const bucket = Number(b['bucket']);
      const before = after !== null && bucket === after.bucket ? after.id : null;
      const [q, params] = before ? [Q.pageBefore, [meetingId, bucket, before]] : [Q.page, [meetingId, bucket]];
      for await (const r of this.rows('message_page', q, params, Math.max(want, 50))) {
        const id = String(r['id']);
        const m: ChatMessage = {
          id,
          sentAt: timeuuidDate(id),
          meetingId,
          senderId: String(r['sender_id']),
          senderName: String(r['sender_name']),
          clientId: String(r['client_id']),
          recipientId: r['recipient_id'] === null || r['recipient_id'] === undefined ? null : String(r['recipient_id']),
          body: String(r['body']),
        };
        if (!visibleTo(m, viewerId)) continue;
        found.push(m);
        if (found.length === want) break outer;
      }
    }
    const messages = found.slice(0, limit);
    const last = messages.at(-1);
    return {
      messages,
      nextCursor: found.length > limit && last ? encodeCursor(meetingId, { bucket: dayBucket(last.sentAt), id: last.id }) : null,
    };
  }

  /** All rows of a query, fetched `fetchSize` at a time with the driver's paging state, lazily. */
  private async *rows(op: string, query: string, params: unknown[], fetchSize: number): AsyncGenerator<cassandra.types.Row> {
    let pageState: string | undefined;
    do {
      const rs = await this.run(op, query, params, { fetchSize, ...(pageState ? { pageState } : {}) });
      yield* rs.rows;
      pageState = rs.pageState ?? undefined;
    } while (pageState);
  }

  /** Executes a prepared statement at LOCAL_QUORUM (explicitly, per query), timed for `onQuery`. */
  private run(op: string, query: string, params: unknown[], extra: cassandra.QueryOptions = {}): Promise<cassandra.types.ResultSet> {
    return timed(this.onQuery, op, () =>
      this.client.execute(query, params, {
        prepare: true,
        consistency: consistencies.localQuorum,
        // plain inserts and selects may be retried by the driver; the conditional insert may not
        isIdempotent: op !== 'dedup_claim',
        ...extra,
      }),
    );
  }

  async close(): Promise<void> {
    await this.client.shutdown();
  }
}

/** Errors after which a conditional write may or may not have been applied (or was surely not): safe to retry. */
function outcomeUnknown(err: unknown): boolean {
  const codes = cassandra.types.responseErrorCodes;
  if (err instanceof cassandra.errors.ResponseError) {
    return err.code === codes.writeTimeout || err.code === codes.unavailableException || err.code === codes.overloaded;
  }
  return err instanceof cassandra.errors.OperationTimedOutError || err instanceof cassandra.errors.NoHostAvailableError;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
