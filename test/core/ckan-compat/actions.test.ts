// CKAN 2.10 clients' calls, sent as ckanapi sends them (ckanapi-requests.ts): inline link
// resources in package_create/package_update, the api_token actions' 2.10 parameter names,
// access checked before the input, deleted datasets shown to those who may see them, and
// extras as CKAN's list of {key, value}.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { auditCount, createApiFixtures, tableCounts, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { ckanapiGet, ckanapiPost } from './ckanapi-requests.js';

interface Resource {
  id: string;
  name: string;
  url: string;
  format: string;
  position: number;
}

interface Package {
  id: string;
  name: string;
  state: string;
  resources: Resource[];
  extras: Array<{ key: string; value: unknown }>;
  [key: string]: unknown;
}

for (const kind of databaseKinds()) {
  describe(`CKAN clients' actions (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;

    before(async () => {
      t = await startTestHost(kind);
      f = await createApiFixtures(t);
    });
    after(async () => t.close());

    it('package_create takes link resources inline, as harvesters and ckanapi send them', async () => {
      // The dict of CKAN's API guide ("Creating a dataset", doc/api/index.rst) with the
      // resources list of ckan/tests/logic/action/test_create.py::TestPackageCreate
      // (test_it_creates_resources_with_the_dataset style: url and name per resource).
      const { status, body } = await ckanapiPost(t, 'package_create', {
        name: 'inline-links', owner_org: 'lab', title: 'Inline links',
        resources: [
          { url: 'http://example.com/data.csv', name: 'Data', format: 'CSV' },
          { url: 'http://example.com/readme.txt' },
        ],
      }, f.tokens.editor);
      assert.equal(status, 200, JSON.stringify(body));
      const created = body.result as Package;
      assert.deepEqual(created.resources.map((r) => [r.name, r.url, r.format, r.position]), [
        ['Data', 'http://example.com/data.csv', 'CSV', 0],
        ['readme.txt', 'http://example.com/readme.txt', 'TXT', 1],
      ]);
      const shown = (await ckanapiGet(t, 'package_show', { id: 'inline-links' })).body.result as Package;
      assert.deepEqual(shown.resources.map((r) => r.id), created.resources.map((r) => r.id));
    });

    it('package_create refuses an inline resource that is not a link, and creates nothing', async () => {
      const before = await tableCounts(t);
      const { status, body } = await ckanapiPost(t, 'package_create', { name: 'inline-upload', owner_org: 'lab', resources: [{ name: 'file.csv', url_type: 'upload' }] }, f.tokens.editor);
      assert.equal(status, 400, JSON.stringify(body));
      assert.match(String((body.error!.resources as string[])[0]), /item 0: a new resource here must be a link .*resource_create \(multipart "upload"\)/);
      assert.deepEqual(await tableCounts(t), before);
    });

    it('package_update with the shown dict changes, adds and drops resources as CKAN does', async () => {
      const shown = (await ckanapiGet(t, 'package_show', { id: 'inline-links' }, f.tokens.editor)).body.result as Package;
      const [data] = shown.resources;
      const dict = { ...shown, resources: [{ ...data!, name: 'Data (2026)' }, { url: 'https://example.org/more.json', name: 'more.json' }] };
      const { status, body } = await ckanapiPost(t, 'package_update', dict, f.tokens.editor);
      assert.equal(status, 200, JSON.stringify(body));
      const updated = body.result as Package;
      assert.deepEqual(updated.resources.map((r) => [r.name, r.url]), [['Data (2026)', 'http://example.com/data.csv'], ['more.json', 'https://example.org/more.json']]);
      assert.equal(updated.resources[0]!.id, data!.id, 'a listed resource keeps its id');
      // The same dict again changes nothing about the resources.
      const again = await ckanapiPost(t, 'package_update', updated as Record<string, unknown>, f.tokens.editor);
      assert.deepEqual((again.body.result as Package).resources.map((r) => r.id), updated.resources.map((r) => r.id));
      const gone = await ckanapiGet(t, 'resource_show', { id: shown.resources[1]!.id }, f.tokens.editor);
      assert.equal(gone.status, 404, 'the resource left out of the list is deleted');
    });

    it('api_token_list takes user_id and api_token_revoke takes jti or the token itself (CKAN 2.10)', async () => {
      // ckan/logic/action/get.py api_token_list: `user_id` (2.9 and ours: `user`);
      // ckan/logic/action/delete.py api_token_revoke: "token: Token to remove (required if
      // `jti` not specified). jti: Id of the token to remove".
      const made = await ckanapiPost(t, 'api_token_create', { user: 'editor-user', name: 'for revoking' }, f.tokens.editor);
      const second = await ckanapiPost(t, 'api_token_create', { user: 'editor-user', name: 'revoked by secret' }, f.tokens.editor);
      const { id: jti } = made.body.result as { id: string };
      const listed = await ckanapiPost(t, 'api_token_list', { user_id: 'editor-user' }, f.tokens.editor);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      assert.ok((listed.body.result as Array<{ id: string }>).some((token) => token.id === jti));
      assert.equal((await ckanapiGet(t, 'api_token_list', { user_id: f.users.editor.id }, f.tokens.editor)).status, 200, 'user_id may be the id');
      const revoked = await ckanapiPost(t, 'api_token_revoke', { jti }, f.tokens.editor);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.ok((revoked.body.result as { revoked_at: string | null }).revoked_at);
      const secret = (second.body.result as { token: string }).token;
      const bySecret = await ckanapiPost(t, 'api_token_revoke', { token: secret }, f.tokens.editor);
      assert.equal(bySecret.status, 200, JSON.stringify(bySecret.body));
      assert.equal(JSON.stringify(bySecret.body).includes(secret), false, 'the answer never repeats the secret');
      assert.equal((await ckanapiGet(t, 'status_show', {}, secret)).status, 403, 'the token revoked by its secret no longer works');
      const others = await ckanapiPost(t, 'api_token_revoke', { token: f.tokens.editor }, f.tokens.other);
      // Another user's token answers as an unknown one does: the caller learns nothing of it.
      assert.equal(others.status, 404, 'nobody revokes another user\'s token by knowing it');
      assert.equal((await ckanapiGet(t, 'status_show', {}, f.tokens.editor)).status, 200, 'the token still works');
      const wrong = await ckanapiPost(t, 'api_token_revoke', { token: `${f.tokens.member.slice(0, -4)}AAAA` }, f.tokens.member);
      assert.equal(wrong.status, 404);
    });

    it('checks access before the input: anonymous and under-privileged callers get 403 whatever the body', async () => {
      const audited = await auditCount(t);
      for (const [action, body] of [
        ['package_create', { name: 'BAD NAME!', owner_org: 42, unknown_field: true }],
        ['package_update', { id: ['not', 'a', 'string'] }],
        ['resource_create', { package_id: 'no-such', bogus: 1 }],
        ['organization_create', { name: '' }],
        ['user_create', { name: 'x' }],
        ['api_token_revoke', { nothing: true }],
      ] as const) {
        const anonymous = await ckanapiPost(t, action, body);
        assert.equal(anonymous.status, 403, `${action} anonymous: ${JSON.stringify(anonymous.body)}`);
        assert.equal(anonymous.body.error!.__type, 'Authorization Error');
        assert.deepEqual(Object.keys(anonymous.body.error!).sort(), ['__type', 'code', 'message'], 'no field errors: the schema is not revealed');
      }
      const member = await ckanapiPost(t, 'package_create', { name: 'BAD NAME!', owner_org: 42 }, f.tokens.member);
      assert.equal(member.status, 403, 'a member, who may create no dataset anywhere');
      const malformed = await t.app.request('/api/action/package_create', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{not json' });
      assert.equal(malformed.status, 403, 'not even the body is read');
      assert.equal(await auditCount(t), audited);
    });

    it('a sysadmin and the organisation\'s editors see a deleted dataset with state "deleted"; others do not', async () => {
      assert.equal((await ckanapiPost(t, 'package_create', { name: 'to-delete', owner_org: 'lab' }, f.tokens.editor)).status, 200);
      assert.equal((await ckanapiPost(t, 'package_delete', { id: 'to-delete' }, f.tokens.editor)).status, 200);
      for (const role of ['sysadmin', 'editor', 'admin'] as const) {
        const { status, body } = await ckanapiGet(t, 'package_show', { id: 'to-delete' }, f.tokens[role]);
        assert.equal(status, 200, role);
        assert.equal((body.result as Package).state, 'deleted');
      }
      for (const role of ['anonymous', 'member', 'other'] as const) assert.equal((await ckanapiGet(t, 'package_show', { id: 'to-delete' }, f.tokens[role])).status, 404, role);
    });

    it('extras round-trip as CKAN\'s list of {key, value}', async () => {
      // ckan/logic/schema.py default_extras_schema: key and value; package_show lists them.
      const created = await ckanapiPost(t, 'package_create', { name: 'with-extras', owner_org: 'lab', extras: [{ key: 'spatial', value: 'Dresden' }, { key: 'instrument', value: 'AcCellerator' }] }, f.tokens.editor);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const shown = (await ckanapiGet(t, 'package_show', { id: 'with-extras' })).body.result as Package;
      assert.deepEqual(shown.extras, [{ key: 'instrument', value: 'AcCellerator' }, { key: 'spatial', value: 'Dresden' }]);
      // A client edits the list and sends the whole dict back.
      const edited = { ...shown, extras: [{ key: 'instrument', value: 'AcCellerator II' }, { key: 'spatial', value: 'Dresden' }] };
      const updated = await ckanapiPost(t, 'package_update', edited, f.tokens.editor);
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.deepEqual((updated.body.result as Package).extras, [{ key: 'instrument', value: 'AcCellerator II' }, { key: 'spatial', value: 'Dresden' }]);
      const dropped = await ckanapiPost(t, 'package_update', { ...(updated.body.result as Package), extras: [{ key: 'spatial', value: 'Dresden' }] }, f.tokens.editor);
      assert.deepEqual((dropped.body.result as Package).extras, [{ key: 'spatial', value: 'Dresden' }], 'package_update replaces the list');
    });
  });
}
