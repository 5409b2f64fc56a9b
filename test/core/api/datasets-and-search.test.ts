// Datasets through the API: create, show, update (replace) versus patch (merge), delete,
// resources, schema vetoes and events; and package_search with q, fq, paging, sorting and
// visibility.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { Schema } from '../../../core/plugins/hooks/schema.js';
import { EventObserver } from '../../../core/plugins/hooks/lifecycle.js';
import { DatabaseId } from '../../../core/services/service-ids.js';

interface Dict {
  id: string;
  name: string;
  title: string;
  notes: string;
  private: boolean;
  state: string;
  tags: Array<{ name: string }>;
  license_id: string | null;
  organization: { name: string };
  resources: Array<{ id: string; name: string; position: number }>;
  authors?: string[];
}

for (const kind of databaseKinds()) {
  describe(`datasets and search (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    const created: string[] = [];
    const failingObserverCalls: string[] = [];

    before(async () => {
      t = await startTestHost(kind, {
        plugins: [
          definePlugin({
            name: 'test-schema',
            version: '1.0.0',
            register(ctx) {
              ctx.contribute(Schema, {
                name: 'authors-required-for-dc',
                jsonSchema: (type) => (type === 'dc' ? { type: 'object', properties: { authors: { type: 'array' } } } : undefined),
                validateDataset: ({ dataset }): Record<string, string[]> => (dataset.type === 'dc' && !Array.isArray(dataset.extras.authors) ? { authors: ['Missing value'] } : {}),
              });
              ctx.contribute(EventObserver, { on: { 'dataset.created': () => { failingObserverCalls.push('first'); throw new Error('observer broke'); } } });
              ctx.contribute(EventObserver, { on: { 'dataset.created': ({ dataset }) => void created.push(dataset.name) } });
            },
          }),
        ],
      });
      f = await createApiFixtures(t);
    });
    after(async () => t.close());

    const post = (action: string, input: Record<string, unknown>, role: keyof ApiFixtures['tokens'] = 'editor') => t.call(action, input, { token: f.tokens[role] });

    it('creates a dataset with defaults and returns the CKAN dict', async () => {
      const { status, body } = await post('package_create', { name: 'cells-2026', owner_org: 'lab', tags: ['blood', { name: 'rt-dc' }], license_id: 'CC-BY-4.0' });
      assert.equal(status, 200);
      const d = body.result as Dict;
      assert.equal(d.title, 'cells-2026');
      assert.equal(d.state, 'active');
      assert.equal(d.private, false);
      assert.deepEqual(d.tags.map((x) => x.name), ['blood', 'rt-dc']);
      assert.equal(d.organization.name, 'lab');
      assert.match(body.help ?? '', /help_show\?name=package_create/);
      assert.deepEqual(created, ['cells-2026'], 'observers after the failing one still run');
      assert.deepEqual(failingObserverCalls, ['first']);
      assert.ok(t.logs.some((r) => r.msg === 'observer failed' && r.fields.plugin === 'test-schema'), 'the failing observer is logged with its plugin');
    });

    it('package_update replaces, package_patch merges', async () => {
      await post('package_create', { name: 'semantics', owner_org: 'lab', title: 'T', notes: 'N', tags: ['a'] });
      const patched = (await post('package_patch', { id: 'semantics', notes: 'N2' })).body.result as Dict;
      assert.equal(patched.title, 'T');
      assert.equal(patched.notes, 'N2');
      assert.deepEqual(patched.tags.map((x) => x.name), ['a']);
      const updated = (await post('package_update', { id: 'semantics', title: 'T3' })).body.result as Dict;
      assert.equal(updated.title, 'T3');
      assert.equal(updated.notes, '');
      assert.deepEqual(updated.tags, []);
    });

    it('renames with package_patch and refuses a name in use', async () => {
      await post('package_create', { name: 'old-name', owner_org: 'lab' });
      await post('package_create', { name: 'in-use', owner_org: 'lab' });
      assert.equal((await post('package_patch', { id: 'old-name', name: 'in-use' })).status, 409);
      assert.equal((await post('package_patch', { id: 'old-name', name: 'new-name' })).status, 200);
      assert.equal((await t.call('package_show', { id: 'new-name' }, { method: 'GET' })).status, 200);
      assert.equal((await t.call('package_show', { id: 'old-name' }, { method: 'GET' })).status, 404);
    });

    it('runs schema vetoes on create and update, and accepts the fields a type declares', async () => {
      const missing = await post('package_create', { name: 'dc-no-authors', owner_org: 'lab', type: 'dc' });
      assert.equal(missing.status, 400);
      assert.deepEqual(missing.body.error!.authors, ['Missing value']);
      assert.equal(await t.host.services.get(DatabaseId).models.Dataset.count({ where: { name: 'dc-no-authors' } }), 0);
      const ok = await post('package_create', { name: 'dc-with-authors', owner_org: 'lab', type: 'dc', authors: ['Ada'] });
      assert.equal(ok.status, 200);
      assert.deepEqual((ok.body.result as Dict).authors, ['Ada']);
      assert.equal((await post('package_patch', { id: 'dc-with-authors', authors: 'nobody' })).status, 400);
      assert.equal((await post('package_create', { name: 'plain-with-authors', owner_org: 'lab', authors: ['Ada'] })).status, 400, 'authors is not a field of the default type');
    });

    it('adds, orders, changes and deletes resources', async () => {
      await post('package_create', { name: 'with-files', owner_org: 'lab' });
      const a = (await post('resource_create', { package_id: 'with-files', name: 'a.csv', url: 'https://example.org/a.csv' })).body.result as { id: string; state: string; format: string };
      const b = (await post('resource_create', { package_id: 'with-files', name: 'b.rtdc' })).body.result as { id: string; state: string; format: string };
      assert.equal(a.state, 'active');
      assert.equal(b.state, 'uploading');
      assert.equal(b.format, 'RTDC');
      let d = (await t.call('package_show', { id: 'with-files' }, { method: 'GET' })).body.result as Dict;
      assert.deepEqual(d.resources.map((r) => [r.name, r.position]), [['a.csv', 0], ['b.rtdc', 1]]);
      await post('resource_patch', { id: a.id, description: 'first' });
      await post('resource_delete', { id: b.id });
      d = (await t.call('package_show', { id: 'with-files' }, { method: 'GET' })).body.result as Dict;
      assert.deepEqual(d.resources.map((r) => r.name), ['a.csv']);
      assert.equal((await t.call('resource_show', { id: b.id }, { method: 'GET' })).status, 404);
    });

    it('deletes a dataset: hidden from the public, still visible to its editors', async () => {
      await post('package_create', { name: 'to-delete', owner_org: 'lab' });
      assert.equal((await post('package_delete', { id: 'to-delete' })).status, 200);
      assert.equal((await t.call('package_show', { id: 'to-delete' }, { method: 'GET' })).status, 404);
      assert.equal(((await t.call('package_show', { id: 'to-delete' }, { token: f.tokens.editor, method: 'GET' })).body.result as Dict).state, 'deleted');
      assert.equal((await post('package_patch', { id: 'to-delete', title: 'x' })).status, 404);
    });

    describe('package_search', () => {
      before(async () => {
        const docs: Array<Record<string, unknown>> = [
          { name: 'blood-cells-a', title: 'Blood cells of donors', notes: 'Deformability of erythrocytes', tags: ['haematology'] },
          { name: 'blood-cells-b', title: 'More blood samples', notes: 'Leukocytes', tags: ['haematology', 'control'] },
          { name: 'beads-calibration', title: 'Calibration beads', notes: 'Polystyrene beads for the setup', tags: ['calibration'] },
          { name: 'secret-blood', title: 'Private blood study', notes: 'Not public', private: true },
          { name: 'draft-blood', title: 'Draft blood study', state: 'draft' },
        ];
        for (const doc of docs) assert.equal((await post('package_create', { owner_org: 'lab', ...doc })).status, 200);
        assert.equal((await post('package_create', { name: 'other-blood', owner_org: 'other', title: 'Blood elsewhere' }, 'other')).status, 200);
      });

      const search = async (params: Record<string, unknown>, role: keyof ApiFixtures['tokens'] = 'anonymous') => {
        const { status, body } = await t.call('package_search', params, { token: f.tokens[role], method: 'GET' });
        assert.equal(status, 200, `${JSON.stringify(body)} ${JSON.stringify(t.logs.filter((r) => r.level === 'error').map((r) => r.fields))}`);
        return body.result as { count: number; results: Dict[] };
      };

      it('matches word prefixes in title, notes, tags and name, all words required', async () => {
        assert.deepEqual((await search({ q: 'blood', sort: 'name asc' })).results.map((d) => d.name), ['blood-cells-a', 'blood-cells-b', 'cells-2026', 'other-blood']);
        assert.deepEqual((await search({ q: 'erythro' })).results.map((d) => d.name), ['blood-cells-a']);
        assert.deepEqual((await search({ q: 'haematology control' })).results.map((d) => d.name), ['blood-cells-b']);
        assert.deepEqual((await search({ q: 'calibration' })).results.map((d) => d.name), ['beads-calibration']);
        assert.equal((await search({ q: 'BLOOD Cells' })).count, 3, 'blood-cells-a, blood-cells-b and cells-2026 (tag blood)');
        assert.equal((await search({ q: 'nothing-matches-this' })).count, 0);
        assert.equal((await search({ q: '%' })).count, (await search({})).count, 'LIKE wildcards are not special');
      });

      it('filters on organization, type and state, and shows private and draft datasets only to members', async () => {
        assert.deepEqual((await search({ q: 'blood', fq: 'organization:other' })).results.map((d) => d.name), ['other-blood']);
        assert.equal((await search({ fq: 'type:dc' })).count, 1);
        assert.equal((await search({ q: 'blood', sort: 'name asc' }, 'member')).results.some((d) => d.name === 'secret-blood'), true);
        assert.equal((await search({ q: 'blood' }, 'other')).results.some((d) => d.name === 'secret-blood'), false);
        assert.deepEqual((await search({ fq: 'state:draft' }, 'editor')).results.map((d) => d.name), ['draft-blood']);
        assert.equal((await search({ fq: 'state:draft' })).count, 0);
        assert.equal((await search({ fq: 'state:draft' }, 'other')).count, 0);
      });

      it('pages with rows and start, sorts, and counts all matches', async () => {
        const all = await search({ sort: 'name asc', rows: 100 }, 'sysadmin');
        const first = await search({ sort: 'name asc', rows: 2, start: 0 }, 'sysadmin');
        const second = await search({ sort: 'name asc', rows: 2, start: 2 }, 'sysadmin');
        assert.equal(first.count, all.count);
        assert.deepEqual([...first.results, ...second.results].map((d) => d.name), all.results.slice(0, 4).map((d) => d.name));
        const desc = await search({ sort: 'name desc', rows: 100 }, 'sysadmin');
        assert.deepEqual(desc.results.map((d) => d.name), [...all.results.map((d) => d.name)].reverse());
        assert.equal((await search({ rows: 0 })).results.length, 0);
      });
    });
  });
}
