// Database.preparedRead: the hot key lookups. On SQLite they run on read-only connections of
// their own, which must see every committed write at once and never one in progress; on
// PostgreSQL they are named prepared statements, the same rows as a plain query.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { DatabaseId } from '../../../core/services/service-ids.js';
import { createApiFixtures } from '../../helpers/api-fixtures.js';

for (const kind of databaseKinds()) {
  describe(`prepared reads (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind);
      await createApiFixtures(t);
    });
    after(async () => t.close());

    const byName = 'SELECT name, title FROM organizations WHERE name = $1';

    it('return what a plain query returns, for many values and many at once', async () => {
      const db = t.host.services.get(DatabaseId);
      const plain = await db.sequelize.query<{ name: string; title: string }>('SELECT name, title FROM organizations ORDER BY name', { type: QueryTypes.SELECT });
      assert.ok(plain.length >= 2);
      const prepared = await Promise.all(Array.from({ length: 40 }, (_, i) => db.preparedRead<{ name: string; title: string }>(byName, [plain[i % plain.length]!.name])));
      prepared.forEach((rows, i) => assert.deepEqual(rows, [plain[i % plain.length]]));
      assert.deepEqual(await db.preparedRead(byName, ['no-such-organisation']), []);
    });

    it('see a committed write at once, and not a write still in its transaction', async () => {
      const db = t.host.services.get(DatabaseId);
      assert.deepEqual(await db.preparedRead(byName, ['added-later']), []);
      await db.transaction(async (transaction) => {
        await db.sequelize.query("INSERT INTO organizations (id, name, title, description, state, created_at, updated_at) VALUES ('6f0c3e0e-9d9b-4c1e-8f5e-4f7f1d2b9a10', 'added-later', 'Later', '', 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", { transaction });
        assert.deepEqual(await db.preparedRead(byName, ['added-later']), [], 'not yet committed');
        assert.deepEqual(await db.preparedRead(byName, ['added-later'], transaction), [{ name: 'added-later', title: 'Later' }], 'inside the transaction it is seen');
      });
      assert.deepEqual(await db.preparedRead(byName, ['added-later']), [{ name: 'added-later', title: 'Later' }]);
    });
  });
}
