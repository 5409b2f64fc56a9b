// package_search as CKAN clients use it: q (word-prefix matching on name, title, notes and
// tags, every word required), fq on organisation, type, state and privacy, rows/start
// paging, sort, count, and visibility of private, draft and deleted datasets per role.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures, type Role } from '../../helpers/api-fixtures.js';
import { DatasetSearch, parseSearchQuery } from '../../../core/datasets/dataset-search.js';
import { anonymous, type Actor } from '../../../core/auth/actor.js';
import { ApiTokenServiceId, DatabaseId, DatasetServiceId, OrganizationServiceId } from '../../../core/services/service-ids.js';

interface Found {
  name: string;
  title: string;
  metadata_modified: string;
  metadata_created: string;
  organization: { name: string };
  resources: Array<{ name: string }>;
  num_resources: number;
}

interface SearchResult {
  count: number;
  sort: string;
  results: Found[];
}

const names = (result: SearchResult): string[] => result.results.map((d) => d.name);

for (const kind of databaseKinds()) {
  describe(`package_search (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;

    const search = async (params: Record<string, unknown>, role: Role = 'anonymous', method: 'GET' | 'POST' = 'GET'): Promise<SearchResult> => {
      const { status, body } = await t.call('package_search', params, { token: f.tokens[role], method });
      assert.equal(status, 200, JSON.stringify(body));
      return body.result as SearchResult;
    };
    /** Names of every match, sorted, as one role sees them. */
    const all = async (params: Record<string, unknown>, role: Role = 'anonymous'): Promise<string[]> => names(await search({ rows: 1000, sort: 'name asc', ...params }, role));

    before(async () => {
      t = await startTestHost(kind);
      f = await createApiFixtures(t);
      const docs: Array<[Role, Record<string, unknown>]> = [
        ['editor', { name: 'blood-cells-a', title: 'Blood cells of donors', notes: 'Deformability of erythrocytes', tags: ['haematology'] }],
        ['editor', { name: 'blood-cells-b', title: 'More blood samples', notes: 'Leukocytes', tags: ['haematology', 'control'] }],
        ['editor', { name: 'beads-calibration', title: 'Calibration beads', notes: 'Polystyrene beads for the setup', tags: ['calibration'] }],
        ['editor', { name: 'zebrafish-2026', title: 'Zebrafish larvae', notes: 'Müller glia in the retina', type: 'dc', tags: ['in-vivo'] }],
        ['editor', { name: 'secret-blood', title: 'Private blood study', notes: 'Not public', private: true }],
        ['editor', { name: 'draft-blood', title: 'Draft blood study', state: 'draft' }],
        ['editor', { name: 'deleted-blood', title: 'Deleted blood study' }],
        ['other', { name: 'other-blood', owner_org: 'other', title: 'Blood elsewhere' }],
        ['other', { name: 'other-secret', owner_org: 'other', title: 'Secret of other blood', private: true }],
      ];
      for (const [role, doc] of docs) {
        const { status, body } = await t.call('package_create', { owner_org: 'lab', ...doc }, { token: f.tokens[role] });
        assert.equal(status, 200, JSON.stringify(body));
      }
      assert.equal((await t.call('package_delete', { id: 'deleted-blood' }, { token: f.tokens.editor })).status, 200);
      const file = await t.call('resource_create', { package_id: 'blood-cells-a', name: 'cells.csv', url: 'https://example.org/cells.csv' }, { token: f.tokens.editor });
      const gone = await t.call('resource_create', { package_id: 'blood-cells-a', name: 'gone.csv', url: 'https://example.org/gone.csv' }, { token: f.tokens.editor });
      assert.equal((await t.call('resource_delete', { id: (gone.body.result as { id: string }).id }, { token: f.tokens.editor })).status, 200);
      assert.equal(file.status, 200);
    });
    after(async () => t.close());

    it('matches word prefixes in name, title, notes and tags; every word must match', async () => {
      assert.deepEqual(await all({ q: 'blood' }), ['blood-cells-a', 'blood-cells-b', 'other-blood']);
      assert.deepEqual(await all({ q: 'erythro' }), ['blood-cells-a'], 'a prefix of a word in the notes');
      assert.deepEqual(await all({ q: 'rythro' }), [], 'not the middle of a word');
      assert.deepEqual(await all({ q: 'cells' }), ['blood-cells-a', 'blood-cells-b'], 'words of the name');
      assert.deepEqual(await all({ q: 'haematology control' }), ['blood-cells-b'], 'tags, all words required');
      assert.deepEqual(await all({ q: 'calibration' }), ['beads-calibration']);
      assert.deepEqual(await all({ q: '2026' }), ['zebrafish-2026']);
      assert.deepEqual(await all({ q: 'vivo' }), ['zebrafish-2026'], 'a word of a hyphenated tag');
      assert.deepEqual(await all({ q: 'MÜLLER Glia' }), ['zebrafish-2026'], 'case-insensitive, beyond ASCII');
      assert.deepEqual(await all({ q: 'BLOOD, cells!' }), ['blood-cells-a', 'blood-cells-b'], 'punctuation separates words');
      assert.deepEqual(await all({ q: 'nothing-matches-this' }), []);
      assert.equal((await search({ q: '%' })).count, (await search({})).count, 'LIKE wildcards are not special');
      assert.deepEqual(await all({ q: "blood' & !cells:* |" }), ['blood-cells-a', 'blood-cells-b'], 'quotes and tsquery operators are not special');
      assert.equal((await search({ q: '' })).count, (await search({})).count, 'an empty q matches everything visible');
    });

    it('shows each role what it may see: private datasets to their organisation, drafts only when asked', async () => {
      assert.deepEqual(await all({ q: 'blood' }, 'member'), ['blood-cells-a', 'blood-cells-b', 'other-blood', 'secret-blood']);
      assert.deepEqual(await all({ q: 'blood' }, 'other'), ['blood-cells-a', 'blood-cells-b', 'other-blood', 'other-secret']);
      assert.deepEqual(await all({ q: 'blood' }, 'sysadmin'), ['blood-cells-a', 'blood-cells-b', 'other-blood', 'other-secret', 'secret-blood']);
      assert.deepEqual(await all({ q: 'blood', include_private: 'false' }, 'member'), ['blood-cells-a', 'blood-cells-b', 'other-blood'], 'include_private=false leaves private datasets out');
      assert.deepEqual(await all({ q: 'blood', include_private: true }, 'member'), ['blood-cells-a', 'blood-cells-b', 'other-blood', 'secret-blood']);
      assert.deepEqual(await all({ q: 'blood', include_drafts: 'true' }, 'member'), ['blood-cells-a', 'blood-cells-b', 'draft-blood', 'other-blood', 'secret-blood'], 'include_drafts adds the drafts one may see');
      assert.deepEqual(await all({ q: 'blood', include_drafts: 'true' }), ['blood-cells-a', 'blood-cells-b', 'other-blood']);
    });

    it('filters on state: drafts for the organisation, deleted datasets for its editors', async () => {
      assert.deepEqual(await all({ fq: 'state:draft' }, 'member'), ['draft-blood']);
      assert.deepEqual(await all({ fq: 'state:draft' }, 'editor'), ['draft-blood']);
      assert.deepEqual(await all({ fq: 'state:draft' }), []);
      assert.deepEqual(await all({ fq: 'state:draft' }, 'other'), []);
      assert.deepEqual(await all({ fq: 'state:deleted' }, 'editor'), ['deleted-blood']);
      assert.deepEqual(await all({ fq: 'state:deleted' }, 'sysadmin'), ['deleted-blood']);
      assert.deepEqual(await all({ fq: 'state:deleted' }, 'member'), [], 'members do not see deleted datasets');
      assert.deepEqual(await all({ fq: 'state:deleted' }), []);
      assert.deepEqual(await all({ fq: '+state:active', q: 'study' }, 'sysadmin'), ['secret-blood']);
    });

    it('filters on organisation, owner_org, type and privacy, alone or together', async () => {
      assert.deepEqual(await all({ fq: 'organization:other' }), ['other-blood']);
      assert.deepEqual(await all({ fq: 'organization:other' }, 'other'), ['other-blood', 'other-secret']);
      assert.deepEqual(await all({ fq: 'organization:"other"' }), ['other-blood'], 'quoted values');
      assert.deepEqual(await all({ fq: `owner_org:${f.orgs.other}` }), ['other-blood'], 'owner_org by id');
      assert.deepEqual(await all({ fq: 'owner_org:other' }), ['other-blood'], 'owner_org by name');
      assert.deepEqual(await all({ fq: 'organization:nowhere' }), []);
      assert.deepEqual(await all({ fq: 'type:dc' }), ['zebrafish-2026']);
      assert.deepEqual(await all({ fq: 'dataset_type:dc' }), ['zebrafish-2026']);
      assert.deepEqual(await all({ fq: 'private:true' }, 'member'), ['secret-blood']);
      assert.deepEqual(await all({ fq: 'private:true' }), []);
      assert.deepEqual(await all({ fq: '+organization:lab +type:dataset', q: 'blood' }), ['blood-cells-a', 'blood-cells-b']);
      assert.deepEqual(await all({ fq: 'organization:lab type:dc', q: 'zebrafish' }), ['zebrafish-2026']);
    });

    it('pages with rows and start; count is the number of all matches', async () => {
      const everything = await search({ sort: 'name asc', rows: 1000 }, 'sysadmin');
      assert.equal(everything.count, everything.results.length);
      assert.equal(everything.count, 7, 'every active dataset, private ones included, for a sysadmin');
      const pages: string[] = [];
      for (let start = 0; start < everything.count; start += 3) {
        const page = await search({ sort: 'name asc', rows: 3, start }, 'sysadmin');
        assert.equal(page.count, everything.count, 'count does not depend on the page');
        assert.ok(page.results.length <= 3);
        pages.push(...names(page));
      }
      assert.deepEqual(pages, names(everything), 'pages neither overlap nor leave gaps');
      const beyond = await search({ rows: 3, start: 100 }, 'sysadmin');
      assert.deepEqual(beyond.results, []);
      assert.equal(beyond.count, 7);
      const counted = await search({ rows: 0, q: 'blood' });
      assert.deepEqual(counted.results, []);
      assert.equal(counted.count, 3, 'rows=0 only counts');
      assert.equal((await search({})).results.length, Math.min(10, (await search({})).count), 'ten rows by default');
    });

    it('sorts by name, title, creation and modification, newest change first by default', async () => {
      const byName = await all({}, 'sysadmin');
      assert.deepEqual(names(await search({ sort: 'name desc', rows: 1000 }, 'sysadmin')), [...byName].reverse());
      const byTitle = (await search({ sort: 'title asc', rows: 1000 }, 'sysadmin')).results.map((d) => d.title);
      assert.deepEqual(byTitle, [...byTitle].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      const created = (await search({ sort: 'metadata_created asc', rows: 1000 }, 'sysadmin')).results.map((d) => d.metadata_created);
      assert.deepEqual(created, [...created].sort());
      await sleep(5);
      assert.equal((await t.call('package_patch', { id: 'beads-calibration', notes: 'touched' }, { token: f.tokens.editor })).status, 200);
      const recent = await search({ rows: 1000 });
      assert.equal(recent.sort, 'score desc, metadata_modified desc', 'CKAN\'s default; without q every score is equal');
      assert.equal(recent.results[0]!.name, 'beads-calibration', 'the latest change comes first');
      const modified = recent.results.map((d) => d.metadata_modified);
      assert.deepEqual(modified, [...modified].sort().reverse());
      assert.deepEqual(names(await search({ sort: 'name asc, title desc', rows: 1000 })), names(await search({ sort: 'name asc', rows: 1000 })), 'several sort keys');
      const ckanDefault = await search({ sort: 'score desc, metadata_modified desc', q: 'beads' });
      assert.deepEqual(names(ckanDefault), ['beads-calibration'], 'CKAN\'s own default sort is understood');
    });

    it('returns whole package dicts with organisation and live resources; GET and POST agree', async () => {
      const [found] = (await search({ q: 'erythrocytes' })).results;
      assert.equal(found!.organization.name, 'lab');
      assert.deepEqual(found!.resources.map((r) => r.name), ['cells.csv'], 'deleted resources are left out');
      assert.equal(found!.num_resources, 1);
      const shown = (await t.call('package_show', { id: 'blood-cells-a' }, { method: 'GET' })).body.result;
      assert.deepEqual(found, shown, 'a search result is the same dict as package_show');
      const viaPost = await search({ q: 'blood', rows: 2, start: 1, sort: 'name asc' }, 'member', 'POST');
      const viaGet = await search({ q: 'blood', rows: '2', start: '1', sort: 'name asc' }, 'member', 'GET');
      assert.deepEqual(viaPost, viaGet);
    });

    // A search reads the page's ids (or takes them from the read cache) and then its rows (see
    // DatasetSearch.search); a dataset hidden or deleted between the two reads must not slip through.
    it('leaves out a dataset hidden or deleted between reading the page and reading its rows', async () => {
      const service = t.host.services.get(DatasetServiceId);
      const search = new DatasetSearch(t.host.services.get(DatabaseId), t.host.services.get(OrganizationServiceId), undefined, async (id) => {
        const row = await service.readRowById(id);
        if (row?.name === 'blood-cells-a') return { ...row, private: true };
        if (row?.name === 'blood-cells-b') return undefined;
        return row;
      });
      const query = parseSearchQuery({ q: 'blood', rows: '1000', sort: 'name asc' });
      const member = await t.host.services.get(ApiTokenServiceId).authenticate(f.tokens.member);
      const memberActor: Actor = { kind: 'user', user: member.user, memberships: member.memberships };
      const seen = async (actor: Actor): Promise<string[]> => (await search.search(query, actor)).datasets.map((d) => d.dataset.name);
      const before = await all({ q: 'blood' });
      assert.ok(before.includes('blood-cells-a') && before.includes('blood-cells-b'), 'both public when the page is read');
      assert.deepEqual(await seen(anonymous), before.filter((n) => n !== 'blood-cells-a' && n !== 'blood-cells-b'), 'hidden and deleted ones are left out');
      assert.ok((await seen(memberActor)).includes('blood-cells-a'), 'a member still sees the dataset made private in its organisation');
      assert.equal((await seen(memberActor)).includes('blood-cells-b'), false);
    });

    it('sees a change at once, for anonymous callers too', async () => {
      assert.deepEqual(await all({ q: 'freshly' }), []);
      await t.call('package_patch', { id: 'blood-cells-b', notes: 'freshly annotated' }, { token: f.tokens.editor });
      assert.deepEqual(await all({ q: 'freshly' }), ['blood-cells-b']);
      await t.call('package_patch', { id: 'blood-cells-b', private: true }, { token: f.tokens.editor });
      assert.deepEqual(await all({ q: 'freshly' }), [], 'made private: gone from anonymous searches at once');
      assert.deepEqual(await all({ q: 'freshly' }, 'member'), ['blood-cells-b']);
      await t.call('package_patch', { id: 'blood-cells-b', private: false }, { token: f.tokens.editor });
    });

    it('follows a membership change on the next request made with the same token', async () => {
      // The roles come with the token's own read at the start of each request: nothing older.
      const show = async (): Promise<number> => (await t.call('package_show', { id: 'secret-blood' }, { token: f.tokens.member })).status;
      assert.deepEqual(await all({ q: 'private blood' }, 'member'), ['secret-blood']);
      assert.equal(await show(), 200);
      const removed = await t.call('organization_member_delete', { id: 'lab', username: f.users.member.name }, { token: f.tokens.admin });
      assert.equal(removed.status, 200, JSON.stringify(removed.body));
      assert.deepEqual(await all({ q: 'private blood' }, 'member'), [], 'no longer a member: the private dataset is gone from searches');
      assert.equal(await show(), 404, 'and from package_show (hidden, as from any outsider)');
      const added = await t.call('organization_member_create', { id: 'lab', username: f.users.member.name, role: 'member' }, { token: f.tokens.admin });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.deepEqual(await all({ q: 'private blood' }, 'member'), ['secret-blood']);
      assert.equal(await show(), 200);
    });
  });
}
