// Resource intake and downloads: a stored file is recorded with size and sha256 and
// streams back whole or in ranges, with ETag, conditional requests, Content-Disposition,
// visibility rules and an audit event per download.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { MemoryDepot, memoryDepotPlugin } from '../../helpers/memory-depot.js';
import { ApiTokenServiceId, DatabaseId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';
import type { Actor } from '../../../core/auth/actor.js';
import { startHttpServer } from '../../../core/http/http-server.js';
import { request } from 'undici';

for (const kind of databaseKinds()) {
  describe(`resource intake and downloads (${kind})`, () => {
    let t: TestHost;
    const depot = new MemoryDepot();
    const content = randomBytes(100_000);
    const sha256 = createHash('sha256').update(content).digest('hex');
    let editorToken: string;
    let strangerToken: string;
    let editor: Actor;
    let url: string;
    let resourceId: string;

    before(async () => {
      t = await startTestHost(kind, { plugins: [memoryDepotPlugin(depot)] });
      const users = t.host.services.get(UserServiceId);
      const tokens = t.host.services.get(ApiTokenServiceId);
      const orgs = t.host.services.get(OrganizationServiceId);
      const ed = await users.create({ name: 'editor', email: 'e@example.org' });
      const stranger = await users.create({ name: 'stranger', email: 's@example.org' });
      const org = await orgs.create({ name: 'lab' });
      await orgs.setMember(org.id, ed.id, 'editor');
      editorToken = (await tokens.create(ed, 'test')).token;
      strangerToken = (await tokens.create(stranger, 'test')).token;
      editor = { kind: 'user', user: { id: ed.id, name: ed.name, sysadmin: false } };
      const created = await t.call('package_create', { name: 'secret-cells', owner_org: 'lab', private: true, state: 'draft' }, { token: editorToken });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      const resource = await t.call('resource_create', { package_id: 'secret-cells', name: 'cells ä.rtdc' }, { token: editorToken });
      resourceId = (resource.body.result as { id: string }).id;
      url = `/dataset/secret-cells/resource/${resourceId}/download/${encodeURIComponent('cells ä.rtdc')}`;
    });
    after(async () => t.close());

    it('rejects a file whose declared sha256 differs, and keeps nothing', async () => {
      const intake = t.host.services.get(ResourceIntakeId);
      await assert.rejects(intake.storeStream(resourceId, Readable.from([content]), { sha256: '0'.repeat(64) }, { actor: editor, protocol: 'test' }), /checksum mismatch/);
      assert.equal(depot.objects.size, 0);
      const shown = await t.call('resource_show', { id: resourceId }, { token: editorToken });
      assert.equal((shown.body.result as { state: string }).state, 'uploading');
    });

    it('stores a stream and records size, sha256 and state', async () => {
      const intake = t.host.services.get(ResourceIntakeId);
      const resource = await intake.storeStream(resourceId, Readable.from([content]), { size: content.length, sha256 }, { actor: editor, protocol: 'test' });
      assert.equal(resource.size, content.length);
      assert.equal(resource.sha256, sha256);
      assert.equal(resource.state, 'validating');
      const shown = await t.call('resource_show', { id: resourceId }, { token: editorToken });
      assert.equal((shown.body.result as { sha256: string }).sha256, sha256);
    });

    it('streams the whole file with ETag, length and disposition', async () => {
      const response = await t.app.request(url, { headers: { authorization: editorToken } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('etag'), `"${sha256}"`);
      assert.equal(response.headers.get('content-length'), String(content.length));
      assert.match(response.headers.get('content-disposition') ?? '', /filename\*=UTF-8''cells%20%C3%A4\.rtdc/);
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), content);
    });

    it('serves byte ranges, suffix ranges and refuses unsatisfiable ones', async () => {
      const part = await t.app.request(url, { headers: { authorization: editorToken, range: 'bytes=10-19' } });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes 10-19/${content.length}`);
      assert.deepEqual(Buffer.from(await part.arrayBuffer()), content.subarray(10, 20));
      const tail = await t.app.request(url, { headers: { authorization: editorToken, range: 'bytes=-5' } });
      assert.deepEqual(Buffer.from(await tail.arrayBuffer()), content.subarray(content.length - 5));
      const beyond = await t.app.request(url, { headers: { authorization: editorToken, range: `bytes=${content.length}-` } });
      assert.equal(beyond.status, 416);
      assert.equal(beyond.headers.get('content-range'), `bytes */${content.length}`);
    });

    it('answers 304 for a matching If-None-Match and ignores Range when If-Range does not match', async () => {
      const cached = await t.app.request(url, { headers: { authorization: editorToken, 'if-none-match': `"${sha256}"` } });
      assert.equal(cached.status, 304);
      const stale = await t.app.request(url, { headers: { authorization: editorToken, range: 'bytes=0-9', 'if-range': '"old"' } });
      assert.equal(stale.status, 200);
      assert.equal((await stale.arrayBuffer()).byteLength, content.length);
    });

    it('hides private files from anonymous callers and outsiders, and from wrong names', async () => {
      assert.equal((await t.app.request(url)).status, 404);
      assert.equal((await t.app.request(url, { headers: { authorization: strangerToken } })).status, 404);
      assert.equal((await t.app.request(`/dataset/secret-cells/resource/${resourceId}/download/other.rtdc`, { headers: { authorization: editorToken } })).status, 404);
    });

    it('accepts resource and dataset ids in upper case, as every other route does', async () => {
      const dataset = (await t.call('package_show', { id: 'secret-cells' }, { token: editorToken })).body.result as { id: string };
      const upper = `/dataset/${dataset.id.toUpperCase()}/resource/${resourceId.toUpperCase()}/download/${encodeURIComponent('cells ä.rtdc')}`;
      const response = await t.app.request(upper, { headers: { authorization: editorToken } });
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(Buffer.from(await response.arrayBuffer()).length, content.length);
    });

    it('sends the same bytes and headers over a real socket (the stream goes into the response directly)', async () => {
      const { server, port } = await startHttpServer(t.app.fetch, '127.0.0.1', 0, { requestTimeoutSeconds: 0, idleTimeoutSeconds: 30, headersTimeoutSeconds: 30 });
      try {
        const whole = await request(`http://127.0.0.1:${port}${url}`, { headers: { authorization: editorToken } });
        assert.equal(whole.statusCode, 200);
        assert.equal(whole.headers['content-length'], String(content.length));
        assert.equal(whole.headers.etag, `"${sha256}"`);
        assert.match(String(whole.headers['x-request-id']), /^[0-9a-f-]{36}$/);
        assert.deepEqual(Buffer.from(await whole.body.arrayBuffer()), content);
        const part = await request(`http://127.0.0.1:${port}${url}`, { headers: { authorization: editorToken, range: 'bytes=99990-' } });
        assert.equal(part.statusCode, 206);
        assert.equal(part.headers['content-range'], `bytes 99990-99999/${content.length}`);
        assert.deepEqual(Buffer.from(await part.body.arrayBuffer()), content.subarray(99990));
        const head = await request(`http://127.0.0.1:${port}${url}`, { method: 'HEAD', headers: { authorization: editorToken } });
        assert.equal(head.statusCode, 200);
        assert.equal(head.headers['content-length'], String(content.length));
        await head.body.dump();
        // A client that hangs up mid-download leaves the server answering the next one.
        const gone = await request(`http://127.0.0.1:${port}${url}`, { headers: { authorization: editorToken } });
        gone.body.destroy();
        const again = await request(`http://127.0.0.1:${port}${url}`, { headers: { authorization: editorToken } });
        assert.deepEqual(Buffer.from(await again.body.arrayBuffer()), content);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('writes an audit event per download', async () => {
      const db = t.host.services.get(DatabaseId);
      const before = await db.models.AuditEvent.count({ where: { action: 'resource.download', objectId: resourceId } });
      await (await t.app.request(url, { headers: { authorization: editorToken } })).arrayBuffer();
      const events = await db.models.AuditEvent.findAll({ where: { action: 'resource.download', objectId: resourceId }, order: [['id', 'DESC']] });
      assert.equal(events.length, before + 1);
      assert.equal(events[0]!.get({ plain: true }).actor, 'editor');
    });
  });
}
