// Smoke test of the action API on every database kind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';

for (const kind of databaseKinds()) {
  describe(`action API smoke (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind);
    });
    after(async () => t.close());

    it('answers status_show in the CKAN envelope', async () => {
      const { status, body } = await t.call('status_show', {}, { method: 'GET' });
      assert.equal(status, 200);
      assert.equal(body.success, true);
      assert.equal((body.result as { platform_version: string }).platform_version, '0.1.0');
    });
  });
}
