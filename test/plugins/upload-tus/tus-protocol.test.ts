// The tus plugin against the real tus-js-client over a real socket, and every refusal of
// the protocol through app.request: bad offsets, checksums, sizes, expiry, concurrency,
// permissions, names, and cleanup of stale uploads.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import * as tus from 'tus-js-client';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { MemoryDepot, memoryDepotPlugin } from '../../helpers/memory-depot.js';
import { ApiTokenServiceId, DatabaseId, JobQueueId, OrganizationServiceId, UserServiceId } from '../../../core/services/service-ids.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

for (const kind of databaseKinds()) {
  describe(`upload-tus (${kind})`, () => {
    let t: TestHost;
    let server: ServerType;
    let base: string;
    let token: string;
    let otherToken: string;
    const depot = new MemoryDepot();

    async function draft(name: string): Promise<void> {
      const { status, body } = await t.call('package_create', { name, owner_org: 'lab', state: 'draft' }, { token });
      assert.equal(status, 200, JSON.stringify(body));
    }

    async function create(dataset: string, filename: string, length: number, extra: Record<string, string> = {}, auth = token): Promise<Response> {
      const metadata = Object.entries({ package_id: dataset, filename, ...extra }).map(([k, v]) => `${k} ${b64(v)}`).join(',');
      return t.app.request('/upload/tus/', { method: 'POST', headers: { authorization: auth, 'tus-resumable': '1.0.0', 'upload-length': String(length), 'upload-metadata': metadata } });
    }

    async function patch(location: string, offset: number, body: Buffer, headers: Record<string, string> = {}): Promise<Response> {
      return t.app.request(location, { method: 'PATCH', headers: { authorization: token, 'tus-resumable': '1.0.0', 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset), ...headers }, body });
    }

    async function offsetOf(location: string): Promise<number> {
      const head = await t.app.request(location, { method: 'HEAD', headers: { authorization: token, 'tus-resumable': '1.0.0' } });
      assert.equal(head.status, 200);
      return Number(head.headers.get('upload-offset'));
    }

    async function resourcesOf(dataset: string): Promise<Array<{ name: string; state: string; size: number; sha256: string }>> {
      return ((await t.call('package_show', { id: dataset }, { token, method: 'GET' })).body.result as { resources: Array<{ name: string; state: string; size: number; sha256: string }> }).resources;
    }

    before(async () => {
      t = await startTestHost(kind, { plugins: [memoryDepotPlugin(depot)], pluginNames: ['upload-tus'], extraConfig: '[upload]\nmax_size = 10000000\nquota_bytes = 20000000\nexpiry_hours = 1\n' });
      const users = t.host.services.get(UserServiceId);
      const orgs = t.host.services.get(OrganizationServiceId);
      const tokens = t.host.services.get(ApiTokenServiceId);
      const uploader = await users.create({ name: 'uploader', email: 'u@example.org' });
      const outsider = await users.create({ name: 'outsider', email: 'o@example.org' });
      const org = await orgs.create({ name: 'lab' });
      await orgs.setMember(org.id, uploader.id, 'editor');
      token = (await tokens.create(uploader, 'test')).token;
      otherToken = (await tokens.create(outsider, 'test')).token;
      server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 });
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    });

    it('announces itself to OPTIONS', async () => {
      const response = await t.app.request('/upload/tus/', { method: 'OPTIONS' });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('tus-version'), '1.0.0');
      assert.match(response.headers.get('tus-extension') ?? '', /creation.*termination.*checksum.*expiration/);
      assert.equal(response.headers.get('tus-max-size'), '10000000');
    });

    it('receives a file from tus-js-client in chunks, and records size and sha256', async () => {
      await draft('client-upload');
      const data = randomBytes(1_500_000);
      const url = await new Promise<string>((resolve, reject) => {
        const upload = new tus.Upload(data, {
          endpoint: `${base}/upload/tus/`,
          chunkSize: 400_000,
          headers: { Authorization: token },
          metadata: { package_id: 'client-upload', filename: 'cells.rtdc' },
          retryDelays: [],
          onError: reject,
          onSuccess: () => resolve(upload.url!),
        });
        upload.start();
      });
      assert.match(url, /\/upload\/tus\/[0-9a-f]{32}$/);
      const [resource] = await resourcesOf('client-upload');
      assert.equal(resource!.name, 'cells.rtdc');
      assert.equal(resource!.size, data.length);
      assert.equal(resource!.sha256, createHash('sha256').update(data).digest('hex'));
      assert.equal(resource!.state, 'validating');
    });

    it('resumes an interrupted upload from the server offset, not from zero', async () => {
      await draft('resumed-upload');
      const data = randomBytes(1_000_000);
      let firstUrl = '';
      await new Promise<void>((resolve, reject) => {
        const upload = new tus.Upload(data, {
          endpoint: `${base}/upload/tus/`,
          chunkSize: 300_000,
          headers: { Authorization: token },
          metadata: { package_id: 'resumed-upload', filename: 'big.bin' },
          retryDelays: [],
          onError: reject,
          onChunkComplete: () => {
            firstUrl = upload.url!;
            void upload.abort().then(() => resolve());
          },
        });
        upload.start();
      });
      const offset = await offsetOf(new URL(firstUrl).pathname);
      assert.equal(offset, 300_000);
      const patched: number[] = [];
      await new Promise<void>((resolve, reject) => {
        const upload = new tus.Upload(data, {
          uploadUrl: firstUrl,
          chunkSize: 300_000,
          headers: { Authorization: token },
          retryDelays: [],
          onError: reject,
          onChunkComplete: (chunkSize) => void patched.push(chunkSize),
          onSuccess: () => resolve(),
        });
        upload.start();
      });
      assert.equal(patched.reduce((a, b) => a + b, 0), data.length - offset);
      const [resource] = await resourcesOf('resumed-upload');
      assert.equal(resource!.sha256, createHash('sha256').update(data).digest('hex'));
    });

    it('refuses a wrong offset (409), a wrong content type (415), a missing Tus-Resumable (412) and unknown ids (404)', async () => {
      await draft('refusals');
      const created = await create('refusals', 'a.bin', 10);
      assert.equal(created.status, 201);
      const location = created.headers.get('location')!;
      assert.equal((await patch(location, 5, Buffer.alloc(5))).status, 409);
      assert.equal((await patch(location, 0, Buffer.alloc(5), { 'content-type': 'application/json' })).status, 415);
      const noVersion = await t.app.request(location, { method: 'PATCH', headers: { authorization: token, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: Buffer.alloc(5) });
      assert.equal(noVersion.status, 412);
      assert.equal((await patch('/upload/tus/0123456789abcdef0123456789abcdef', 0, Buffer.alloc(1))).status, 404);
      assert.equal((await patch('/upload/tus/../../etc', 0, Buffer.alloc(1))).status, 404);
      assert.equal(await offsetOf(location), 0);
    });

    it('discards a chunk whose Upload-Checksum does not match (460) and accepts it again correctly', async () => {
      await draft('checksums');
      const location = (await create('checksums', 'c.bin', 8)).headers.get('location')!;
      const chunk = Buffer.from('abcdefgh');
      const wrong = await patch(location, 0, chunk, { 'upload-checksum': `sha1 ${createHash('sha1').update('other').digest('base64')}` });
      assert.equal(wrong.status, 460);
      assert.equal(await offsetOf(location), 0);
      const right = await patch(location, 0, chunk, { 'upload-checksum': `sha1 ${createHash('sha1').update(chunk).digest('base64')}` });
      assert.equal(right.status, 204);
      assert.equal((await resourcesOf('checksums'))[0]!.sha256, createHash('sha256').update(chunk).digest('hex'));
    });

    it('rejects a file whose declared sha256 differs, keeping nothing', async () => {
      await draft('declared');
      const objectsBefore = depot.objects.size;
      const location = (await create('declared', 'd.bin', 4, { sha256: '0'.repeat(64) })).headers.get('location')!;
      const response = await patch(location, 0, Buffer.from('data'));
      assert.equal(response.status, 460);
      assert.equal(depot.objects.size, objectsBefore);
      assert.deepEqual(await resourcesOf('declared'), []);
      assert.equal((await t.app.request(location, { method: 'HEAD', headers: { authorization: token, 'tus-resumable': '1.0.0' } })).status, 404);
    });

    it('refuses a PATCH longer than the rest of the upload (413) and keeps nothing of it', async () => {
      await draft('oversized');
      const location = (await create('oversized', 'o.bin', 4)).headers.get('location')!;
      assert.equal((await patch(location, 0, Buffer.from('too long'))).status, 413);
      assert.equal(await offsetOf(location), 0);
    });

    it('refuses files over max_size and uploads over the quota (413), and bad metadata (400)', async () => {
      await draft('limits');
      assert.equal((await create('limits', 'huge.bin', 10_000_001)).status, 413);
      const first = await create('limits', 'q1.bin', 9_000_000);
      assert.equal(first.status, 201);
      assert.equal((await create('limits', 'q2.bin', 9_000_000)).status, 201);
      const over = await create('limits', 'q3.bin', 9_000_000);
      assert.equal(over.status, 413);
      assert.match(((await over.json()) as { error: { message: string } }).error.message, /quota/);
      const bad = await t.app.request('/upload/tus/', { method: 'POST', headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-length': '5', 'upload-metadata': 'filename !!!' } });
      assert.equal(bad.status, 400);
      assert.equal((await create('limits', '..', 5)).status, 400);
      await t.app.request(first.headers.get('location')!, { method: 'DELETE', headers: { authorization: token, 'tus-resumable': '1.0.0' } });
    });

    it('sanitises names from paths, and refuses duplicates (409)', async () => {
      await draft('names');
      const created = await create('names', '../../etc/pass wd.rtdc', 3);
      assert.equal(created.status, 201);
      await patch(created.headers.get('location')!, 0, Buffer.from('abc'));
      assert.equal((await resourcesOf('names'))[0]!.name, 'pass_wd.rtdc');
      assert.equal((await create('names', 'pass_wd.rtdc', 3)).status, 409);
    });

    it('needs a token with edit rights, and a draft dataset', async () => {
      await draft('guarded');
      assert.equal((await create('guarded', 'x.bin', 3, {}, '')).status, 403);
      assert.equal((await create('guarded', 'x.bin', 3, {}, otherToken)).status, 404);
      await t.call('package_patch', { id: 'guarded', state: 'active' }, { token });
      assert.equal((await create('guarded', 'x.bin', 3)).status, 409);
    });

    it('answers 423 while another request holds the upload, and 410 once expired', async () => {
      await draft('locked');
      const location = (await create('locked', 'l.bin', 4)).headers.get('location')!;
      const id = location.split('/').pop()!;
      const db = t.host.services.get(DatabaseId);
      await db.sequelize.query(`UPDATE tus_uploads SET locked_until = :until, lock_owner = 'someone' WHERE id = :id`, { replacements: { until: new Date(Date.now() + 60_000), id } });
      assert.equal((await patch(location, 0, Buffer.from('data'))).status, 423);
      await db.sequelize.query(`UPDATE tus_uploads SET expires_at = :past WHERE id = :id`, { replacements: { past: new Date(Date.now() - 1000), id } });
      assert.equal((await patch(location, 0, Buffer.from('data'))).status, 410);
    });

    it('terminates an upload with DELETE, removing its bytes and its waiting resource', async () => {
      await draft('terminated');
      const location = (await create('terminated', 't.bin', 10)).headers.get('location')!;
      await patch(location, 0, Buffer.from('12345'));
      const id = location.split('/').pop()!;
      assert.equal(await depot.partials.size(id), 5);
      const response = await t.app.request(location, { method: 'DELETE', headers: { authorization: token, 'tus-resumable': '1.0.0' } });
      assert.equal(response.status, 204);
      assert.equal(await depot.partials.size(id), undefined);
      assert.deepEqual(await resourcesOf('terminated'), []);
    });

    it('reports stale uploads to inspect and removes them with --repair', async () => {
      // The memory depot lives in this process: run the check through the registry, as the CLI would.
      const check = t.host.registries.inspectChecks.get('uploads/stale tus uploads')!;
      const ctx = { services: t.host.services, config: t.host.config, deep: false, progress: () => undefined };
      const findings = await check.run(ctx);
      assert.ok(findings.some((f) => f.severity === 'problem' && /past their expiry/.test(f.title)), JSON.stringify(findings));
      for (const f of findings) if (f.repair) await f.repair.apply();
      const after = await check.run(ctx);
      assert.deepEqual(after.map((f) => f.severity), ['ok']);
    });

    it('removes expired uploads in a periodic job that schedules its next run, once per slot', async () => {
      await draft('expiring');
      const created = await create('expiring', 'late.bin', 100);
      assert.equal(created.status, 201);
      const location = new URL(created.headers.get('location')!, 'http://x').pathname;
      assert.equal((await patch(location, 0, Buffer.alloc(40))).status, 204);
      const id = location.split('/').pop()!;
      const db = t.host.services.get(DatabaseId);
      await db.sequelize.query(`UPDATE tus_uploads SET expires_at = :past WHERE id = :id`, { replacements: { past: new Date(Date.now() - 1000), id } });
      assert.equal(depot.partials.uploads.has(id), true, 'the partial bytes are there before the run');

      const queue = t.host.services.get(JobQueueId);
      const handler = t.host.registries.jobHandlers.get('tus.remove-expired')!;
      const logger = t.host.loggers.get('test');
      const result = await handler.run!({}, { jobId: 'test', attempt: 1, signal: new AbortController().signal, services: t.host.services, logger, progress: () => undefined });
      assert.deepEqual(result, { removed: 1 });
      assert.equal(depot.partials.uploads.has(id), false, 'the partial bytes are gone');
      assert.equal((await t.app.request(location, { method: 'HEAD', headers: { authorization: token, 'tus-resumable': '1.0.0' } })).status, 404);
      assert.deepEqual(await resourcesOf('expiring'), [], 'the waiting resource is gone');

      // The run scheduled the next one in the future; running again (a retry) adds no second job.
      await handler.run!({}, { jobId: 'test', attempt: 2, signal: new AbortController().signal, services: t.host.services, logger, progress: () => undefined });
      const queued = (await queue.list({ type: 'tus.remove-expired', state: 'queued' }));
      assert.equal(queued.length, 1, JSON.stringify(queued));
      assert.ok(queued[0]!.runAfter.getTime() > Date.now(), 'scheduled for later');
      assert.match(queued[0]!.dedupeKey ?? '', /^tus\.remove-expired:\d+$/);
    });
  });
}
