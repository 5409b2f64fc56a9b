// File uploads as ckanapi sends them: `demo.action.resource_create(package_id=..., upload=open(...))`
// becomes a multipart POST (ckanapi/common.py ActionShortcut and prepare_action) whose body
// python-requests prepares; Debian's python3-requests builds every body here. The file goes
// to the depot, hashed, gets the inspection job, and answers with CKAN's url and url_type.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, tableCounts, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { JobQueueId } from '../../../core/services/service-ids.js';
import { RESOURCE_INSPECT_JOB } from '../../../core/jobs/resource-inspection-job.js';
import { ckanapiPost, multipartFromRequests, sendMultipart } from './ckanapi-requests.js';

const MAX_SIZE = 256 * 1024;

interface Resource {
  id: string;
  name: string;
  url: string;
  url_type: string | null;
  size: number | null;
  sha256: string | null;
  state: string;
  format: string;
  description: string;
  package_id: string;
}

for (const kind of databaseKinds()) {
  describe(`CKAN multipart uploads (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let dir: string;

    const file = async (name: string, bytes: Buffer): Promise<string> => {
      const path = join(dir, name);
      await writeFile(path, bytes);
      return path;
    };

    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['depot-fs'], extraConfig: `[platform]\nsite_url = https://data.example.org\n[upload]\nmax_size = ${MAX_SIZE}\n[jobs]\nworker = external` });
      f = await createApiFixtures(t);
      dir = await mkdtemp(join(tmpdir(), 'ckan-upload-'));
      assert.equal((await ckanapiPost(t, 'package_create', { name: 'uploads', owner_org: 'lab' }, f.tokens.editor)).status, 200);
    });
    after(async () => {
      await t.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('resource_create with an upload stores the file, hashes it, queues its inspection and answers as CKAN', async () => {
      const bytes = randomBytes(100_000);
      const path = await file('cells.csv', bytes);
      const prepared = await multipartFromRequests('resource_create', { package_id: 'uploads', name: 'cells.csv', description: 'Cells', url: '' }, { path, filename: 'cells.csv' }, f.tokens.editor);
      assert.match(prepared.headers['Content-Type']!, /^multipart\/form-data; boundary=[0-9a-f]{32}$/, 'python-requests made the body');
      const { status, body } = await sendMultipart(t, 'resource_create', prepared);
      assert.equal(status, 200, JSON.stringify(body));
      const resource = body.result as Resource;
      assert.equal(resource.size, bytes.length);
      assert.equal(resource.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(resource.url_type, 'upload');
      assert.equal(resource.state, 'validating');
      assert.equal(resource.description, 'Cells');
      assert.equal(resource.url, `https://data.example.org/dataset/${resource.package_id}/resource/${resource.id}/download/cells.csv`);
      const jobs = await t.host.services.get(JobQueueId).list({ type: RESOURCE_INSPECT_JOB });
      assert.ok(jobs.some((job) => job.payload.resourceId === resource.id), 'the same inspection job as a tus upload');
      const download = await t.app.request(new URL(resource.url).pathname, { headers: { authorization: f.tokens.editor } });
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes);
    });

    it('takes the name from the file when none is given, and resource_update replaces the file', async () => {
      const first = await sendMultipart(t, 'resource_create', await multipartFromRequests('resource_create', { package_id: 'uploads' }, { path: await file('first.txt', Buffer.from('one\n')), filename: 'first.txt' }, f.tokens.editor));
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const created = first.body.result as Resource;
      assert.equal(created.name, 'first.txt');
      const replaced = await sendMultipart(t, 'resource_update', await multipartFromRequests('resource_update', { id: created.id, name: 'first.txt' }, { path: await file('second.txt', Buffer.from('two, longer\n')), filename: 'second.txt' }, f.tokens.editor));
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      assert.equal((replaced.body.result as Resource).size, 12);
      assert.equal((replaced.body.result as Resource).id, created.id);
      const patched = await sendMultipart(t, 'resource_patch', await multipartFromRequests('resource_patch', { id: created.id }, { path: await file('third.txt', Buffer.from('3\n')), filename: 'third.txt' }, f.tokens.editor));
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal((patched.body.result as Resource).size, 2);
    });

    it('refuses a body over [upload] max_size with 413 before reading it, and keeps nothing', async () => {
      const before = await tableCounts(t);
      const prepared = await multipartFromRequests('resource_create', { package_id: 'uploads', name: 'big.bin' }, { path: await file('big.bin', randomBytes(MAX_SIZE + 10)), filename: 'big.bin' }, f.tokens.editor);
      const declared = await sendMultipart(t, 'resource_create', prepared);
      assert.equal(declared.status, 413, JSON.stringify(declared.body));
      assert.deepEqual(await tableCounts(t), before);
    });

    it('refuses a body that passes max_size without declaring its length (chunked), mid-stream, and keeps nothing', async () => {
      const prepared = await multipartFromRequests('resource_create', { package_id: 'uploads', name: 'chunked.bin' }, { path: await file('chunked.bin', randomBytes(MAX_SIZE + 10)), filename: 'chunked.bin' }, f.tokens.editor);
      const { 'Content-Length': _length, ...headers } = prepared.headers;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < prepared.body.length; at += 16_384) controller.enqueue(prepared.body.subarray(at, at + 16_384));
          controller.close();
        },
      });
      const response = await t.app.request('/api/action/resource_create', { method: 'POST', headers, body, duplex: 'half' } as RequestInit);
      assert.equal(response.status, 413, await response.text());
      const listed = (await ckanapiPost(t, 'package_show', { id: 'uploads' }, f.tokens.editor)).body.result as { resources: Resource[] };
      assert.equal(listed.resources.some((r) => r.name === 'chunked.bin'), false, 'the resource made for the upload is gone again');
    });

    it('an anonymous upload is refused before its body is read; a file part not named "upload" is a 400', async () => {
      const path = await file('anon.txt', Buffer.from('x'));
      const anonymous = await sendMultipart(t, 'resource_create', await multipartFromRequests('resource_create', { package_id: 'uploads' }, { path, filename: 'anon.txt' }));
      assert.equal(anonymous.status, 403);
      const wrong = await sendMultipart(t, 'resource_create', await multipartFromRequests('resource_create', { package_id: 'uploads', name: 'x.txt' }, { path, filename: 'anon.txt', field: 'file' }, f.tokens.editor));
      assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
      assert.match(wrong.body.error!.message, /"upload"/);
    });
  });
}
