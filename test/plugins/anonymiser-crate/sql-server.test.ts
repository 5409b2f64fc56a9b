// SQL Server as the destination, against a real server: runs only when
// PLATFORM_TEST_MSSQL_URL names an empty database that the tests may fill and empty
// (mssql://user:password@host:1433/database). No SQL Server can run on the development
// machine; the dialect's SQL is covered without a server in config-and-dialects.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QueryTypes } from 'sequelize';
import { anonFixture } from './anon-fixture.js';
import { runAnonymisation } from '../../../plugins/anonymiser-crate/anonymisation-run.js';
import { openDatabase } from '../../../plugins/anonymiser-crate/database-connection.js';

const url = process.env.PLATFORM_TEST_MSSQL_URL;

test('a run into SQL Server writes every included row, and an incremental run then has nothing to do', { skip: url ? false : 'PLATFORM_TEST_MSSQL_URL is not set' }, async () => {
  const f = await anonFixture('sqlite', { patients: 6, notesPerPatient: 3 });
  const dest = await openDatabase(url!, 'destination');
  try {
    writeFileSync(join(f.dir, 'dest.url'), url!);
    const full = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: false });
    assert.ok(full.rowsWritten > 0);
    const [count] = await dest.sequelize.query<{ n: number }>('SELECT COUNT(*) AS n FROM [note]', { type: QueryTypes.SELECT });
    assert.equal(Number(count!.n), f.dataset.patients.filter((p) => !p.optOut).length * 3);
    const again = await runAnonymisation({ configFile: f.configFile, env: f.env, incremental: true });
    assert.equal(again.rowsWritten, 0);
    assert.equal(again.rowsUnchanged, again.rowsRead);
  } finally {
    for (const table of ['note', 'relative', 'patient']) await dest.sequelize.query(`DROP TABLE IF EXISTS [${table}]`).catch(() => undefined);
    await dest.close();
    await f.cleanup();
  }
});
