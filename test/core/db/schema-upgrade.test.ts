// An installation kept in a PostgreSQL schema of its own (`[db] schema`) upgrades in place:
// every migration step must reach the tables through the connection's search_path, not
// through "public".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase } from '../../helpers/test-databases.js';
import { writeTestConfig } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';

const pgUrl = process.env.PLATFORM_TEST_PG_URL;

describe('an installation in a PostgreSQL schema of its own', { skip: pgUrl ? false : 'PostgreSQL is not reachable' }, () => {
  it('applies a column-adding step to the tables of its schema when upgrading an older installation', async () => {
    const db = await createTestDatabase('postgres');
    try {
      const configFile = writeTestConfig({ ...db, schema: 'site_a' });
      const env = { PLATFORM__DB__AUTO_MIGRATE: 'false' };
      const first = await runCli(['--config', configFile, 'db', 'upgrade'], env);
      assert.equal(first.status, 0, first.stderr);
      // Make it the installation as it was before the step: column and record gone.
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query('ALTER TABLE site_a.jobs DROP COLUMN progress');
        const removed = await client.query("DELETE FROM site_a.platform_migrations WHERE name = 'core:0003-job-progress'");
        assert.equal(removed.rowCount, 1);
        assert.equal((await client.query("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'jobs'")).rowCount, 0);

        const upgrade = await runCli(['--config', configFile, 'db', 'upgrade'], env);
        assert.equal(upgrade.status, 0, upgrade.stderr);
        assert.match(upgrade.stdout, /applied core:0003-job-progress/);
        const column = await client.query("SELECT data_type FROM information_schema.columns WHERE table_schema = 'site_a' AND table_name = 'jobs' AND column_name = 'progress'");
        assert.deepEqual(column.rows, [{ data_type: 'jsonb' }]);
        assert.equal((await runCli(['--config', configFile, 'db', 'status'], env)).status, 0);
      } finally {
        await client.end();
      }
    } finally {
      await db.cleanup();
    }
  });
});
