/**
 * Real database servers for tests and benches: PostgreSQL (Debian's, via scripts/postgres/) and Apache Cassandra
 * (via scripts/cassandra/). Never mocks.
 *
 * Starting Cassandra takes seconds and half a gigabyte, so the test runner starts each server once for the whole
 * suite and passes them in through the environment:
 *   MESHMEET_TEST_PG_URL       e.g. postgres://postgres@127.0.0.1:5432/meshmeet (trust auth, may CREATE DATABASE)
 *   MESHMEET_TEST_CASSANDRA    e.g. 127.0.0.1:9042
 * When set, `postgres()` / `cassandra()` return them and `stop()` does nothing; when unset, each call starts its
 * own server and `stop()` stops it and deletes its files. Always call `stop()` (in `after()` or `finally`).
 *
 * Tests share these servers, so each test file isolates itself: `freshDatabase(url)` makes a new empty database
 * and returns its URL (drop it with `dropDatabase`); for Cassandra, use a keyspace named by `freshKeyspaceName()`
 * (the chat store's `init()` creates it; `dropKeyspace` removes it).
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import cassandraDriver from 'cassandra-driver';
import pg from 'pg';

const run = promisify(execFile);
/** The repository root (not imported from edge.ts: that would load the edge node and mediasoup for nothing). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface PostgresService {
  /** `postgres://postgres@127.0.0.1:PORT/meshmeet` */
  url: string;
  stop(): Promise<void>;
}

export interface CassandraService {
  /** `127.0.0.1:PORT` */
  contactPoint: string;
  stop(): Promise<void>;
}

/** Parses the `export NAME=value` lines that scripts/{postgres,cassandra}/start.sh print (values %q-quoted, ours have no specials). */
function parseExports(stdout: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1');
  }
  return vars;
}

/** Runs a start script; on failure the error carries the script's stderr (it prints the server log tail). */
async function runScript(script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  try {
    const { stdout } = await run('bash', [path.join(ROOT, script)], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${script} failed: ${e.message}\n${e.stderr ?? ''}`, { cause: err });
  }
}

/** A PostgreSQL server: the suite's (MESHMEET_TEST_PG_URL) or a new one from scripts/postgres/start.sh. */
export async function postgres(): Promise<PostgresService> {
  const given = process.env.MESHMEET_TEST_PG_URL;
  if (given) return { url: given, stop: async () => {} };
  const vars = parseExports(await runScript('scripts/postgres/start.sh', {}, 120_000));
  const dir = vars.PG_DIR;
  const url = vars.PG_URL;
  if (!dir || !url) throw new Error('scripts/postgres/start.sh printed no PG_DIR/PG_URL');
  return {
    url,
    stop: async () => {
      await run('bash', [path.join(ROOT, 'scripts/postgres/stop.sh'), dir, '--clean'], { timeout: 120_000 });
    },
  };
}

/** A Cassandra node: the suite's (MESHMEET_TEST_CASSANDRA) or a new one from scripts/cassandra/start.sh (on free ports). */
export async function cassandra(): Promise<CassandraService> {
  const given = process.env.MESHMEET_TEST_CASSANDRA;
  if (given) return { contactPoint: given, stop: async () => {} };
  const vars = parseExports(await runScript('scripts/cassandra/start.sh', { CASSANDRA_PORT: 'auto' }, 300_000));
  const dir = vars.CASSANDRA_DIR;
  if (!dir || !vars.CASSANDRA_PORT) throw new Error('scripts/cassandra/start.sh printed no CASSANDRA_DIR/CASSANDRA_PORT');
  return {
    contactPoint: `127.0.0.1:${vars.CASSANDRA_PORT}`,
    stop: async () => {
      await run('bash', [path.join(ROOT, 'scripts/cassandra/stop.sh'), dir, '--clean'], { timeout: 120_000 });
    },
  };
}

/** `test_` + 12 random hex digits: a valid, unique PostgreSQL database or Cassandra keyspace name. */
function freshName(): string {
  return `test_${crypto.randomBytes(6).toString('hex')}`;
}

/**
 * Creates a new empty database `test_<random>` on the server of `url` (which must allow CREATE DATABASE, as the
 * test servers do) and returns the URL of that database. Drop it with {@link dropDatabase} when done; the test
 * servers are thrown away anyway, so a test that crashes leaves nothing that matters.
 */
export async function freshDatabase(url: string): Promise<string> {
  const name = freshName();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * Drops a database made by {@link freshDatabase}. `pg.Pool#end()` resolves before its connections are really
 * gone, so a plain DROP can find the database still "being accessed": it is retried for up to 10 s. Only then are
 * leftover connections terminated (FORCE), since a leaked connection that gets killed may raise an error in the
 * test process.
 */
export async function dropDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  if (!/^test_[0-9a-f]{12}$/.test(name)) throw new Error(`refusing to drop '${name}': not made by freshDatabase`);
  u.pathname = '/postgres';
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  try {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name}`);
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006') throw err; // 55006: object_in_use
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** A new keyspace name `test_<random>` for one test file (the chat store's `init()` creates it). */
export function freshKeyspaceName(): string {
  return freshName();
}

/** Drops a keyspace made for a test (names from {@link freshKeyspaceName} only). */
export async function dropKeyspace(contactPoint: string, keyspace: string): Promise<void> {
  if (!/^test_[0-9a-f]{12}$/.test(keyspace)) throw new Error(`refusing to drop keyspace '${keyspace}': not made by freshKeyspaceName`);
  const client = new cassandraDriver.Client({ contactPoints: [contactPoint], localDataCenter: 'datacenter1' });
  try {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
  } finally {
    await client.shutdown();
  }
}
