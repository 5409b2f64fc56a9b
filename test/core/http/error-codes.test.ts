// The catalogue's code reaches the response body, so clients key on `PLATFORM_ERR_...` rather
// than on messages; the not-found handler answers through the catalogue like everything else,
// with the status, type and message it always had.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';

for (const kind of databaseKinds()) {
  describe(`error codes in answers (${kind})`, () => {
    let t: TestHost;
    before(async () => (t = await startTestHost(kind)));
    after(async () => t.close());

    it('names the code of a validation error, beside the CKAN type and the field messages', async () => {
      const { status, body } = await t.call('package_create', {}, { token: '' });
      assert.ok(status === 403 || status === 400 || status === 409, String(status));
      assert.match(String(body.error?.code), /^PLATFORM_ERR_(VALIDATION|AUTHORIZATION)$/);
    });

    it('answers an unknown route through the catalogue: 404, Not Found Error, its code and the same message', async () => {
      const response = await t.app.request('/no/such/route', { method: 'GET' });
      assert.equal(response.status, 404);
      const body = (await response.json()) as { success: boolean; error: Record<string, unknown> };
      assert.equal(body.success, false);
      assert.equal(body.error.__type, 'Not Found Error');
      assert.equal(body.error.code, 'PLATFORM_ERR_NOT_FOUND');
      assert.equal(body.error.message, 'no route for GET /no/such/route');
    });

    it('answers an unknown action with its code and suggestions', async () => {
      const { status, body } = await t.call('package_shwo', {}, { method: 'GET' });
      assert.equal(status, 404);
      assert.equal(body.error?.code, 'PLATFORM_ERR_NOT_FOUND');
      assert.ok((body.error?.suggestions as string[]).includes('package_show'));
    });
  });
}
