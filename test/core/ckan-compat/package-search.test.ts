// package_search as CKAN documents and answers it (ckan/logic/action/get.py package_search):
// "facet.field (list of strings): the fields to facet upon", "facet.limit (int): the maximum
// number of values the facet fields return. A negative value means unlimited",
// "facet.mincount (int): the minimum counts for facet fields should be included in the
// results"; the answer carries `facets` ({field: {value: count}}) and `search_facets`
// ({field: {title, items: [{name, display_name, count}]}}, items sorted by display_name,
// reverse=True; organisations shown by title). Requests are sent as ckanapi and browsers
// send reads: GET with the parameters in the query string, facet.field as a JSON list.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { ActionRunnerId, DatabaseId, DatasetServiceId, OrganizationServiceId } from '../../../core/services/service-ids.js';
import { DatasetSearch, parseSearchQuery } from '../../../core/datasets/dataset-search.js';
import { anonymous } from '../../../core/auth/actor.js';
import { ckanapiGet, ckanapiPost } from './ckanapi-requests.js';

interface SearchAnswer {
  count: number;
  results: Array<{ name: string }>;
  facets: Record<string, Record<string, number>>;
  search_facets: Record<string, { title: string; items: Array<{ name: string; display_name: string; count: number }> }>;
}

for (const kind of databaseKinds()) {
  describe(`package_search facets and fq as CKAN (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;

    const search = async (params: Record<string, string>, token = ''): Promise<SearchAnswer> => {
      const { status, body } = await ckanapiGet(t, 'package_search', params, token || undefined);
      assert.equal(status, 200, JSON.stringify(body));
      return body.result as SearchAnswer;
    };
    const names = async (fq: string, token = ''): Promise<string[]> => (await search({ fq, rows: '100', sort: 'name asc' }, token)).results.map((r) => r.name);

    before(async () => {
      t = await startTestHost(kind, { extraConfig: '[search]\nfacet_resource_keys = dc:setup:channel width, dc:experiment:sample' });
      f = await createApiFixtures(t);
      const docs: Array<Record<string, unknown>> = [
        { name: 'blood-a', tags: ['blood', 'rbc'], license_id: 'CC-BY-4.0', resources: [{ url: 'https://example.org/a.csv', format: 'CSV' }] },
        { name: 'blood-b', tags: ['blood'], license_id: 'CC0-1.0', resources: [{ url: 'https://example.org/b.csv', format: 'CSV' }, { url: 'https://example.org/b.json', format: 'JSON' }] },
        { name: 'beads', tags: ['calibration', 'beads'], license_id: 'CC0-1.0' },
        { name: 'zebrafish', tags: ['in vivo'], type: 'dc' },
        { name: 'secret-blood', tags: ['blood'], private: true, license_id: 'CC0-1.0' },
        { name: 'other-blood', owner_org: 'other', tags: ['blood'], license_id: 'CC-BY-4.0' },
      ];
      for (const doc of docs) {
        const token = doc.owner_org === 'other' ? f.tokens.other : f.tokens.editor;
        const { status, body } = await ckanapiPost(t, 'package_create', { owner_org: 'lab', ...doc }, token);
        assert.equal(status, 200, JSON.stringify(body));
        // RT-DC style resource metadata, as the schema's inspection job records it.
        const resource = (body.result as { resources: Array<{ id: string }> }).resources[0];
        if (resource) {
          await t.host.services.get(ActionRunnerId).runInTransaction({ actor: { kind: 'system', name: 'test' } }, (ctx) =>
            t.host.services.get(DatasetServiceId).setResourceState(resource.id, 'active', { 'dc:setup:channel width': doc.name === 'blood-a' ? 20 : 30, 'dc:experiment:sample': 'whole blood' }, ctx), 'test');
        }
      }
    });
    after(async () => t.close());

    it('answers facets and search_facets in CKAN\'s shapes, counted over what the caller may see', async () => {
      const answer = await search({ q: '', 'facet.field': '["organization", "tags", "license_id", "res_format", "groups"]' });
      assert.equal(answer.count, 5);
      assert.deepEqual(answer.facets.tags, { blood: 3, beads: 1, calibration: 1, 'in vivo': 1, rbc: 1 });
      assert.deepEqual(answer.facets.organization, { lab: 4, other: 1 });
      assert.deepEqual(answer.facets.license_id, { 'CC-BY-4.0': 2, 'CC0-1.0': 2 });
      assert.deepEqual(answer.facets.res_format, { CSV: 2, JSON: 1 });
      assert.deepEqual(answer.facets.groups, {});
      assert.deepEqual(answer.search_facets.organization, { title: 'organization', items: [{ name: 'other', display_name: 'other', count: 1 }, { name: 'lab', display_name: 'The Lab', count: 4 }] });
      assert.deepEqual(answer.search_facets.tags!.items.map((i) => i.name), ['rbc', 'in vivo', 'calibration', 'blood', 'beads'], 'by display_name, reverse, as CKAN sorts them');
      assert.deepEqual(answer.search_facets.groups, { title: 'groups', items: [] });
      const member = await search({ 'facet.field': '["tags"]' }, f.tokens.member);
      assert.equal(member.count, 6);
      assert.equal(member.facets.tags!.blood, 4, 'the private dataset counts for its organisation\'s members');
    });

    it('facet.limit keeps the most frequent values, facet.mincount drops rare ones, and facets follow q and fq', async () => {
      assert.deepEqual((await search({ 'facet.field': '["tags"]', 'facet.limit': '1' })).facets.tags, { blood: 3 });
      assert.deepEqual((await search({ 'facet.field': '["tags"]', 'facet.mincount': '2' })).facets.tags, { blood: 3 });
      assert.equal(Object.keys((await search({ 'facet.field': '["tags"]', 'facet.limit': '-1' })).facets.tags!).length, 5);
      const filtered = await search({ q: 'blood', fq: 'license_id:CC0-1.0', 'facet.field': '["tags", "res_format"]' });
      assert.equal(filtered.count, 1);
      assert.deepEqual(filtered.facets, { tags: { blood: 1 }, res_format: { CSV: 1, JSON: 1 } });
      const none = await search({ q: 'blood' });
      assert.deepEqual([none.facets, none.search_facets], [{}, {}], 'no facet.field, no facets (as CKAN)');
    });

    it('facets on the resource metadata keys the operator listed, and says which fields it can facet on', async () => {
      const answer = await search({ 'facet.field': '["res_extras_dc:setup:channel width", "res_extras_dc:experiment:sample"]' });
      assert.deepEqual(answer.facets['res_extras_dc:setup:channel width'], { 20: 1, 30: 1 });
      assert.deepEqual(answer.facets['res_extras_dc:experiment:sample'], { 'whole blood': 2 });
      const refused = await ckanapiGet(t, 'package_search', { 'facet.field': '["res_extras_dc:imaging:pixel size"]' });
      assert.equal(refused.status, 400);
      assert.match(String(refused.body.error!['facet.field']), /cannot facet on "res_extras_dc:imaging:pixel size"; use organization, groups, tags/);
      assert.equal((await ckanapiGet(t, 'package_search', { 'facet.field': 'tags' })).status, 400, 'not a JSON list');
    });

    it('fq takes CKAN\'s common Solr subset on every indexed field', async () => {
      assert.deepEqual(await names('tags:blood'), ['blood-a', 'blood-b', 'other-blood']);
      assert.deepEqual(await names('tags:"in vivo"'), ['zebrafish']);
      assert.deepEqual(await names('-tags:blood'), ['beads', 'zebrafish']);
      assert.deepEqual(await names('tags:(rbc OR calibration)'), ['beads', 'blood-a']);
      assert.deepEqual(await names('tags:blood AND license_id:CC0-1.0'), ['blood-b']);
      assert.deepEqual(await names('+tags:blood +organization:lab'), ['blood-a', 'blood-b']);
      assert.deepEqual(await names('res_format:JSON'), ['blood-b']);
      assert.deepEqual(await names('name:beads'), ['beads']);
      assert.deepEqual(await names('-license_id:CC0-1.0 organization:lab'), ['blood-a', 'zebrafish']);
      assert.deepEqual(await names('"res_extras_dc:setup:channel width:20"'), ['blood-a']);
      const inQ = async (q: string): Promise<string[]> => (await search({ q, rows: '100', sort: 'name asc' })).results.map((r) => r.name);
      assert.deepEqual(await inQ('tags:blood'), ['blood-a', 'blood-b', 'other-blood'], 'q takes field:value as CKAN (Solr) does');
      assert.deepEqual(await inQ('blood organization:other'), ['other-blood'], 'words and field terms together');
      assert.deepEqual(await names('tags:blood', f.tokens.editor), ['blood-a', 'blood-b', 'other-blood', 'secret-blood']);
      assert.deepEqual(await names('metadata_created:[2020-01-01T00:00:00Z TO NOW] tags:blood'), ['blood-a', 'blood-b', 'other-blood'], 'a date range');
      assert.deepEqual(await names('metadata_modified:[NOW+1DAY TO *]'), [], 'an open-ended range in the future');
      assert.deepEqual(await names('"res_extras_dc:setup:channel width:[25 TO 40]"'), ['blood-b'], 'a numeric range over resource metadata');
      assert.deepEqual(await names('"res_extras_dc:setup:channel width:{20 TO *]"'.replace('{20 TO *]', '{20 TO *}')), ['blood-b'], 'exclusive and open-ended');
      assert.deepEqual(await names('"res_extras_dc:setup:channel width:20"'), ['blood-a']);
      for (const [fq, named] of [
        ['metadata_modified:[2020-01-01 TO soon]', /"soon" is not a date/],
        ['name:[a TO b]', /ranges work on metadata_modified, metadata_created and res_extras_KEY/],
        ['tags:blood OR tags:beads', /cannot read "OR"/],
        ['colour:red', /unknown field "colour"/],
      ] as const) {
        const { status, body } = await ckanapiGet(t, 'package_search', { fq });
        assert.equal(status, 400, fq);
        assert.match(String(body.error!.fq), named, fq);
      }
    });

    it('ranks q by relevance: CKAN\'s default sort (score desc, metadata_modified desc) puts the best match first', async () => {
      const filler = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
      assert.equal((await ckanapiPost(t, 'package_create', { name: 'rank-strong', owner_org: 'lab', title: 'Erythrocyte deformability', notes: 'erythrocyte erythrocytes', tags: ['erythrocyte'] }, f.tokens.editor)).status, 200);
      assert.equal((await ckanapiPost(t, 'package_create', { name: 'rank-weak', owner_org: 'lab', title: 'Cells', notes: `${filler} erythrocyte ${filler}` }, f.tokens.editor)).status, 200);
      const order = async (params: Record<string, string>): Promise<string[]> => (await search({ q: 'erythrocyte', ...params })).results.map((r) => r.name);
      assert.deepEqual(await order({}), ['rank-strong', 'rank-weak'], 'the default sort ranks, although rank-weak changed last');
      assert.deepEqual(await order({ sort: 'score desc' }), ['rank-strong', 'rank-weak']);
      assert.deepEqual(await order({ sort: 'score asc' }), ['rank-weak', 'rank-strong']);
      assert.deepEqual(await order({ sort: 'metadata_modified desc' }), ['rank-weak', 'rank-strong'], 'an explicit sort without score does not rank');
      // Past the rank limit (5,000 in service; 1 here) score adds no order and the rest of the sort decides.
      const unranked = new DatasetSearch(t.host.services.get(DatabaseId), t.host.services.get(OrganizationServiceId), undefined, undefined, 1);
      const found = await unranked.search(parseSearchQuery({ q: 'erythrocyte' }), anonymous);
      assert.deepEqual(found.datasets.map((d) => d.dataset.name), ['rank-weak', 'rank-strong'], 'by metadata_modified desc');
      assert.equal(found.count, 2);
      const faceted = await search({ q: 'erythrocyte', 'facet.field': '["tags"]' });
      assert.deepEqual([faceted.count, faceted.facets.tags], [2, { erythrocyte: 1 }], 'facets over ranked matches');
      // A faceted search ranks its page as a plain one does (on PostgreSQL from the matches' ids
      // the facet statement read), page by page and either way round.
      const facetedOrder = async (params: Record<string, string>): Promise<string[]> => (await search({ q: 'erythrocyte', 'facet.field': '["tags","organization"]', ...params })).results.map((r) => r.name);
      assert.deepEqual(await facetedOrder({}), ['rank-strong', 'rank-weak']);
      assert.deepEqual(await facetedOrder({ rows: '1', start: '1' }), ['rank-weak'], 'the second page');
      assert.deepEqual(await facetedOrder({ sort: 'score asc' }), ['rank-weak', 'rank-strong']);
      assert.deepEqual(await facetedOrder({ sort: 'metadata_modified desc' }), ['rank-weak', 'rank-strong']);
      const service = t.host.services.get(DatasetServiceId);
      const unrankedTwoStep = new DatasetSearch(t.host.services.get(DatabaseId), t.host.services.get(OrganizationServiceId), undefined, (id) => service.readRowById(id), 1);
      const unrankedFaceted = await unrankedTwoStep.search(parseSearchQuery({ q: 'erythrocyte', 'facet.field': '["tags"]' }), anonymous);
      assert.deepEqual(unrankedFaceted.datasets.map((d) => d.dataset.name), ['rank-weak', 'rank-strong'], 'past the rank limit, faceted or not');
    });
  });
}
