// The bad input a security probe answered with 500, each now a precise 400 that changes
// nothing: prototype keys as fields, NUL bytes and lone surrogates in any text that would reach
// the database, and numbers out of range in plugin actions.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, tableCounts, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { contentDisposition } from '../../../core/http/content-disposition.js';

for (const kind of databaseKinds()) {
  describe(`hostile input (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;

    const post = async (action: string, body: string, token = f.tokens.sysadmin) => {
      const response = await t.app.request(`/api/3/action/${action}`, { method: 'POST', headers: { authorization: token, 'content-type': 'application/json' }, body });
      return { status: response.status, body: (await response.json()) as { error?: Record<string, unknown> & { message: string } } };
    };
    const get = async (action: string, query: string) => {
      const response = await t.app.request(`/api/3/action/${action}?${query}`);
      return { status: response.status, body: (await response.json()) as { error?: Record<string, unknown> & { message: string } } };
    };

    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['upload-camcops', 'distribution'] });
      f = await createApiFixtures(t);
      assert.equal((await t.call('package_create', { name: 'cells', owner_org: 'lab' }, { token: f.tokens.editor })).status, 200);
    });
    after(async () => t.close());

    it('keys named like Object.prototype members are unknown fields, not a 500', async () => {
      for (const key of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
        const answer = await get('status_show', `${key}=1`);
        assert.equal(answer.status, 400, `${key}: ${JSON.stringify(answer.body)}`);
        assert.deepEqual(answer.body.error![key], ['unknown field']);
      }
      const before = await tableCounts(t);
      const created = await post('package_create', '{"name":"proto-set","owner_org":"lab","__proto__":{"private":false},"constructor":{"prototype":{"x":1}}}');
      assert.equal(created.status, 400, JSON.stringify(created.body));
      assert.deepEqual(created.body.error!.__proto__, ['unknown field']);
      assert.deepEqual(await tableCounts(t), before);
    });

    it('NUL bytes and lone surrogates are refused with 400 wherever text reaches the database', async () => {
      const before = await tableCounts(t);
      const search = await get('package_search', `fq=${encodeURIComponent('organization:a\u0000b')}`);
      assert.equal(search.status, 400, JSON.stringify(search.body));
      assert.match(String((search.body.error!.fq as string[])[0]), /NUL/);
      const resource = await post('resource_create', JSON.stringify({ package_id: 'cells', name: 'a\u0000b.csv' }));
      assert.equal(resource.status, 400, JSON.stringify(resource.body));
      // JSON.stringify writes a lone surrogate as the escape \ud800, which JSON.parse reads back.
      const extras = await post('package_patch', JSON.stringify({ id: 'cells', extras: [{ key: 'site', value: 'x\ud800' }] }));
      assert.equal(extras.status, 400, JSON.stringify(extras.body));
      assert.match(String((extras.body.error!['extras.0.value'] as string[])[0]), /surrogate/);
      const key = await post('package_patch', '{"id":"cells","extras":[{"key":"a\\u0000","value":"1"}]}');
      assert.equal(key.status, 400);
      assert.deepEqual(await tableCounts(t), before);
    });

    it('resource names that are paths, hold control characters or name devices are refused with 400 on create, update and patch', async () => {
      const made = await post('resource_create', JSON.stringify({ package_id: 'cells', name: 'plain.csv' }));
      assert.equal(made.status, 200, JSON.stringify(made.body));
      const id = (made.body as unknown as { result: { id: string } }).result.id;
      const before = await tableCounts(t);
      for (const name of ['../../../etc/passwd', 'a/b.csv', 'a\\b.csv', '..', '.', 'x\u0001y', 'line\nbreak', 'CON', 'nul.txt', 'lpt1', 'trailing.', ' spaced']) {
        for (const [action, input] of [['resource_create', { package_id: 'cells', name }], ['resource_patch', { id, name }], ['resource_update', { id, name }]] as const) {
          const answer = await post(action, JSON.stringify(input));
          assert.equal(answer.status, 400, `${action} ${JSON.stringify(name)}: ${JSON.stringify(answer.body)}`);
          assert.ok(Array.isArray(answer.body.error!.name), `${action} ${JSON.stringify(name)} names the field`);
        }
      }
      assert.deepEqual(await tableCounts(t), before);
      for (const name of ['cells 1.rtdc', 'Zellen ä (2).csv', 'console.log', 'a..b']) {
        assert.equal((await post('resource_patch', JSON.stringify({ id, name }))).status, 200, name);
      }
    });

    it('Content-Disposition offers one plain file name whatever a stored name holds', () => {
      for (const stored of ['../../../etc/passwd', 'dir\\evil.txt', 'a"b\r\nSet-Cookie: x=1', '..']) {
        const header = contentDisposition(stored);
        assert.doesNotMatch(header, /[\r\n]/, header);
        const ascii = /filename="([^"]*)"/.exec(header)![1]!;
        assert.doesNotMatch(ascii, /[/\\]|^\.\.?$/, header);
        const utf8 = decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(header)![1]!);
        assert.doesNotMatch(utf8, /[/\\\u0000-\u001f]|^\.\.?$/, header);
      }
      assert.equal(contentDisposition('../../../etc/passwd'), `attachment; filename="passwd"; filename*=UTF-8''passwd`);
    });

    it('CamCOPS listings refuse negative, huge and 20-digit numbers', async () => {
      for (const input of [{ offset: -1 }, { limit: -5 }, { limit: 1e21 }, { offset: '1e21' }, { patient_pk: '12345678901234567890' }, { patient_pk: 2 ** 53 }]) {
        const answer = await post('camcops_table_show', JSON.stringify({ organization: 'lab', table: 'patient', ...input }));
        assert.equal(answer.status, 400, `${JSON.stringify(input)}: ${JSON.stringify(answer.body)}`);
      }
      for (const input of [{ offset: -1 }, { limit: 1e21 }]) {
        const answer = await post('camcops_task_index_list', JSON.stringify({ organization: 'lab', ...input }));
        assert.equal(answer.status, 400, `${JSON.stringify(input)}: ${JSON.stringify(answer.body)}`);
      }
    });

    it('refuses a write whose body is not declared JSON, as a cross-site form or simple request would send it', async () => {
      const before = await tableCounts(t);
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
        const headers: Record<string, string> = { authorization: f.tokens.sysadmin, ...(type ? { 'content-type': type } : {}) };
        const response = await t.app.request('/api/3/action/organization_create', { method: 'POST', headers, body: new Blob(['{"name":"csrf-org"}']) });
        assert.equal(response.status, 415, `${type}: ${await response.text()}`);
      }
      assert.deepEqual(await tableCounts(t), before);
    });

    it("another user's API token answers as an unknown one does", async () => {
      const mine = await t.call('api_token_create', { user: 'editor-user', name: 'mine' }, { token: f.tokens.editor });
      const prefix = (mine.body.result as { prefix: string }).prefix;
      const theirs = await post('api_token_revoke', JSON.stringify({ id: prefix }), f.tokens.member);
      const unknown = await post('api_token_revoke', JSON.stringify({ id: 'plat_nosuch' }), f.tokens.member);
      assert.equal(theirs.status, 404);
      assert.equal(theirs.status, unknown.status);
      assert.equal(theirs.body.error!.message.replace(prefix, 'X'), unknown.body.error!.message.replace('plat_nosuch', 'X'));
    });

    it('distribution_acknowledgements refuses a number of days no calendar holds', async () => {
      for (const days of [1e21, -1, '99999999']) {
        const answer = await post('distribution_acknowledgements', JSON.stringify({ unacknowledged_days: days }));
        assert.equal(answer.status, 400, `${days}: ${JSON.stringify(answer.body)}`);
      }
      assert.equal((await post('distribution_acknowledgements', '{"unacknowledged_days":7}')).status, 200);
    });
  });
}
