// The datasets table's indexes after every core migration: an organisation's datasets in the
// order searches list them (0004), which replaced the single-column owner_org_id index, and
// the plan SQLite picks for an `fq=organization:X` page uses it without sorting.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { DatabaseId } from '../../../core/services/service-ids.js';

for (const kind of databaseKinds()) {
  describe(`dataset indexes (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind);
    });
    after(async () => t.close());

    it('has the organisation-state-privacy-modified index and not the one it replaced', async () => {
      const db = t.host.services.get(DatabaseId);
      const sql = kind === 'postgres'
        ? `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'datasets' AND schemaname = current_schema()`
        : `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'datasets'`;
      const names = (await db.sequelize.query<{ name: string }>(sql, { type: QueryTypes.SELECT })).map((r) => r.name);
      assert.ok(names.includes('datasets_owner_org_id_state_private_modified_at'), names.join(', '));
      assert.ok(!names.includes('datasets_owner_org_id'), names.join(', '));
    });

    it('reads an organisation page from the index, without sorting (SQLite plan)', { skip: kind !== 'sqlite' && 'the plan is SQLite\'s' }, async () => {
      const db = t.host.services.get(DatabaseId);
      const plan = await db.sequelize.query<{ detail: string }>(
        `EXPLAIN QUERY PLAN SELECT d.id FROM datasets d WHERE d.owner_org_id IN ('x') AND d.private = 0 AND ((d.state = 'active' AND (d.private = 0 OR d.owner_org_id IN ('x')))) ORDER BY d.modified_at DESC LIMIT 10`,
        { type: QueryTypes.SELECT },
      );
      const details = plan.map((p) => p.detail).join(' | ');
      assert.match(details, /datasets_owner_org_id_state_private_modified_at/);
      assert.doesNotMatch(details, /TEMP B-TREE/, 'no sort');
    });
  });
}
