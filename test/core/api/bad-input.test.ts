// Bad input gets a precise error with the right status and changes nothing: malformed
// JSON, wrong types, unknown fields, over-long strings, names that are not slugs,
// duplicates (409), oversized bodies (413), unknown actions (404 with close names), writes
// sent as GET.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { DatabaseId } from '../../../core/services/service-ids.js';

for (const kind of databaseKinds()) {
  describe(`bad input (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let counts: () => Promise<{ datasets: number; audit: number }>;

    async function raw(action: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; body: { success: boolean; error: Record<string, unknown> & { __type: string; message: string } } }> {
      const response = await t.app.request(`/api/3/action/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: f.tokens.editor, ...headers }, body });
      return { status: response.status, body: (await response.json()) as { success: boolean; error: Record<string, unknown> & { __type: string; message: string } } };
    }

    before(async () => {
      t = await startTestHost(kind, { extraConfig: '[http]\nmax_body_bytes = 4096\n' });
      f = await createApiFixtures(t);
      const db = t.host.services.get(DatabaseId);
      counts = async () => ({ datasets: await db.models.Dataset.count(), audit: await db.models.AuditEvent.count() });
    });
    after(async () => t.close());

    it('malformed JSON: 400 with the parser message, nothing written', async () => {
      const before = await counts();
      const { status, body } = await raw('package_create', '{"name": "x", ');
      assert.equal(status, 400);
      assert.equal(body.error.__type, 'Validation Error');
      assert.match(body.error.message, /not valid JSON/);
      assert.deepEqual(await counts(), before);
    });

    it('a JSON body that is not an object: 400', async () => {
      assert.match((await raw('package_create', '["a"]')).body.error.message, /must be a JSON object/);
      assert.match((await raw('package_create', '"text"')).body.error.message, /must be a JSON object/);
    });

    it('wrong types, unknown fields, over-long strings and bad slugs: every problem at once', async () => {
      const before = await counts();
      const { status, body } = await t.call('package_create', { name: 'Not A Slug!', owner_org: 'lab', title: 'x'.repeat(301), private: 'maybe', tags: 'one', colour: 'red', notse: 'typo' }, { token: f.tokens.editor });
      assert.equal(status, 400);
      assert.match(String(body.error!.name), /not a valid name/);
      assert.match(String(body.error!.title), /301 characters long; the limit is 300/);
      assert.match(String(body.error!.private), /true or false/);
      assert.match(String(body.error!.tags), /must be a list/);
      assert.match(String(body.error!.colour), /unknown field/);
      assert.match(String(body.error!.notse), /unknown field; did you mean "notes"/);
      assert.deepEqual(await counts(), before);
    });

    it('missing required fields are named', async () => {
      const { status, body } = await t.call('package_create', { title: 'No name' }, { token: f.tokens.editor });
      assert.equal(status, 400);
      assert.deepEqual(body.error!.name, ['Missing value']);
      assert.deepEqual(body.error!.owner_org, ['Missing value']);
    });

    it('input schemas of actions reject unknown and mistyped parameters', async () => {
      const { status, body } = await t.call('organization_member_create', { id: 'lab', username: 'member-user', role: 'boss', extra: 1 }, { token: f.tokens.admin });
      assert.equal(status, 400);
      assert.match(String(body.error!.role), /must be one of "member", "editor", "admin"/);
      assert.deepEqual(body.error!.extra, ['unknown field']);
    });

    it('duplicate names: 409 with the field, and the first stays intact', async () => {
      assert.equal((await t.call('package_create', { name: 'taken', owner_org: 'lab', title: 'First' }, { token: f.tokens.editor })).status, 200);
      const before = await counts();
      const { status, body } = await t.call('package_create', { name: 'taken', owner_org: 'lab', title: 'Second' }, { token: f.tokens.editor });
      assert.equal(status, 409);
      assert.ok(Array.isArray(body.error!.name));
      assert.deepEqual(await counts(), before);
      assert.equal(((await t.call('package_show', { id: 'taken' }, { token: f.tokens.editor })).body.result as { title: string }).title, 'First');
      assert.equal((await t.call('organization_create', { name: 'lab' }, { token: f.tokens.sysadmin })).status, 409);
    });

    it('oversized bodies: 413, also when sent without Content-Length', async () => {
      const big = JSON.stringify({ name: 'big', owner_org: 'lab', notes: 'x'.repeat(10_000) });
      const declared = await raw('package_create', big);
      assert.equal(declared.status, 413);
      assert.equal(declared.body.error.__type, 'Request Entity Too Large');
      const stream = new ReadableStream<Uint8Array>({ start(controller) { controller.enqueue(new TextEncoder().encode(big)); controller.close(); } });
      const response = await t.app.request('/api/3/action/package_create', { method: 'POST', headers: { 'content-type': 'application/json', authorization: f.tokens.editor }, body: stream, duplex: 'half' } as RequestInit);
      assert.equal(response.status, 413);
    });

    it('unknown actions: 404 with the close names', async () => {
      const { status, body } = await t.call('pakage_show', { id: 'x' }, { method: 'GET' });
      assert.equal(status, 404);
      assert.deepEqual(body.error!.suggestions, ['package_show']);
      assert.match(body.error!.message, /did you mean "package_show"/);
    });

    it('writes sent as GET: 400, nothing written', async () => {
      const before = await counts();
      const { status, body } = await t.call('package_create', { name: 'via-get', owner_org: 'lab' }, { method: 'GET', token: f.tokens.editor });
      assert.equal(status, 400);
      assert.match(body.error!.message, /send it as POST/);
      assert.deepEqual(await counts(), before);
    });

    it('bad search parameters: 400 naming the parameter', async () => {
      assert.match(String((await t.call('package_search', { rows: 'many' }, { method: 'GET' })).body.error!.rows), /whole number/);
      assert.match(String((await t.call('package_search', { sort: 'colour asc' }, { method: 'GET' })).body.error!.sort), /cannot sort by "colour asc"/);
      assert.match(String((await t.call('package_search', { fq: 'colour:red' }, { method: 'GET' })).body.error!.fq), /unknown field "colour"/);
      assert.equal((await t.call('package_search', { rows: '5000' }, { method: 'GET' })).status, 400);
    });

    it('a resource with a bad URL or no name: 400, nothing written', async () => {
      await t.call('package_create', { name: 'for-resources', owner_org: 'lab' }, { token: f.tokens.editor });
      const before = await counts();
      const { status, body } = await t.call('resource_create', { package_id: 'for-resources', url: 'javascript:alert(1)' }, { token: f.tokens.editor });
      assert.equal(status, 400);
      assert.deepEqual(body.error!.name, ['Missing value']);
      assert.match(String(body.error!.url), /http or https/);
      assert.deepEqual(await counts(), before);
    });

    it('an internal failure answers 500 with a request id and no details', async () => {
      const db = t.host.services.get(DatabaseId);
      // Last test of the suite: the table stays dropped.
      await db.sequelize.query('DROP TABLE audit_events');
      {
        const response = await t.app.request('/api/3/action/package_create', { method: 'POST', headers: { 'content-type': 'application/json', authorization: f.tokens.editor }, body: JSON.stringify({ name: 'breaks', owner_org: 'lab' }) });
        assert.equal(response.status, 500);
        const body = (await response.json()) as { error: { message: string } };
        assert.match(body.error.message, new RegExp(`request id ${response.headers.get('x-request-id')}`));
        assert.doesNotMatch(body.error.message, /audit_events|SQL|sqlite|relation/i);
        assert.equal(await db.models.Dataset.count({ where: { name: 'breaks' } }), 0, 'the transaction rolled back');
      }
    });
  });
}
