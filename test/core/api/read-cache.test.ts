// The read cache never serves a stale answer to the process that wrote, and on PostgreSQL
// another process's write empties it through NOTIFY. Private datasets are never cached;
// search counts, facets and pages are kept per visibility (what the caller may see).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { DatabaseId, ReadCacheId } from '../../../core/services/service-ids.js';
import { ReadCache, readCacheChannel } from '../../../core/datasets/read-cache.js';
import { LoggerFactory } from '../../../core/logger.js';

for (const kind of databaseKinds()) {
  describe(`read cache (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    before(async () => {
      t = await startTestHost(kind);
      f = await createApiFixtures(t);
    });
    after(async () => t.close());

    const title = async (id: string, token = ''): Promise<string> => ((await t.call('package_show', { id }, { method: 'GET', token })).body.result as { title: string }).title;

    it('shows a change at once in the writing process', async () => {
      await t.call('package_create', { name: 'cached', owner_org: 'lab', title: 'One' }, { token: f.tokens.editor });
      assert.equal(await title('cached'), 'One');
      assert.equal(await title('cached'), 'One');
      await t.call('package_patch', { id: 'cached', title: 'Two' }, { token: f.tokens.editor });
      assert.equal(await title('cached'), 'Two');
      const search = async () => ((await t.call('package_search', { q: 'cached' }, { method: 'GET' })).body.result as { results: Array<{ title: string }> }).results[0]?.title;
      assert.equal(await search(), 'Two');
      await t.call('package_patch', { id: 'cached', title: 'Three' }, { token: f.tokens.editor });
      assert.equal(await search(), 'Three');
      await t.call('package_patch', { id: 'cached', private: true }, { token: f.tokens.editor });
      assert.equal((await t.call('package_show', { id: 'cached' }, { method: 'GET' })).status, 404, 'made private: no longer served from the cache');
    });

    it('keeps other datasets cached across a write, and drops a dataset on a change to its resources', async () => {
      const cache = t.host.services.get(ReadCacheId);
      await t.call('package_create', { name: 'stays-cached', owner_org: 'lab', title: 'Stays' }, { token: f.tokens.editor });
      await t.call('package_create', { name: 'gets-written', owner_org: 'lab', title: 'Written' }, { token: f.tokens.editor });
      assert.equal(await title('stays-cached'), 'Stays');
      assert.ok(cache.get('show:stays-cached'), 'cached after an anonymous read');
      await t.call('package_patch', { id: 'gets-written', title: 'Written again' }, { token: f.tokens.editor });
      assert.ok(cache.get('show:stays-cached'), 'a write to another dataset leaves it cached');
      const show = async (): Promise<Array<{ name: string }>> => ((await t.call('package_show', { id: 'stays-cached' }, { method: 'GET' })).body.result as { resources: Array<{ name: string }> }).resources;
      assert.deepEqual(await show(), []);
      const created = await t.call('resource_create', { package_id: 'stays-cached', name: 'notes.txt', url: 'https://example.org/notes.txt' }, { token: f.tokens.editor });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual((await show()).map((r) => r.name), ['notes.txt'], 'the new resource shows at once');
    });

    it('answers from the cache exactly as from the database, over GET and POST', async () => {
      await t.call('package_create', { name: 'same-answer', owner_org: 'lab', title: 'Ünïcode “title”', tags: ['a'] }, { token: f.tokens.editor });
      await t.call('resource_create', { package_id: 'same-answer', name: 'r.csv', url: 'https://example.org/r.csv' }, { token: f.tokens.editor });
      const cache = t.host.services.get(ReadCacheId);
      assert.equal(cache.get('show:same-answer'), undefined);
      const first = await t.call('package_show', { id: 'same-answer' }, { method: 'GET' });
      assert.ok(cache.get('show:same-answer'), 'the first read filled the cache');
      const cachedGet = await t.call('package_show', { id: 'same-answer' }, { method: 'GET' });
      const cachedPost = await t.call('package_show', { id: 'same-answer' }, { method: 'POST' });
      assert.equal(first.status, 200);
      assert.equal(cachedGet.status, 200);
      assert.deepEqual(cachedGet.body, first.body);
      assert.deepEqual(cachedPost.body, first.body);
      assert.equal((first.body.result as { title: string }).title, 'Ünïcode “title”');
    });

    it('never caches private datasets for members', async () => {
      await t.call('package_create', { name: 'private-one', owner_org: 'lab', private: true, title: 'Secret' }, { token: f.tokens.editor });
      assert.equal(await title('private-one', f.tokens.member), 'Secret');
      assert.equal((await t.call('package_show', { id: 'private-one' }, { method: 'GET' })).status, 404);
    });

    it('keeps logged-in search counts per visibility, and a write updates them at once', async () => {
      const count = async (token: string): Promise<number> => ((await t.call('package_search', { q: 'countme' }, { method: 'GET', token })).body.result as { count: number }).count;
      await t.call('package_create', { name: 'countme-public', owner_org: 'lab' }, { token: f.tokens.editor });
      await t.call('package_create', { name: 'countme-private', owner_org: 'lab', private: true }, { token: f.tokens.editor });
      for (let i = 0; i < 2; i++) {
        assert.equal(await count(f.tokens.member), 2, 'a member of lab sees both');
        assert.equal(await count(f.tokens.other), 1, 'an outsider sees the public one only');
      }
      await t.call('package_create', { name: 'countme-private-2', owner_org: 'lab', private: true }, { token: f.tokens.editor });
      assert.equal(await count(f.tokens.member), 3);
      assert.equal(await count(f.tokens.other), 1);
      await t.call('package_delete', { id: 'countme-public' }, { token: f.tokens.editor });
      assert.equal(await count(f.tokens.member), 2);
      assert.equal(await count(f.tokens.other), 0);
    });

    it('keeps logged-in search pages and facets per visibility, and a write updates them at once', async () => {
      type Page = { count: number; results: Array<{ name: string }>; facets: { tags: Record<string, number> } };
      const page = async (token: string): Promise<Page> => {
        const { status, body } = await t.call('package_search', { q: 'pageme', 'facet.field': '["tags"]', rows: '10' }, { method: 'GET', token });
        assert.equal(status, 200, JSON.stringify(body));
        return body.result as Page;
      };
      const seen = async (token: string): Promise<{ names: string[]; tags: Record<string, number> }> => {
        const result = await page(token);
        assert.equal(result.count, result.results.length, 'the count agrees with the page');
        return { names: result.results.map((d) => d.name).sort(), tags: result.facets.tags };
      };
      await t.call('package_create', { name: 'pageme-public', owner_org: 'lab', tags: ['open'] }, { token: f.tokens.editor });
      await t.call('package_create', { name: 'pageme-private', owner_org: 'lab', private: true, tags: ['closed'] }, { token: f.tokens.editor });
      for (let i = 0; i < 2; i++) {
        assert.deepEqual(await seen(f.tokens.member), { names: ['pageme-private', 'pageme-public'], tags: { closed: 1, open: 1 } }, 'a member of lab sees both');
        assert.deepEqual(await seen(f.tokens.other), { names: ['pageme-public'], tags: { open: 1 } }, 'an outsider sees the public one only');
      }
      await t.call('package_patch', { id: 'pageme-private', private: false }, { token: f.tokens.editor });
      assert.deepEqual(await seen(f.tokens.other), { names: ['pageme-private', 'pageme-public'], tags: { closed: 1, open: 1 } }, 'made public: in the outsider\'s page at once');
      await t.call('package_delete', { id: 'pageme-public' }, { token: f.tokens.editor });
      assert.deepEqual(await seen(f.tokens.member), { names: ['pageme-private'], tags: { closed: 1 } }, 'deleted: gone from the page and its facets');
      assert.deepEqual(await seen(f.tokens.other), { names: ['pageme-private'], tags: { closed: 1 } });
    });

    it('empties on another process\'s write (PostgreSQL NOTIFY)', { skip: kind !== 'postgres' && 'notifications need PostgreSQL' }, async () => {
      await t.host.services.get(ReadCacheId).listen();
      await t.call('package_create', { name: 'shared', owner_org: 'lab', title: 'Before' }, { token: f.tokens.editor });
      assert.equal(await title('shared'), 'Before');
      const other = await PlatformHost.start({ configFile: t.configFile, env: {}, logSink: () => undefined });
      try {
        const runner = other.services.get((await import('../../../core/services/service-ids.js')).ActionRunnerId);
        await runner.run('package_patch', { id: 'shared', title: 'After' }, { actor: { kind: 'system', name: 'test' } });
      } finally {
        await other.stop();
      }
      let seen = '';
      for (let i = 0; i < 500 && seen !== 'After'; i++) {
        seen = await title('shared');
        if (seen !== 'After') await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(seen, 'After');
    });

    it('empties itself when its listener is cut off, then reconnects and hears writes again (PostgreSQL)', { skip: kind !== 'postgres' && 'notifications need PostgreSQL' }, async () => {
      const db = t.host.services.get(DatabaseId);
      const cache = new ReadCache(db, new LoggerFactory('silent', () => undefined).get('test'), { reconnectMs: 50 });
      try {
        await cache.listen();
        const first = cache.listenerProcessId();
        assert.ok(first, 'listening');
        cache.set('show:x', { text: '{}' }, cache.current(), { datasetId: 'x' });
        await db.sequelize.query(`SELECT pg_terminate_backend(${Number(first)})`);
        const waitFor = async (what: string, done: () => boolean): Promise<void> => {
          for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
          assert.ok(done(), what);
        };
        await waitFor('the cache was emptied', () => cache.get('show:x') === undefined);
        await waitFor('the listener reconnected', () => cache.listenerProcessId() !== undefined && cache.listenerProcessId() !== first);
        cache.set('show:y', { text: '{}' }, cache.current(), { datasetId: 'y' });
        await db.sequelize.query(`SELECT pg_notify(:channel, 'y')`, { replacements: { channel: readCacheChannel(db.schema) } });
        await waitFor('a notification after the reconnection dropped the entry', () => cache.get('show:y') === undefined);
      } finally {
        await cache.close();
      }
    });

    it('updates a logged-in search count on another process\'s write (PostgreSQL NOTIFY)', { skip: kind !== 'postgres' && 'notifications need PostgreSQL' }, async () => {
      await t.host.services.get(ReadCacheId).listen();
      const search = async (): Promise<{ count: number; results: Array<{ name: string }> }> =>
        (await t.call('package_search', { q: 'elsewhere' }, { method: 'GET', token: f.tokens.member })).body.result as { count: number; results: Array<{ name: string }> };
      const count = async (): Promise<number> => (await search()).count;
      await t.call('package_create', { name: 'first-elsewhere', owner_org: 'lab' }, { token: f.tokens.editor });
      assert.deepEqual((await search()).results.map((d) => d.name), ['first-elsewhere'], 'a page read and cached before the other write');
      const other = await PlatformHost.start({ configFile: t.configFile, env: {}, logSink: () => undefined });
      try {
        const runner = other.services.get((await import('../../../core/services/service-ids.js')).ActionRunnerId);
        await runner.run('package_create', { name: 'made-elsewhere', owner_org: 'lab' }, { actor: { kind: 'system', name: 'test' } });
      } finally {
        await other.stop();
      }
      let seen = 0;
      for (let i = 0; i < 500 && seen !== 2; i++) {
        seen = await count();
        if (seen !== 2) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(seen, 2);
      assert.deepEqual((await search()).results.map((d) => d.name).sort(), ['first-elsewhere', 'made-elsewhere'], 'the cached page was dropped with the count');
    });
  });
}
