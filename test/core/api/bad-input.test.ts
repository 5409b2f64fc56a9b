// Bad input gets a precise error with the right status and changes nothing: malformed
// JSON, wrong types, unknown fields, over-long strings, names that are not slugs,
// duplicates (409), oversized bodies (413), unknown actions (404 with close names), writes
// sent as GET, fields whose names collide with the error envelope, numbers out of range.
// Every case checks that no row anywhere changed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, tableCounts, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { DatabaseId } from '../../../core/services/service-ids.js';

for (const kind of databaseKinds()) {
  describe(`bad input (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let counts: () => Promise<Record<string, number>>;

    async function raw(action: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; body: { success: boolean; error: Record<string, unknown> & { __type: string; message: string } } }> {
      const response = await t.app.request(`/api/3/action/${action}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: f.tokens.editor, ...headers }, body });
      return { status: response.status, body: (await response.json()) as { success: boolean; error: Record<string, unknown> & { __type: string; message: string } } };
    }

    before(async () => {
      t = await startTestHost(kind, { extraConfig: '[http]\nmax_body_bytes = 4096\n' });
      f = await createApiFixtures(t);
      counts = () => tableCounts(t);
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

    it('over-long names, tags and resource names name their limit', async () => {
      const before = await counts();
      const long = await t.call('package_create', { name: 'a'.repeat(101), owner_org: 'lab', tags: ['x'.repeat(101)] }, { token: f.tokens.editor });
      assert.equal(long.status, 400);
      assert.match(String(long.body.error!.name), /101 characters long; use at most 100/);
      assert.match(String(long.body.error!.tags), /1 to 100 letters/);
      const many = await t.call('package_create', { name: 'many-tags', owner_org: 'lab', tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }, { token: f.tokens.editor });
      assert.match(String(many.body.error!.tags), /has 101 tags; the limit is 100/);
      await t.call('package_create', { name: 'for-long-resources', owner_org: 'lab' }, { token: f.tokens.editor });
      const mid = await counts();
      const resource = await t.call('resource_create', { package_id: 'for-long-resources', name: 'r'.repeat(256) }, { token: f.tokens.editor });
      assert.equal(resource.status, 400);
      assert.match(String(resource.body.error!.name), /256 characters long; the limit is 255/);
      assert.deepEqual(await counts(), mid);
      assert.equal(mid.datasets, before.datasets! + 1);
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

    it('a body that is not JSON at all, or empty, or null: a precise 400', async () => {
      const before = await counts();
      const form = await raw('package_create', 'name=x&owner_org=lab', { 'content-type': 'application/x-www-form-urlencoded' });
      assert.equal(form.status, 415);
      assert.match(form.body.error.message, /must be JSON \(Content-Type: application\/json\), not application\/x-www-form-urlencoded/);
      const empty = await raw('package_create', '');
      assert.equal(empty.status, 400);
      assert.deepEqual(empty.body.error.name, ['Missing value'], 'an empty body is an empty dict');
      assert.match((await raw('package_create', 'null')).body.error.message, /must be a JSON object/);
      assert.match((await raw('package_create', '{"name": "x"} trailing')).body.error.message, /not valid JSON/);
      assert.deepEqual(await counts(), before);
    });

    it('fields named like the error envelope do not corrupt it', async () => {
      const before = await counts();
      for (const field of ['message', '__type', 'help', 'success']) {
        const { status, body } = await t.call('package_create', { name: `envelope-${field.replace(/_/g, '')}`, owner_org: 'lab', [field]: 'x' }, { token: f.tokens.editor });
        assert.equal(status, 400, field);
        assert.equal(body.success, false, field);
        assert.equal(body.error!.__type, 'Validation Error', field);
        assert.equal(typeof body.error!.message, 'string', field);
        assert.match(JSON.stringify(body.error), new RegExp(`${field}.*unknown field`), `${field} is still reported`);
      }
      assert.deepEqual(await counts(), before);
    });

    it('identifiers of the wrong type are named as such', async () => {
      const show = await t.call('package_show', { id: 5 }, { token: f.tokens.editor });
      assert.equal(show.status, 400);
      assert.deepEqual(show.body.error!.id, ['must be string']);
      const before = await counts();
      const patch = await t.call('package_patch', { id: 5, title: 'x' }, { token: f.tokens.editor });
      assert.equal(patch.status, 400);
      assert.match(String(patch.body.error!.id), /must be a string/);
      const resource = await t.call('resource_create', { package_id: ['a'], name: 'a.csv' }, { token: f.tokens.editor });
      assert.equal(resource.status, 400);
      assert.match(String(resource.body.error!.package_id), /must be a string/);
      const patchResource = await t.call('resource_patch', { id: { x: 1 } }, { token: f.tokens.editor });
      assert.equal(patchResource.status, 400);
      assert.match(String(patchResource.body.error!.id), /must be a string/);
      assert.deepEqual(await counts(), before);
    });

    it('extras that would shadow core fields, or that are malformed, are refused', async () => {
      const before = await counts();
      const { status, body } = await t.call('package_create', { name: 'shadowing', owner_org: 'lab', extras: [{ key: 'owner_org', value: 'other' }, { key: '__proto__', value: { polluted: true } }, { value: 'no key' }] }, { token: f.tokens.editor });
      assert.equal(status, 400);
      const messages = (body.error!.extras as string[]).join(' | ');
      assert.match(messages, /"owner_org" is a core field/);
      assert.match(messages, /"__proto__"/);
      assert.match(messages, /item 2 needs a "key" string/);
      assert.deepEqual(await counts(), before);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    it('numbers out of range are refused, not passed to the database', async () => {
      for (const input of [{ limit: -1 }, { offset: -5 }, { limit: '99999999999999999999' }, { offset: 1.5 }]) {
        const { status, body } = await t.call('package_list', input);
        assert.equal(status, 400, `${JSON.stringify(input)}: ${JSON.stringify(body)}`);
        assert.equal(body.error!.__type, 'Validation Error');
      }
      for (const input of [{ start: -1 }, { rows: -1 }, { start: '1e3' }, { rows: 2.5 }]) {
        assert.equal((await t.call('package_search', input)).status, 400, JSON.stringify(input));
      }
      const before = await counts();
      for (const expires of [0, -1, 3651, 1.5, '30']) {
        const { status, body } = await t.call('api_token_create', { user: 'editor-user', name: 'bad expiry', expires_days: expires }, { token: f.tokens.editor });
        assert.equal(status, 400, `expires_days ${JSON.stringify(expires)}`);
        assert.ok(body.error!.expires_days, JSON.stringify(body));
      }
      assert.deepEqual(await counts(), before);
    });

    it('users, organisations and members: every problem named, passwords never echoed', async () => {
      const before = await counts();
      const user = await t.call('user_create', { name: 'Bad Name', email: 'not-an-email', password: 'Xq9-pw' }, { token: f.tokens.sysadmin });
      assert.equal(user.status, 400);
      assert.match(String(user.body.error!.name), /not a valid name/);
      assert.match(String(user.body.error!.email), /"not-an-email" is not an email address/);
      assert.match(String(user.body.error!.password), /at least 10 characters/);
      assert.equal(JSON.stringify(user.body).includes('Xq9-pw'), false, 'the password is not repeated');
      const duplicate = await t.call('user_create', { name: 'editor-user', email: 'e@example.org', password: 'a-long-password' }, { token: f.tokens.sysadmin });
      assert.equal(duplicate.status, 409);
      assert.ok(duplicate.body.error!.name);
      const org = await t.call('organization_create', { name: 'x', title: 't'.repeat(201) }, { token: f.tokens.sysadmin });
      assert.equal(org.status, 400);
      assert.ok(org.body.error!.title, JSON.stringify(org.body));
      assert.match(String((await t.call('organization_create', { name: 'Upper' }, { token: f.tokens.sysadmin })).body.error!.name), /lowercase letters, digits, - and _/);
      const member = await t.call('organization_member_create', { id: 'lab', username: 'nobody-at-all', role: 'member' }, { token: f.tokens.admin });
      assert.equal(member.status, 400);
      assert.match(String(member.body.error!.username), /user "nobody-at-all" does not exist/);
      assert.equal((await t.call('organization_member_delete', { id: 'lab', username: 'other-user' }, { token: f.tokens.admin })).status, 404, 'not a member');
      assert.deepEqual(await counts(), before);
    });

    it('unknown actions: 404 with close names, whatever the method or body', async () => {
      const british = await t.call('organisation_show', { id: 'lab' }, { method: 'GET' });
      assert.equal(british.status, 404);
      assert.equal(british.body.error!.__type, 'Not Found Error');
      assert.ok((british.body.error!.suggestions as string[]).includes('organization_show'));
      const nothing = await t.call('frobnicate_everything', {});
      assert.equal(nothing.status, 404);
      assert.deepEqual(nothing.body.error!.suggestions, []);
      assert.match(nothing.body.error!.message, /action "frobnicate_everything" not found/);
      const big = await raw('pakage_create', JSON.stringify({ notes: 'x'.repeat(10_000) }));
      assert.equal(big.status, 404, 'the name is checked before the body is read');
    });

    it('the body limit is exact and configurable: a body at the limit passes', async () => {
      const limit = 4096;
      const base = JSON.stringify({ name: 'at-the-limit', owner_org: 'lab', notes: '' });
      const fits = JSON.stringify({ name: 'at-the-limit', owner_org: 'lab', notes: 'x'.repeat(limit - base.length) });
      assert.equal(Buffer.byteLength(fits), limit);
      assert.equal((await raw('package_create', fits)).status, 200);
      const over = JSON.stringify({ name: 'over-the-limit', owner_org: 'lab', notes: 'x'.repeat(limit - base.length + 1) });
      const before = await counts();
      const refused = await raw('package_create', over);
      assert.equal(refused.status, 413);
      assert.match(refused.body.error.message, /exceeds the limit of 4096 bytes/);
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
