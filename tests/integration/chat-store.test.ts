/**
 * One suite, three real backends: CassandraChatStore on Apache Cassandra, PostgresChatStore on PostgreSQL 15, and
 * PostgresChatStore on the embedded PGlite server. Both stores promise the same behaviour (control/src/chat/store.ts),
 * so the same tests must pass on each. Servers come from tests/helpers/services.ts (the suite's, or started here).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import cassandraDriver from 'cassandra-driver';
import pg from 'pg';
import { CassandraChatStore } from '../../control/src/chat/cassandra-store.js';
import { PostgresChatStore } from '../../control/src/chat/postgres-store.js';
import { ChatCursorError, ChatValidationError, dayBucket, timeuuid, timeuuidDate, type ChatMessage, type ChatStore, type NewChatMessage } from '../../control/src/chat/store.js';
import { EMBEDDED_POOL_MAX, startEmbeddedPostgres } from '../../control/src/db/embedded.js';
import { cassandra, dropDatabase, dropKeyspace, freshDatabase, freshKeyspaceName, postgres } from '../helpers/services.js';

const MIGRATION = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../control/migrations/004_chat.sql');

interface StoreOptions {
  clock?: () => Date;
  onQuery?: (op: string, seconds: number) => void;
}
/** A backend: a database already set up, from which the tests open stores (and which they tear down once). */
interface Backend {
  open(opts?: StoreOptions): ChatStore;
  teardown(): Promise<void>;
}

/** Applies the chat migration the way the migration runner does: the whole file, in one transaction. */
async function applyChatMigration(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(await fs.readFile(MIGRATION, 'utf8'));
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

const uuid = (): string => crypto.randomUUID();
const meeting = (): string => `m-${crypto.randomBytes(5).toString('hex')}`;

function msg(meetingId: string, over: Partial<NewChatMessage> = {}): NewChatMessage {
  return { meetingId, senderId: 'alice', senderName: 'Alice', clientId: uuid(), recipientId: null, body: 'hello', ...over };
}

/** Every message `viewerId` can see, following cursors (bounded: a broken cursor chain fails instead of looping). */
async function readAll(store: ChatStore, meetingId: string, viewerId: string, limit: number): Promise<{ messages: ChatMessage[]; pageSizes: number[] }> {
  const messages: ChatMessage[] = [];
  const pageSizes: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page = await store.history(meetingId, viewerId, { limit, cursor });
    messages.push(...page.messages);
    pageSizes.push(page.messages.length);
    if (page.nextCursor === null) return { messages, pageSizes };
    cursor = page.nextCursor;
  }
  throw new Error('history did not end within 100 pages');
}

/**
 * The shared suite. `more` registers tests that only make sense for one backend, inside the same describe (so
 * they reuse its server); it gets the backend and the suite's store once `before` has run.
 */
function chatStoreSuite<B extends Backend>(name: string, setup: () => Promise<B>, more?: (ctx: () => { backend: B; store: ChatStore }) => void): void {
  describe(name, () => {
    let backend: B | undefined;
    let store: ChatStore;
    const opened: ChatStore[] = [];
    /** A store over the same database; `init()`ed, closed after the suite. */
    const open = async (opts?: StoreOptions): Promise<ChatStore> => {
      const s = backend!.open(opts);
      opened.push(s);
      await s.init();
      return s;
    };

    before(async () => {
      backend = await setup();
      store = await open();
    }, { timeout: 300_000 });

    after(async () => {
      for (const s of opened) await s.close();
      await backend?.teardown();
    }, { timeout: 120_000 });

    test('append returns the stored message; history lists messages newest first', async () => {
      const m = meeting();
      const sent: ChatMessage[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await store.append(msg(m, { body: `message ${i}`, senderId: i % 2 ? 'bob' : 'alice', senderName: i % 2 ? 'Bob' : 'Alice' }));
        assert.equal(r.duplicate, false);
        assert.match(r.message.id, /^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a version-1 time UUID');
        assert.ok(r.message.sentAt instanceof Date);
        assert.ok(Math.abs(r.message.sentAt.getTime() - Date.now()) < 10 * 60_000, 'sentAt is about now');
        assert.equal(r.message.body, `message ${i}`);
        sent.push(r.message);
      }
      const page = await store.history(m, 'carol', { limit: 50 });
      assert.deepEqual(page.messages, [...sent].reverse());
      assert.equal(page.nextCursor, null);
      assert.deepEqual((await store.history(meeting(), 'carol', { limit: 10 })), { messages: [], nextCursor: null }, 'an unknown meeting has no history');
    });

    test('pages by cursor through more than one page', async () => {
      const m = meeting();
      const sent: ChatMessage[] = [];
      for (let i = 0; i < 25; i++) sent.push((await store.append(msg(m, { body: `n${i}` }))).message);
      const { messages, pageSizes } = await readAll(store, m, 'alice', 10);
      assert.deepEqual(pageSizes, [10, 10, 5]);
      assert.deepEqual(messages.map((x) => x.id), sent.map((x) => x.id).reverse());
      const exact = await readAll(store, m, 'alice', 25);
      assert.deepEqual(exact.pageSizes, [25], 'a page that holds everything has no next cursor');
    });

    test('pages across day buckets, skipping empty days, newest first', async () => {
      const m = meeting();
      let at: Date = new Date('2024-02-28T23:59:50.000Z');
      const past = await open({ clock: () => at });
      const sent: ChatMessage[] = [];
      const send = async (iso: string, body: string): Promise<void> => {
        at = new Date(iso);
        sent.push((await past.append(msg(m, { body }))).message);
      };
      for (let i = 0; i < 5; i++) await send(`2024-02-28T23:59:5${i}.000Z`, `day1 #${i}`);
      for (let i = 0; i < 2; i++) await send(`2024-03-01T00:00:0${i}.000Z`, `day3 #${i}`); // 2024-02-29: none
      for (let i = 0; i < 2; i++) await send(`2025-01-01T12:00:0${i}.000Z`, `next year #${i}`);
      assert.equal(sent[0]!.sentAt.toISOString(), '2024-02-28T23:59:50.000Z');
      const expected = [...sent].reverse();
      for (const limit of [1, 2, 3, 4, 9, 10]) {
        const { messages, pageSizes } = await readAll(store, m, 'bob', limit);
        assert.deepEqual(messages.map((x) => x.body), expected.map((x) => x.body), `limit ${limit}`);
        assert.deepEqual(messages, expected, `limit ${limit}: whole messages`);
        assert.equal(pageSizes.reduce((a, b) => a + b, 0), 9);
        assert.ok(pageSizes.slice(0, -1).every((n) => n === limit), `full pages before the last (limit ${limit}: ${pageSizes})`);
      }
      // a page boundary in the middle of a day, continued by a cursor into the previous days
      const first = await store.history(m, 'bob', { limit: 3 });
      assert.deepEqual(first.messages.map((x) => x.body), ['next year #1', 'next year #0', 'day3 #1']);
      const second = await store.history(m, 'bob', { limit: 3, cursor: first.nextCursor });
      assert.deepEqual(second.messages.map((x) => x.body), ['day3 #0', 'day1 #4', 'day1 #3']);
    });

    test('a retried append (same clientId) returns the first message and stores nothing new', async () => {
      const m = meeting();
      const first = await store.append(msg(m, { clientId: 'A3C1E1B2-7C45-4E8D-9F00-1234567890AB', body: 'once' }));
      const again = await store.append(msg(m, { clientId: 'A3C1E1B2-7C45-4E8D-9F00-1234567890AB', body: 'once' }));
      assert.equal(first.duplicate, false);
      assert.equal(again.duplicate, true);
      assert.deepEqual(again.message, first.message);
      assert.equal(first.message.clientId, 'a3c1e1b2-7c45-4e8d-9f00-1234567890ab', 'client ids are normalized to lower case');
      const lower = await store.append(msg(m, { clientId: 'a3c1e1b2-7c45-4e8d-9f00-1234567890ab', body: 'changed on retry' }));
      assert.equal(lower.duplicate, true, 'the same UUID in lower case is the same key');
      assert.equal(lower.message.body, 'once', 'a retry gets the first stored body back');
      // the key is (meeting, sender, clientId): the same clientId from another sender or meeting is a new message
      const otherSender = await store.append(msg(m, { clientId: first.message.clientId, senderId: 'bob', senderName: 'Bob' }));
      assert.equal(otherSender.duplicate, false);
      const otherMeeting = await store.append(msg(meeting(), { clientId: first.message.clientId }));
      assert.equal(otherMeeting.duplicate, false);
      const page = await store.history(m, 'alice', { limit: 10 });
      assert.deepEqual(page.messages.map((x) => x.id), [otherSender.message.id, first.message.id]);
    });

    test('concurrent retries of one clientId store exactly one message', async () => {
      for (let round = 0; round < 3; round++) {
        const m = meeting();
        const one = msg(m, { body: `race ${round}` });
        const results = await Promise.all(Array.from({ length: 5 }, () => store.append({ ...one })));
        assert.equal(results.filter((r) => !r.duplicate).length, 1, 'exactly one append stored it');
        assert.equal(new Set(results.map((r) => r.message.id)).size, 1, 'all got the same id');
        for (const r of results) assert.deepEqual(r.message, results[0]!.message);
        const page = await store.history(m, 'alice', { limit: 10 });
        assert.equal(page.messages.length, 1);
        assert.equal(page.messages[0]!.id, results[0]!.message.id);
      }
    });

    test('direct messages are visible only to their sender and recipient', async () => {
      const m = meeting();
      const pub1 = (await store.append(msg(m, { body: 'hi all' }))).message;
      const dm = (await store.append(msg(m, { body: 'psst bob', recipientId: 'bob' }))).message;
      const dmBack = (await store.append(msg(m, { senderId: 'bob', senderName: 'Bob', body: 'psst alice', recipientId: 'alice' }))).message;
      const pub2 = (await store.append(msg(m, { senderId: 'bob', senderName: 'Bob', body: 'hi again' }))).message;
      assert.equal(dm.recipientId, 'bob');
      const ids = async (viewer: string): Promise<string[]> => (await store.history(m, viewer, { limit: 50 })).messages.map((x) => x.id);
      assert.deepEqual(await ids('alice'), [pub2.id, dmBack.id, dm.id, pub1.id]);
      assert.deepEqual(await ids('bob'), [pub2.id, dmBack.id, dm.id, pub1.id]);
      assert.deepEqual(await ids('carol'), [pub2.id, pub1.id]);

      // pages stay full for a viewer who cannot see most messages
      const m2 = meeting();
      const visible: string[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await store.append(msg(m2, { body: `x${i}`, recipientId: i % 4 === 0 ? null : 'bob' }));
        if (i % 4 === 0) visible.push(r.message.id);
      }
      const carol = await readAll(store, m2, 'carol', 2);
      assert.deepEqual(carol.messages.map((x) => x.id), visible.reverse());
      assert.deepEqual(carol.pageSizes, [2, 1]);
      assert.equal((await readAll(store, m2, 'bob', 5)).messages.length, 12);
    });

    test('a bad cursor is rejected with ChatCursorError', async () => {
      const m = meeting();
      for (let i = 0; i < 3; i++) await store.append(msg(m, { body: `c${i}` }));
      const good = (await store.history(m, 'alice', { limit: 1 })).nextCursor;
      assert.ok(good);
      const payload = JSON.parse(Buffer.from(good, 'base64url').toString('utf8')) as { b: number; id: string };
      const forge = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
      const bad = [
        '',
        'not a cursor!',
        'abc',
        good.slice(0, -3),
        forge({ v: 1 }),
        forge({ v: 2, m, b: payload.b, id: payload.id }),
        forge({ v: 1, m, b: payload.b + 1, id: payload.id }),
        forge({ v: 1, m, b: payload.b, id: crypto.randomUUID() }),
        Buffer.from('garbage').toString('base64url'),
      ];
      for (const cursor of bad) {
        await assert.rejects(store.history(m, 'alice', { limit: 5, cursor }), ChatCursorError, `cursor ${JSON.stringify(cursor)}`);
      }
      await assert.rejects(store.history(meeting(), 'alice', { limit: 5, cursor: good }), (err: Error) => err instanceof ChatCursorError && /another meeting/.test(err.message));
      assert.equal((await store.history(m, 'alice', { limit: 5, cursor: good })).messages.length, 2, 'the good cursor still works');
    });

    test('invalid input is rejected with a clear ChatValidationError', async () => {
      const m = meeting();
      const expectInvalid = (p: Promise<unknown>, re: RegExp): Promise<void> =>
        assert.rejects(p, (err: Error) => {
          assert.ok(err instanceof ChatValidationError, `a ChatValidationError, got ${err}`);
          assert.match(err.message, re);
          return true;
        });
      await expectInvalid(store.append(msg(m, { body: '' })), /body: must be 1\.\.4000 characters \(got 0\)/);
      await expectInvalid(store.append(msg(m, { body: 'a'.repeat(4001) })), /body: must be 1\.\.4000 characters \(got 4001\)/);
      await expectInvalid(store.append(msg(m, { body: '😀'.repeat(4001) })), /body: .*got 4001/);
      await expectInvalid(store.append(msg(m, { body: 'nul \u0000 inside' })), /body: must not contain NUL/);
      await expectInvalid(store.append(msg(m, { body: 'lone \uD800 surrogate' })), /body: must be well-formed Unicode/);
      await expectInvalid(store.append(msg(m, { clientId: 'not-a-uuid' })), /clientId: must be a UUID/);
      await expectInvalid(store.append(msg(m, { senderName: '' })), /senderName/);
      await expectInvalid(store.append(msg(m, { recipientId: '' })), /recipientId/);
      for (const limit of [0, 201, 1.5, Number.NaN]) await expectInvalid(store.history(m, 'alice', { limit }), /limit/);
      assert.deepEqual((await store.history(m, 'alice', { limit: 10 })).messages, [], 'nothing invalid was stored');

      const max = await store.append(msg(m, { body: 'a'.repeat(4000) }));
      assert.equal(max.message.body.length, 4000);
      const maxEmoji = await store.append(msg(m, { body: '😀'.repeat(4000) }));
      assert.equal(maxEmoji.message.body, '😀'.repeat(4000), '4000 characters, 8000 UTF-16 units');
      const page = await store.history(m, 'alice', { limit: 10 });
      assert.deepEqual(page.messages.map((x) => x.body), ['😀'.repeat(4000), 'a'.repeat(4000)]);
    });

    test('unicode bodies and names round-trip exactly', async () => {
      const m = meeting();
      const bodies = [
        'Grüße aus Köln — ¿qué tal? ½ ∑ ∞',
        '日本語のテキスト、中文文本, 한국어',
        'שלום עולם / مرحبا بالعالم',
        'emoji 👩🏽‍💻 family 👨‍👩‍👧‍👦 flag 🇩🇪 keycap 1️⃣',
        'combining: e\u0301 vs é, zero width: a\u200Bb, bidi: \u202Eabc\u202C',
        '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 — astral plane',
        "quotes ' \" ` \\ and newlines\nline 2\r\nline 3\ttab",
        '   leading and trailing spaces   ',
      ];
      const sent: ChatMessage[] = [];
      for (const body of bodies) sent.push((await store.append(msg(m, { body, senderName: 'Zoë 🦊 Ñúñez', senderId: 'ü-ser' }))).message);
      const page = await store.history(m, 'ü-ser', { limit: 20 });
      assert.deepEqual(page.messages.map((x) => x.body), [...bodies].reverse());
      assert.deepEqual(page.messages, [...sent].reverse());
      assert.ok(page.messages.every((x) => x.senderName === 'Zoë 🦊 Ñúñez'));
    });

    test('reports the latency of each database operation to onQuery', async () => {
      const seen: Array<[string, number]> = [];
      const timedStore = await open({ onQuery: (op, s) => seen.push([op, s]) });
      const m = meeting();
      await timedStore.append(msg(m));
      const afterAppend = seen.length;
      assert.ok(afterAppend > 0, 'the append was timed');
      await timedStore.history(m, 'alice', { limit: 5 });
      assert.ok(seen.length > afterAppend, `the history read was timed too; ops: ${seen.map(([op]) => op)}`);
      // Real round trips to a database server: some time, and less than a minute.
      assert.ok(seen.every(([op, s]) => /^[a-z_]+$/.test(op) && s > 0 && s < 60), JSON.stringify(seen));
      // a callback that throws must not fail the store
      const throwing = await open({ onQuery: () => { throw new Error('metrics broke'); } });
      assert.equal((await throwing.append(msg(m, { body: 'still works' }))).duplicate, false);
    });

    more?.(() => ({ backend: backend!, store }));
  });
}

chatStoreSuite('CassandraChatStore (Apache Cassandra)', async () => {
  const svc = await cassandra();
  const keyspace = freshKeyspaceName();
  return {
    contactPoint: svc.contactPoint,
    keyspace,
    open: (opts?: StoreOptions) => new CassandraChatStore({ contactPoints: [svc.contactPoint], keyspace, replicationFactor: 1, ...opts }),
    teardown: async () => {
      try {
        await dropKeyspace(svc.contactPoint, keyspace);
      } finally {
        await svc.stop();
      }
    },
  };
}, (ctx) => {
  test('a retry completes a send whose first attempt died after claiming its key', async () => {
    const { backend, store } = ctx();
    // the state such a crash leaves: the dedup claim holds the message, chat_messages does not have it yet
    const m = meeting();
    const first = msg(m, { body: 'claimed, never written', recipientId: 'bob' });
    const id = timeuuid();
    const raw = new cassandraDriver.Client({ contactPoints: [backend.contactPoint], localDataCenter: 'datacenter1', keyspace: backend.keyspace });
    try {
      await raw.execute(
        'INSERT INTO chat_message_dedup (meeting_id, sender_id, client_id, id, bucket, sender_name, recipient_id, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS',
        [m, first.senderId, first.clientId, id, dayBucket(timeuuidDate(id)), first.senderName, first.recipientId, first.body],
        { prepare: true, consistency: cassandraDriver.types.consistencies.localQuorum },
      );
    } finally {
      await raw.shutdown();
    }
    assert.deepEqual((await store.history(m, 'bob', { limit: 5 })).messages, []);
    const retry = await store.append({ ...first, body: 'the retry' });
    assert.equal(retry.duplicate, true);
    assert.equal(retry.message.id, id);
    assert.equal(retry.message.body, 'claimed, never written', 'the claimed content wins');
    assert.deepEqual((await store.history(m, 'bob', { limit: 5 })).messages, [retry.message]);
    assert.deepEqual((await store.history(m, 'carol', { limit: 5 })).messages, [], 'still a direct message');
  });
});

chatStoreSuite('PostgresChatStore (PostgreSQL)', async () => {
  const svc = await postgres();
  const url = await freshDatabase(svc.url);
  await applyChatMigration(url);
  return {
    open: (opts) => new PostgresChatStore({ connectionString: url, maxConnections: 5, ...opts }),
    teardown: async () => {
      try {
        await dropDatabase(url);
      } finally {
        await svc.stop();
      }
    },
  };
});

chatStoreSuite('PostgresChatStore (embedded PGlite)', async () => {
  const db = await startEmbeddedPostgres(null);
  await applyChatMigration(db.url);
  // one pool of one connection for everything, as embedded.ts requires; the stores borrow it
  const pool = new pg.Pool({ connectionString: db.url, max: EMBEDDED_POOL_MAX });
  return {
    open: (opts) => new PostgresChatStore({ pool, ...opts }),
    teardown: async () => {
      await pool.end();
      await db.stop();
    },
  };
});

describe('embedded PostgreSQL (PGlite over pglite-socket)', () => {
  test('answers SELECT 1 through pg, runs concurrent transactions through its one-connection pool, and persists', { timeout: 300_000 }, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'meshmeet-pglite-'));
    try {
      let db = await startEmbeddedPostgres(dir);
      let pool = new pg.Pool({ connectionString: db.url, max: EMBEDDED_POOL_MAX });
      try {
        assert.deepEqual((await pool.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
        await pool.query('CREATE TABLE kept (n int PRIMARY KEY)');
        // transactions and plain statements issued concurrently: the pool of one serializes them
        await Promise.all(Array.from({ length: 40 }, async (_, n) => {
          if (n % 5 === 0) {
            const c = await pool.connect();
            try {
              await c.query('BEGIN');
              await c.query('INSERT INTO kept VALUES ($1)', [n]);
              await c.query('COMMIT');
            } finally {
              c.release();
            }
          } else await pool.query('INSERT INTO kept VALUES ($1)', [n]);
        }));
      } finally {
        await pool.end();
        await db.stop();
      }
      db = await startEmbeddedPostgres(dir);
      pool = new pg.Pool({ connectionString: db.url, max: EMBEDDED_POOL_MAX });
      try {
        assert.deepEqual((await pool.query('SELECT count(*)::int AS n, sum(n)::int AS s FROM kept')).rows, [{ n: 40, s: 780 }]);
      } finally {
        await pool.end();
        await db.stop();
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
