// Datasets through the action API: create with defaults, show, update (replace) versus
// patch (merge), the package_show -> package_update round trip CKAN clients rely on,
// renames and moves, schema vetoes and events, visibility of private and draft datasets,
// resources (create, order, update, patch, delete) and deleted datasets.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures, type Role } from '../../helpers/api-fixtures.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { Schema } from '../../../core/plugins/hooks/schema.js';
import { EventObserver } from '../../../core/plugins/hooks/lifecycle.js';
import { DatabaseId } from '../../../core/services/service-ids.js';

interface ResourceDict {
  id: string;
  package_id: string;
  name: string;
  format: string;
  description: string;
  url: string;
  state: string;
  position: number;
}

interface Dict {
  id: string;
  name: string;
  title: string;
  notes: string;
  type: string;
  owner_org: string;
  private: boolean;
  state: string;
  tags: Array<{ name: string }>;
  license_id: string | null;
  organization: { name: string };
  resources: ResourceDict[];
  num_resources: number;
  metadata_created: string;
  metadata_modified: string;
  authors?: string[];
  [extra: string]: unknown;
}

for (const kind of databaseKinds()) {
  describe(`datasets (${kind})`, () => {
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

    const post = (action: string, input: Record<string, unknown>, role: Role = 'editor') => t.call(action, input, { token: f.tokens[role] });
    const show = async (id: string, role: Role = 'editor'): Promise<Dict> => {
      const { status, body } = await t.call('package_show', { id }, { token: f.tokens[role], method: 'GET' });
      assert.equal(status, 200, JSON.stringify(body));
      return body.result as Dict;
    };
    const create = async (input: Record<string, unknown>, role: Role = 'editor'): Promise<Dict> => {
      const { status, body } = await post('package_create', { owner_org: 'lab', ...input }, role);
      assert.equal(status, 200, JSON.stringify(body));
      return body.result as Dict;
    };
    const addResource = async (input: Record<string, unknown>): Promise<ResourceDict> => {
      const { status, body } = await post('resource_create', input);
      assert.equal(status, 200, JSON.stringify(body));
      return body.result as ResourceDict;
    };

    it('creates a dataset with defaults and returns the CKAN dict', async () => {
      const { status, body } = await post('package_create', { name: 'cells-2026', owner_org: 'lab', tags: ['blood', { name: 'rt-dc' }, 'blood'], license_id: 'CC-BY-4.0' });
      assert.equal(status, 200);
      assert.equal(body.success, true);
      const d = body.result as Dict;
      assert.equal(d.title, 'cells-2026', 'the title defaults to the name');
      assert.equal(d.notes, '');
      assert.equal(d.type, 'dataset');
      assert.equal(d.state, 'active');
      assert.equal(d.private, false);
      assert.equal(d.license_id, 'CC-BY-4.0');
      assert.deepEqual(d.tags.map((x) => x.name), ['blood', 'rt-dc'], 'tags as strings or dicts, without duplicates');
      assert.equal(d.organization.name, 'lab');
      assert.equal(d.owner_org, f.orgs.lab);
      assert.deepEqual(d.resources, []);
      assert.equal(d.num_resources, 0);
      assert.equal(d.metadata_created, d.metadata_modified);
      assert.match(body.help ?? '', /help_show\?name=package_create/);
      assert.deepEqual(await show(d.id, 'anonymous'), await show('cells-2026', 'anonymous'), 'shown by id or by name alike');
      assert.deepEqual(created, ['cells-2026'], 'observers after the failing one still run');
      assert.deepEqual(failingObserverCalls, ['first']);
      assert.ok(t.logs.some((r) => r.msg === 'observer failed' && r.fields.plugin === 'test-schema'), 'the failing observer is logged with its plugin');
    });

    it('package_update replaces: fields not given go back to their defaults, but privacy, organisation and state stay', async () => {
      await create({ name: 'replaced', title: 'T', notes: 'N', tags: ['a'], license_id: 'CC0-1.0', private: true });
      const updated = (await post('package_update', { id: 'replaced', title: 'T3' })).body.result as Dict;
      assert.equal(updated.title, 'T3');
      assert.equal(updated.notes, '');
      assert.deepEqual(updated.tags, []);
      assert.equal(updated.license_id, null);
      assert.equal(updated.private, true, 'an update that does not mention privacy never publishes a private dataset');
      assert.equal(updated.organization.name, 'lab');
      assert.equal(updated.state, 'active');
      const untitled = (await post('package_update', { id: 'replaced' })).body.result as Dict;
      assert.equal(untitled.title, 'replaced', 'the title resets to the name');
      assert.equal((await post('package_update', { id: 'replaced', private: false })).status, 200);
      assert.equal((await show('replaced', 'anonymous')).private, false, 'made public when asked');
    });

    it('package_patch merges: only the fields given change', async () => {
      const before = await create({ name: 'merged', title: 'T', notes: 'N', tags: ['a'], license_id: 'CC0-1.0' });
      const patched = (await post('package_patch', { id: 'merged', notes: 'N2' })).body.result as Dict;
      assert.equal(patched.title, 'T');
      assert.equal(patched.notes, 'N2');
      assert.deepEqual(patched.tags.map((x) => x.name), ['a']);
      assert.equal(patched.license_id, 'CC0-1.0');
      assert.equal(patched.metadata_created, before.metadata_created);
      assert.ok(patched.metadata_modified >= before.metadata_modified);
      assert.equal((await post('package_patch', { id: 'merged', tags: [] })).status, 200);
      assert.deepEqual((await show('merged')).tags, [], 'an empty list clears');
      assert.equal(((await post('package_patch', { id: 'merged', license_id: null })).body.result as Dict).license_id, null, 'null clears the licence');
    });

    it('takes back what package_show gave: the CKAN round trip', async () => {
      await create({ name: 'round-trip', title: 'Round', notes: 'Trip', tags: ['x'], license_id: 'CC0-1.0', extras: [{ key: 'instrument', value: 'AcCellerator' }] });
      await addResource({ package_id: 'round-trip', name: 'a.csv', url: 'https://example.org/a.csv' });
      const shown = await show('round-trip');
      assert.equal(shown.instrument, 'AcCellerator', 'free extras appear at the top level');
      const { status, body } = await post('package_update', { ...shown, title: 'Round 2' });
      assert.equal(status, 200, JSON.stringify(body));
      const after = await show('round-trip');
      assert.equal(after.title, 'Round 2');
      assert.deepEqual({ ...after, title: 'Round', metadata_modified: '' }, { ...shown, metadata_modified: '' }, 'nothing else changed');
      const patched = await post('package_patch', { ...after, notes: 'Trip 2' });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.deepEqual((await show('round-trip')).resources.map((r) => r.name), ['a.csv'], 'resources sent back unchanged are kept');
      // As CKAN's package_update: the list given is the dataset's resources afterwards.
      const emptied = await post('package_update', { ...after, resources: [] });
      assert.equal(emptied.status, 200, JSON.stringify(emptied.body));
      assert.deepEqual((await show('round-trip')).resources, [], 'resources left out of the list are deleted');
    });

    it('renames, refuses a name in use, and identifies by name when no id is given', async () => {
      await create({ name: 'old-name' });
      await create({ name: 'in-use' });
      const clash = await post('package_patch', { id: 'old-name', name: 'in-use' });
      assert.equal(clash.status, 409);
      assert.deepEqual(clash.body.error!.name, ['That URL is already in use.']);
      assert.equal((await post('package_patch', { id: 'old-name', name: 'new-name' })).status, 200);
      assert.equal((await show('new-name')).name, 'new-name');
      assert.equal((await t.call('package_show', { id: 'old-name' }, { method: 'GET' })).status, 404);
      assert.equal(((await post('package_patch', { name: 'new-name', title: 'By name' })).body.result as Dict).title, 'By name');
      assert.equal((await post('package_patch', { id: 'new-name', name: 'Bad Name' })).status, 400);
    });

    it('moves a dataset only to an organisation where the caller may edit', async () => {
      await create({ name: 'mover' });
      const refused = await post('package_patch', { id: 'mover', owner_org: 'other' });
      assert.equal(refused.status, 403);
      assert.equal((await show('mover')).organization.name, 'lab');
      const missing = await post('package_patch', { id: 'mover', owner_org: 'nowhere' });
      assert.equal(missing.status, 400);
      assert.match(String(missing.body.error!.owner_org), /organization "nowhere" does not exist/);
      assert.equal((await post('package_patch', { id: 'mover', owner_org: 'other' }, 'sysadmin')).status, 200);
      assert.equal((await show('mover', 'sysadmin')).organization.name, 'other');
      assert.equal((await post('package_patch', { id: 'mover', notes: 'x' })).status, 403, 'lab editors lose it with the move');
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
      assert.deepEqual((await show('dc-with-authors')).authors, ['Ada'], 'the vetoed patch changed nothing');
      assert.equal((await post('package_update', { id: 'dc-with-authors', title: 'no authors now' })).status, 400, 'update resets authors, which the schema requires');
      assert.equal((await post('package_patch', { id: 'dc-with-authors', type: 'dataset' })).status, 400, 'the type cannot change');
      assert.equal((await post('package_create', { name: 'plain-with-authors', owner_org: 'lab', authors: ['Ada'] })).status, 400, 'authors is not a field of the default type');
    });

    it('shows private and draft datasets to their organisation only, and lists only public active ones', async () => {
      await create({ name: 'hidden', private: true });
      await create({ name: 'unfinished', state: 'draft' });
      for (const name of ['hidden', 'unfinished']) {
        assert.equal((await show(name, 'member')).name, name);
        assert.equal((await show(name, 'sysadmin')).name, name);
        assert.equal((await t.call('package_show', { id: name }, { method: 'GET' })).status, 404);
        assert.equal((await t.call('package_show', { id: name }, { method: 'GET', token: f.tokens.other })).status, 404);
      }
      const listed = (await t.call('package_list', {}, { method: 'GET', token: f.tokens.sysadmin })).body.result as string[];
      assert.ok(listed.includes('cells-2026'));
      assert.equal(listed.includes('hidden') || listed.includes('unfinished'), false);
      assert.deepEqual(listed, [...listed].sort(), 'sorted by name');
      const page = (await t.call('package_list', { limit: 2, offset: 1 }, { method: 'GET' })).body.result as string[];
      assert.deepEqual(page, listed.slice(1, 3));
      const activated = await post('package_patch', { id: 'unfinished', state: 'active' });
      assert.equal(activated.status, 200);
      assert.equal((await show('unfinished', 'anonymous')).state, 'active');
    });

    it('adds, orders, changes and deletes resources', async () => {
      await create({ name: 'with-files' });
      const a = await addResource({ package_id: 'with-files', name: 'a.csv', url: 'https://example.org/a.csv' });
      const b = await addResource({ package_id: 'with-files', name: 'b.rtdc' });
      assert.equal(a.state, 'active', 'a link is active at once');
      assert.equal(a.format, 'CSV');
      assert.equal(b.state, 'uploading', 'a file waits for its upload');
      assert.equal(b.format, 'RTDC');
      assert.equal(b.package_id, (await show('with-files')).id);
      let d = await show('with-files');
      assert.deepEqual(d.resources.map((r) => [r.name, r.position]), [['a.csv', 0], ['b.rtdc', 1]]);
      assert.equal(d.num_resources, 2);
      const patched = (await post('resource_patch', { id: a.id, description: 'first' })).body.result as ResourceDict;
      assert.equal(patched.description, 'first');
      assert.equal(patched.format, 'CSV');
      const updated = (await post('resource_update', { id: a.id, name: 'a.tsv' })).body.result as ResourceDict;
      assert.equal(updated.description, '', 'resource_update resets what it is not given');
      assert.equal(updated.format, 'TSV');
      assert.equal(updated.url, 'https://example.org/a.csv', 'the link stays');
      assert.equal((await post('resource_delete', { id: b.id })).status, 200);
      d = await show('with-files');
      assert.deepEqual(d.resources.map((r) => r.name), ['a.tsv']);
      assert.equal((await t.call('resource_show', { id: b.id }, { method: 'GET' })).status, 404);
      assert.equal((await post('resource_patch', { id: b.id, description: 'gone' })).status, 404);
      const c = await addResource({ package_id: 'with-files', name: 'c.csv' });
      d = await show('with-files');
      assert.deepEqual(d.resources.map((r) => r.name), ['a.tsv', 'c.csv']);
      assert.equal(new Set(d.resources.map((r) => r.position)).size, 2, `positions stay unique after a deletion: ${JSON.stringify(d.resources.map((r) => r.position))}`);
      assert.equal(((await t.call('resource_show', { id: c.id }, { method: 'GET' })).body.result as ResourceDict).name, 'c.csv');
    });

    it('keeps resource positions unique and in order after deleting the first one', async () => {
      await create({ name: 'reordered' });
      const first = await addResource({ package_id: 'reordered', name: 'first.csv' });
      await addResource({ package_id: 'reordered', name: 'second.csv' });
      assert.equal((await post('resource_delete', { id: first.id })).status, 200);
      await addResource({ package_id: 'reordered', name: 'third.csv' });
      const resources = (await show('reordered')).resources;
      assert.deepEqual(resources.map((r) => r.name), ['second.csv', 'third.csv']);
      assert.ok(resources[0]!.position < resources[1]!.position, `positions ${JSON.stringify(resources.map((r) => r.position))}`);
    });

    it('hides the resources of private datasets with their dataset', async () => {
      await create({ name: 'private-files', private: true });
      const r = await addResource({ package_id: 'private-files', name: 'secret.csv', url: 'https://example.org/secret.csv' });
      assert.equal((await t.call('resource_show', { id: r.id }, { method: 'GET' })).status, 404);
      assert.equal((await t.call('resource_show', { id: r.id }, { method: 'GET', token: f.tokens.member })).status, 200);
      assert.equal((await t.call('resource_show', { id: 'not-a-uuid' }, { method: 'GET' })).status, 404);
    });

    it('deletes a dataset: gone for the public and members, kept for its editors, frozen, its name still taken', async () => {
      const d = await create({ name: 'to-delete' });
      const r = await addResource({ package_id: 'to-delete', name: 'kept.csv', url: 'https://example.org/kept.csv' });
      assert.equal((await post('package_delete', { id: 'to-delete' })).status, 200);
      assert.equal((await t.call('package_show', { id: 'to-delete' }, { method: 'GET' })).status, 404);
      assert.equal((await t.call('package_show', { id: 'to-delete' }, { method: 'GET', token: f.tokens.member })).status, 404);
      const kept = await show('to-delete', 'editor');
      assert.equal(kept.state, 'deleted');
      assert.deepEqual(kept.resources.map((x) => x.name), ['kept.csv']);
      assert.equal((await post('package_patch', { id: 'to-delete', title: 'x' })).status, 404);
      assert.equal((await post('package_update', { id: d.id, title: 'x' })).status, 404);
      assert.equal((await post('package_patch', { id: 'to-delete', state: 'active' })).status, 404, 'no undelete by patch');
      assert.equal((await post('resource_create', { package_id: 'to-delete', name: 'new.csv' })).status, 404);
      assert.equal((await post('resource_patch', { id: r.id, description: 'x' })).status, 404, 'resources of a deleted dataset are frozen too');
      assert.equal((await post('resource_update', { id: r.id, name: 'x.csv' })).status, 404);
      assert.equal((await post('resource_delete', { id: r.id })).status, 404);
      assert.equal((await show('to-delete', 'editor')).resources[0]!.description, '');
      assert.equal((await post('package_delete', { id: 'to-delete' })).status, 200, 'deleting twice is harmless');
      const again = await post('package_create', { name: 'to-delete', owner_org: 'lab' });
      assert.equal(again.status, 409, 'the name stays taken until the dataset is purged');
      assert.equal(((await t.call('package_list', {}, { method: 'GET' })).body.result as string[]).includes('to-delete'), false);
    });

    it('answers package_show reads that arrive together with one statement, each with its own dataset and permissions', async () => {
      const made = await Promise.all(Array.from({ length: 5 }, (_, i) => create({ name: `together-${i}`, title: `Together ${i}` })));
      await addResource({ package_id: 'together-1', name: 'one.csv', url: 'https://example.org/one.csv' });
      await create({ name: 'together-private', private: true });
      const db = t.host.services.get(DatabaseId);
      const statements: string[] = [];
      const preparedRead = db.preparedRead.bind(db);
      db.preparedRead = (sql, values, transaction) => {
        if (/FROM datasets d WHERE/.test(sql)) statements.push(sql);
        return preparedRead(sql, values, transaction);
      };
      try {
        // Anonymous reads of names nobody read before: all of them cache misses.
        // Keys no dataset can have (a NUL byte, quotes, a list literal) are simply not found
        // and fail nothing else.
        const anonymous = ['together-0', 'together-1', 'together-2', 'together-1', 'no-such-dataset', 'together-private', made[3]!.id.toUpperCase(), 'together-0\u0000', '"NULL"', '{together-1,together-2}', 'null'];
        const answers = await Promise.all(anonymous.map((id) => t.call('package_show', { id }, { method: 'POST' })));
        // A NUL byte in the key is refused by the shared text rule (400) before any lookup.
        assert.deepEqual(answers.map((a) => a.status), [200, 200, 200, 200, 404, 404, 200, 400, 404, 404, 404], JSON.stringify(answers.map((a) => a.body.error?.message)));
        assert.deepEqual(answers.map((a) => (a.body.result as Dict | undefined)?.title), ['Together 0', 'Together 1', 'Together 2', 'Together 1', undefined, undefined, 'Together 3', undefined, undefined, undefined, undefined]);
        assert.deepEqual((answers[1]!.body.result as Dict).resources.map((r) => r.name), ['one.csv']);
        assert.deepEqual((answers[0]!.body.result as Dict).resources, []);
        assert.match(answers[5]!.body.error!.message, /"together-private" not found/);
        assert.equal(statements.length, 2, 'seven reads, one statement by name and one by id');
        assert.notEqual(statements[0], statements[1]);
        // Logged in, together: the private dataset for its organisation only.
        const roles: Role[] = ['member', 'other', 'sysadmin', 'anonymous', 'editor'];
        const privateReads = await Promise.all(roles.map((role) => t.call('package_show', { id: 'together-private' }, { method: 'GET', token: f.tokens[role] })));
        assert.deepEqual(privateReads.map((a) => a.status), [200, 404, 200, 404, 200]);
        assert.ok(statements.length < 2 + roles.length, `${statements.length} statements for ${roles.length} reads`);
      } finally {
        db.preparedRead = preparedRead;
      }
    });

    it('creates one dataset when the same name is sent many times at once', async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, () => post('package_create', { name: 'raced', owner_org: 'lab' })));
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409], JSON.stringify(answers.map((a) => a.body.error)));
      for (const answer of answers.filter((a) => a.status === 409)) assert.match(answer.body.error!.message, /"raced" is already in use/);
      assert.equal(await t.host.services.get(DatabaseId).models.Dataset.count({ where: { name: 'raced' } }), 1);
    });

    // Before writers queued inside the process, eight at once on SQLite stalled for the 30 s
    // busy timeout (waiting writers held every libuv thread); the limit only catches that.
    it('takes many writes at once without stalling', { timeout: 15_000 }, async () => {
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => post('package_create', { name: `burst-${i}`, owner_org: 'lab' })));
      assert.deepEqual(answers.map((a) => a.status), Array(8).fill(200), JSON.stringify(answers.map((a) => a.body.error)));
    });
  });
}
