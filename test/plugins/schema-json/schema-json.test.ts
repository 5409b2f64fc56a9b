// schema-json through the action API: the dc type's fields and rules with CKAN-style
// field errors (every problem at once), normalised DOIs and references, resource names,
// activation, the lifecycle rules, extra types from a directory, and schema_show.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { DatabaseId } from '../../../core/services/service-ids.js';

interface Dict {
  id: string;
  state: string;
  doi?: string;
  references?: string[];
  authors?: string[];
  license_id?: string;
  resources: Array<{ id: string; name: string }>;
}

for (const kind of databaseKinds()) {
  describe(`schema-json (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let n = 0;
    const post = (action: string, input: Record<string, unknown>) => t.call(action, input, { token: f.tokens.editor });
    const dc = (extra: Record<string, unknown> = {}) => ({ name: `dc-${++n}`, owner_org: 'lab', type: 'dc', state: 'draft', authors: ['Ada Lovelace'], license_id: 'CC-BY-4.0', ...extra });

    /** A draft with one active .rtdc resource (as if its check had passed). */
    async function readyDraft(extra: Record<string, unknown> = {}): Promise<{ id: string; resourceId: string }> {
      const created = (await post('package_create', dc(extra))).body.result as Dict;
      const resource = (await post('resource_create', { package_id: created.id, name: 'cells.rtdc' })).body.result as { id: string };
      await t.host.services.get(DatabaseId).models.Resource.update({ state: 'active' }, { where: { id: resource.id } });
      return { id: created.id, resourceId: resource.id };
    }

    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['schema-json'] });
      f = await createApiFixtures(t);
    });
    after(async () => t.close());

    it('reports every problem of a dc dataset at once, CKAN-style', async () => {
      const { status, body } = await post('package_create', { name: 'bad-dc', owner_org: 'lab', type: 'dc', state: 'draft', authors: [], license_id: 'proprietary', doi: 'not a doi', references: ['not a url'] });
      assert.equal(status, 400);
      assert.equal(body.error!.__type, 'Validation Error');
      assert.match(String(body.error!.authors), /at least 1/);
      assert.match(String(body.error!.license_id), /"proprietary" is not allowed/);
      assert.match(String(body.error!.doi), /not a DOI/);
      assert.match(String(body.error!.references), /not a URL/);
      const missing = await post('package_create', { name: 'no-authors', owner_org: 'lab', type: 'dc', state: 'draft' });
      assert.deepEqual(missing.body.error!.authors, ['Missing value']);
    });

    it('normalises DOIs and references', async () => {
      const { status, body } = await post('package_create', dc({ doi: 'https://doi.org/10.1038/nmeth.3281', references: ['doi:10.1016/j.bpj.2015.09.006', 'https://example.org/paper'] }));
      assert.equal(status, 200, JSON.stringify(body));
      const d = body.result as Dict;
      assert.equal(d.doi, '10.1038/nmeth.3281');
      assert.deepEqual(d.references, ['https://doi.org/10.1016/j.bpj.2015.09.006', 'https://example.org/paper']);
    });

    it('limits resource names and extensions, and keeps names unique', async () => {
      const d = (await post('package_create', dc())).body.result as Dict;
      assert.match(String((await post('resource_create', { package_id: d.id, name: 'bad name.rtdc' })).body.error!.resources), /characters other than/);
      assert.match(String((await post('resource_create', { package_id: d.id, name: 'virus.exe' })).body.error!.resources), /extension "\.exe"/);
      assert.equal((await post('resource_create', { package_id: d.id, name: 'ok_(1).rtdc' })).status, 200);
      assert.match(String((await post('resource_create', { package_id: d.id, name: 'ok_(1).rtdc' })).body.error!.resources), /used twice/);
    });

    it('activates only with resources, and only when every RT-DC resource passed its check', async () => {
      const empty = (await post('package_create', dc())).body.result as Dict;
      assert.match(String((await post('package_patch', { id: empty.id, state: 'active' })).body.error!.state), /at least one resource/);
      const pending = (await post('package_create', dc())).body.result as Dict;
      await post('resource_create', { package_id: pending.id, name: 'waiting.rtdc' });
      assert.match(String((await post('package_patch', { id: pending.id, state: 'active' })).body.error!.state), /"waiting\.rtdc" has not passed its check/);
      const ready = await readyDraft();
      assert.equal((await post('package_patch', { id: ready.id, state: 'active' })).status, 200);
      assert.match(String((await post('package_create', { ...dc(), state: 'active' })).body.error!.state), /at least one resource/);
    });

    it('applies the lifecycle rules once a dataset is active', async () => {
      const d = await readyDraft({ license_id: 'CC-BY-NC-4.0', private: true });
      assert.equal((await post('package_patch', { id: d.id, state: 'active' })).status, 200);
      assert.match(String((await post('resource_create', { package_id: d.id, name: 'late.csv', url: 'https://example.org/late.csv' })).body.error!.resources), /only to draft datasets/);
      assert.match(String((await post('resource_delete', { id: d.resourceId })).body.error!.resources), /cannot change/);
      assert.match(String((await post('package_patch', { id: d.id, state: 'draft' })).body.error!.state), /cannot go back to draft/);
      const frozen = await post('package_patch', { id: d.id, title: 'New title', authors: ['Someone Else'] });
      assert.match(String(frozen.body.error!.title), /cannot change once the dataset is active/);
      assert.match(String(frozen.body.error!.authors), /cannot change once the dataset is active/);
      assert.match(String((await post('package_patch', { id: d.id, license_id: 'CC-BY-NC-SA-4.0' })).body.error!.license_id), /less restrictive/);
      assert.equal((await post('package_patch', { id: d.id, license_id: 'CC-BY-4.0', private: false, notes: 'Better description' })).status, 200);
      assert.match(String((await post('package_patch', { id: d.id, private: true })).body.error!.private), /cannot become private/);
    });

    it('shows the schema of a type, and says which types exist', async () => {
      const shown = await t.call('schema_show', { type: 'dc' }, { method: 'GET' });
      assert.equal(shown.status, 200);
      assert.deepEqual((shown.body.result as { required: string[] }).required, ['authors']);
      const unknown = await t.call('schema_show', { type: 'nope' }, { method: 'GET' });
      assert.equal(unknown.status, 404);
      assert.match(unknown.body.error!.message, /known types: dc/);
    });
  });
}

describe('schema-json with a directory of dataset types', () => {
  it('validates a type read from <type>.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dataset-types-'));
    writeFileSync(join(dir, 'survey.json'), JSON.stringify({ type: 'object', required: ['respondents'], properties: { respondents: { type: 'integer', minimum: 1 } } }));
    const t = await startTestHost('sqlite', { pluginNames: ['schema-json'], extraConfig: `[plugin:schema-json]\nschemas = ${dir}\n` });
    try {
      const f = await createApiFixtures(t);
      const bad = await t.call('package_create', { name: 'survey-1', owner_org: 'lab', type: 'survey', respondents: 0 }, { token: f.tokens.editor });
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.error!.respondents), /must be >= 1/);
      assert.equal((await t.call('package_create', { name: 'survey-2', owner_org: 'lab', type: 'survey', respondents: 12 }, { token: f.tokens.editor })).status, 200);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
