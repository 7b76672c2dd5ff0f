/**
 * An embedded PostgreSQL for development and small installs: PGlite (PostgreSQL compiled to WASM, in process)
 * served over the PostgreSQL wire protocol by `@electric-sql/pglite-socket` on 127.0.0.1, so that the control
 * plane's ordinary `pg` code (pools, migrations, stores) runs unchanged against it.
 *
 * Limits worth knowing (measured with pglite 0.5.14 / pglite-socket 0.2.17):
 * - PGlite is ONE PostgreSQL session shared by every connection: the socket server queues the protocol messages
 *   of all connections and runs them one at a time. Autocommit statements from several connections happen to
 *   come out right, but an explicit transaction (BEGIN ... COMMIT, as the migration runner uses) on one
 *   connection while another connection runs statements breaks both with errors such as `portal "" cannot be
 *   run` or `unnamed prepared statement does not exist`. Session state (SET, named prepared statements,
 *   advisory locks) is shared too. Hence: **point exactly one `pg.Pool` with `max: 1`
 *   ({@link EMBEDDED_POOL_MAX}) at an embedded server**; the pool then serializes everything correctly, and a
 *   checked-out client's transaction holds the database until it ends. One connection loses nothing: PGlite
 *   runs one statement at a time anyway.
 * - The socket server refuses connections beyond its `maxConnections` (its default is 1; a refused pooled
 *   connection dies with "Connection terminated unexpectedly"). We allow {@link EMBEDDED_MAX_CONNECTIONS}, a small
 *   headroom for reconnects (a closed connection is forgotten a tick later) and a short-lived psql — not for
 *   concurrency.
 * - One database: the URL names `postgres`; `CREATE DATABASE` is not available.
 */
import fs from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

/** The `max` of the one pool to use against an embedded server (see the module comment for why). */
export const EMBEDDED_POOL_MAX = 1;
/** Connections the socket server accepts at once: headroom for reconnects, not for concurrency. */
export const EMBEDDED_MAX_CONNECTIONS = 4;

export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  url: string;
  /** Stops listening, drops connections, and closes PGlite (flushing it to `dataDir` when persistent). */
  stop(): Promise<void>;
}

/**
 * Starts PGlite, persistent in `dataDir` (created if missing) or in memory when `dataDir` is null, and serves
 * it on 127.0.0.1 on a free port (the OS picks it: no race with other processes). Resolves once a real
 * `SELECT 1` went through `pg`, so the caller gets a server that works, or a clear error.
 */
export async function startEmbeddedPostgres(dataDir: string | null): Promise<EmbeddedPostgres> {
  if (dataDir !== null) await fs.mkdir(dataDir, { recursive: true });
  let db: PGlite;
  try {
    db = dataDir === null ? await PGlite.create() : await PGlite.create({ dataDir });
  } catch (err) {
    throw new Error(`embedded PostgreSQL (PGlite) failed to open ${dataDir ?? 'an in-memory database'}: ${(err as Error).message}`, { cause: err });
  }
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: EMBEDDED_MAX_CONNECTIONS });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw new Error(`embedded PostgreSQL: could not listen on 127.0.0.1: ${(err as Error).message}`, { cause: err });
  }
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await server.stop();
    await db.close();
  };
  try {
    await selfCheck(url);
  } catch (err) {
    await stop();
    throw new Error(`embedded PostgreSQL at ${url} does not answer SELECT 1 through pg: ${(err as Error).message}`, { cause: err });
  }
  return { url, stop };
}

/** One round trip through the real `pg` client: proves the wire protocol path, not just PGlite itself. */
async function selfCheck(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
    if (rows[0]?.one !== 1) throw new Error(`unexpected answer ${JSON.stringify(rows)}`);
  } finally {
    await client.end();
  }
}
