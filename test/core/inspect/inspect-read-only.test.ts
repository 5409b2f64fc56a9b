// inspect examines without writing: on a configuration whose SQLite file does not exist it
// says so and creates nothing, and with migrations pending the checks that read the tables
// say they were skipped until `platform db upgrade` instead of failing with SQL errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import type { InspectReport } from '../../../core/inspect/inspect-report.js';
import { DatabaseId } from '../../../core/services/service-ids.js';

describe('inspect on an installation whose SQLite file does not exist', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'inspect-read-only-'));
    writeFileSync(join(dir, 'platform.ini'), '[platform]\nplugins =\ndata_dir = ./data\nsecret_key_file = ./data/secrets/secret-key\n[db]\nurl = sqlite:./data/platform.sqlite\n', { mode: 0o600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports the missing database and creates no file or folder', async () => {
    const run = await runCli(['--config', join(dir, 'platform.ini'), 'inspect', '--json']);
    const report = JSON.parse(run.stdout) as InspectReport;
    assert.equal(run.status, 1, run.stderr);
    const database = report.checks.find((c) => c.area === 'database');
    assert.ok(database, JSON.stringify(report.checks.map((c) => c.area)));
    assert.match(database.findings[0]!.title, /does not exist yet/);
    assert.match(database.findings[0]!.fix ?? '', /platform db upgrade/);
    assert.equal(existsSync(join(dir, 'data', 'platform.sqlite')), false, 'inspect created the database file');
    assert.deepEqual(readdirSync(dir), ['platform.ini'], 'inspect wrote nothing beside the configuration');
  });
});

for (const kind of databaseKinds()) {
  describe(`inspect with migrations pending (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind);
      // As on an installation upgraded to a new version before `platform db upgrade`.
      const db = t.host.services.get(DatabaseId);
      await db.sequelize.query(`DELETE FROM ${db.schema ? `"${db.schema}".` : ''}platform_migrations`);
    });
    after(async () => t.close());

    it('names the pending migrations and skips the checks that read the tables, without SQL errors', async () => {
      const run = await runCli(['--config', t.configFile, 'inspect', '--json']);
      const report = JSON.parse(run.stdout) as InspectReport;
      assert.equal(run.status, 1, run.stderr);
      const migrations = report.checks.find((c) => c.area === 'database' && c.name === 'migrations');
      assert.equal(migrations?.status, 'problem');
      const others = report.checks.filter((c) => c.area !== 'database' && c.area !== 'config');
      assert.ok(others.length >= 2, JSON.stringify(report.checks.map((c) => `${c.area}/${c.name}`)));
      for (const check of others) {
        assert.equal(check.status, 'warning', `${check.area}/${check.name}: ${JSON.stringify(check)}`);
        assert.match(check.findings[0]!.title, /skipped until `platform db upgrade`/);
      }
      assert.doesNotMatch(run.stdout, /no such table|does not exist|SQLITE_ERROR/);
    });
  });
}
