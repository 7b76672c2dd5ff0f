/**
 * Migrations against a real PostgreSQL: several control-plane instances starting at once on an empty database each
 * run `migrate`; every migration is applied exactly once, none fails, and the schema is complete.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { MIGRATIONS_DIR, migrate } from '../../control/src/db/migrate.js';
import { dropDatabase, freshDatabase, postgres, type PostgresService } from '../helpers/services.js';

const INSTANCES = 6;
let service: PostgresService;
const databases: string[] = [];

describe('migrations', { timeout: 120_000 }, () => {
  before(async () => {
    service = await postgres();
  });
  after(async () => {
    for (const db of databases) await dropDatabase(db);
    await service?.stop();
  });

  // Several rounds: a race between instances shows up only sometimes, so give it more than one chance.
  for (let round = 1; round <= 3; round++) {
    test(`${INSTANCES} instances migrate one empty database at once (round ${round})`, async () => {
      const url = await freshDatabase(service.url);
      databases.push(url);
      const files = (await fs.readdir(MIGRATIONS_DIR)).filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f)).sort();
      assert.ok(files.length > 0);
      const pools = Array.from({ length: INSTANCES }, () => new pg.Pool({ connectionString: url, max: 2 }));
      try {
        const results = await Promise.allSettled(pools.map((p) => migrate(p)));
        const failures = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
        assert.deepEqual(failures, [], 'no instance fails');
        const applied = results.flatMap((r) => (r as PromiseFulfilledResult<string[]>).value);
        assert.deepEqual(applied.sort(), files, 'each migration applied by exactly one instance');
        const { rows } = await pools[0]!.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
        assert.deepEqual(rows.map((r) => r.version), files);
        // And once more later: nothing left to do.
        assert.deepEqual(await migrate(pools[0]!), []);
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });
  }
});
