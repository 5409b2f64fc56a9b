// One parameterised helper for database suites: each suite runs on SQLite and, when the
// test runner found PostgreSQL reachable, on PostgreSQL in a database of its own.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchPgDatabase } from '../../scripts/scratch-pg-database.js';

/** A fresh, empty database for one suite. */
export interface TestDatabase {
  /** `sqlite` or `postgres`, for test names. */
  kind: 'sqlite' | 'postgres';
  /** Value for `[db] url`. */
  url: string;
  /** Value for `[db] schema` (unused: each PostgreSQL suite gets a database of its own). */
  schema: string | undefined;
  /** A scratch directory for the suite (data dir, depot, secrets). */
  dir: string;
  /** Drops the schema / removes the directory. */
  cleanup(): Promise<void>;
}

/** The database kinds to run suites on: always SQLite, and PostgreSQL when reachable. */
export function databaseKinds(): Array<'sqlite' | 'postgres'> {
  return process.env.PLATFORM_TEST_PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** Creates an empty database of the given kind. */
export async function createTestDatabase(kind: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'platform-test-'));
  if (kind === 'sqlite') {
    return { kind, url: `sqlite:${join(dir, 'platform.sqlite')}`, schema: undefined, dir, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const url = process.env.PLATFORM_TEST_PG_URL;
  if (!url) throw new Error('PostgreSQL is not available for tests');
  // A database of its own (not just a schema): PostgreSQL's catalogue is per database, so
  // parallel suites creating and dropping tables never see each other's.
  const db = await createScratchPgDatabase(url, `platform_t_${process.pid}`);
  return {
    kind,
    url: db.url,
    schema: undefined,
    dir,
    cleanup: async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
