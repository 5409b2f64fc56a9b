// A platform whose active depot is depot-s3 on a real RADOS Gateway: tus-js-client uploads
// land as private objects in the organisation's bucket with the right sha256 and leave no
// pieces or multipart uploads behind; public downloads redirect to a presigned URL the gateway
// serves, private ones stream through the platform; inspect finds orphaned objects and
// --repair quarantines them in place, deleting nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { serve, type ServerType } from '@hono/node-server';
import * as tus from 'tus-js-client';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { rgwEndpoint, rgwSkipReason } from '../../helpers/rgw.js';
import { runCli } from '../../helpers/run-cli.js';
import { ApiTokenServiceId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';
import type { InspectReport } from '../../../core/inspect/inspect-report.js';
import type { S3Depot } from '../../../plugins/depot-s3/s3-depot.js';

const rgw = rgwEndpoint();
const MiB = 1024 * 1024;

for (const kind of databaseKinds()) {
  describe(`depot-s3 behind the platform (${kind})`, { skip: !rgw && rgwSkipReason() }, () => {
    let t: TestHost;
    let server: ServerType;
    let base: string;
    let token: string;
    let depot: S3Depot;
    let keys: string;
    const prefix = `h${process.pid}-${kind.slice(0, 2)}-${randomBytes(2).toString('hex')}-`;

    before(async () => {
      keys = mkdtempSync(join(tmpdir(), 's3-keys-'));
      writeFileSync(join(keys, 'access'), `${rgw!.accessKey}\n`, { mode: 0o600 });
      writeFileSync(join(keys, 'secret'), `${rgw!.secretKey}\n`, { mode: 0o600 });
      t = await startTestHost(kind, {
        pluginNames: ['depot-s3', 'upload-tus'],
        extraConfig: ['[depot]', 'active = s3', '[plugin:depot-s3]', `endpoint = ${rgw!.endpoint}`, `region = ${rgw!.region}`, `bucket_prefix = ${prefix}`, `access_key_file = ${join(keys, 'access')}`, `secret_key_file = ${join(keys, 'secret')}`, 'part_size_mb = 5', 'presign_seconds = 60'].join('\n'),
      });
      depot = t.host.services.get(ResourceIntakeId).depot('s3') as S3Depot;
      const user = await t.host.services.get(UserServiceId).create({ name: 'uploader', email: 'u@example.org' });
      const orgs = t.host.services.get(OrganizationServiceId);
      const org = await orgs.create({ name: 'lab' });
      await orgs.setMember(org.id, user.id, 'editor');
      token = (await t.host.services.get(ApiTokenServiceId).create(user, 'test')).token;
      server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 });
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const bucket of (await depot.client.listBuckets()).filter((b) => b.startsWith(prefix))) {
        for await (const upload of depot.client.listMultipartUploads(bucket)) await depot.client.abortMultipartUpload(bucket, upload.key, upload.uploadId);
        for await (const object of depot.client.listObjects(bucket)) await depot.client.deleteObject(bucket, object.key);
        await depot.client.deleteBucket(bucket);
      }
      await t.close();
      rmSync(keys, { recursive: true, force: true });
    });

    async function upload(dataset: string, name: string, data: Buffer, chunkSize: number): Promise<{ id: string; sha256: string }> {
      await new Promise<void>((resolve, reject) => {
        new tus.Upload(data, {
          endpoint: `${base}/upload/tus/`, chunkSize, headers: { Authorization: token },
          metadata: { package_id: dataset, filename: name }, retryDelays: [], onError: reject, onSuccess: () => resolve(),
        }).start();
      });
      const shown = (await t.call('package_show', { id: dataset }, { token })).body.result as { resources: Array<{ id: string; name: string; sha256: string }> };
      return shown.resources.find((r) => r.name === name)!;
    }

    async function inspect(...args: string[]): Promise<InspectReport> {
      const run = await runCli(['--config', t.configFile, 'inspect', '--json', '--only', 'depot', ...args]);
      return JSON.parse(run.stdout) as InspectReport;
    }

    it("stores tus uploads (PATCHes under S3's part minimum) in the organisation's bucket, leaving nothing behind", async () => {
      assert.equal((await t.call('package_create', { name: 'public-data', owner_org: 'lab', state: 'draft' }, { token })).status, 200);
      const data = randomBytes(11 * MiB + 3);
      const resource = await upload('public-data', 'cells.rtdc', data, 700_000);
      assert.equal(resource.sha256, createHash('sha256').update(data).digest('hex'));
      const objectKey = `resource/${resource.id.slice(0, 3)}/${resource.id.slice(3, 6)}/${resource.id.slice(6)}`;
      assert.equal((await depot.client.headObject(`${prefix}lab`, objectKey))?.size, data.length);
      const pieces = [];
      for await (const object of depot.client.listObjects(`${prefix}incoming`)) pieces.push(object.key);
      assert.deepEqual(pieces, []);
      for (const bucket of [`${prefix}lab`, `${prefix}incoming`]) {
        for await (const left of depot.client.listMultipartUploads(bucket)) assert.fail(`multipart upload left in ${bucket}: ${left.key}`);
      }
    });

    it('redirects public downloads to a presigned URL the gateway serves, and streams private ones', async () => {
      const data = randomBytes(300_000);
      const open = await upload('public-data', 'open.bin', data, 1_000_000);
      const path = `/dataset/public-data/resource/${open.id}/download/open.bin`;
      const redirect = await fetch(`${base}${path}`, { headers: { authorization: token }, redirect: 'manual' });
      assert.equal(redirect.status, 302);
      const location = redirect.headers.get('location')!;
      assert.ok(location.startsWith(`${rgw!.endpoint}/${prefix}lab/resource/`), location);
      assert.match(location, /X-Amz-Expires=60&/);
      const followed = await fetch(location);
      assert.equal(followed.status, 200);
      assert.deepEqual(Buffer.from(await followed.arrayBuffer()), data);
      assert.match(followed.headers.get('content-disposition') ?? '', /open\.bin/);

      assert.equal((await t.call('package_create', { name: 'private-data', owner_org: 'lab', private: true, state: 'draft' }, { token })).status, 200);
      const closed = await upload('private-data', 'closed.bin', data, 1_000_000);
      const streamed = await fetch(`${base}/dataset/private-data/resource/${closed.id}/download/closed.bin`, { headers: { authorization: token }, redirect: 'manual' });
      assert.equal(streamed.status, 200);
      assert.deepEqual(Buffer.from(await streamed.arrayBuffer()), data);
      const ranged = await fetch(`${base}/dataset/private-data/resource/${closed.id}/download/closed.bin`, { headers: { authorization: token, range: 'bytes=10-19' } });
      assert.equal(ranged.status, 206);
      assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), data.subarray(10, 20));
    });

    it('inspect reports orphaned objects; --repair moves them under quarantine/ in their bucket, deleting nothing', async () => {
      const orphanId = '0123456789abcdef0123456789abcdef';
      const orphan = await depot.put(orphanId, Readable.from([Buffer.from('nobody owns me')]));
      const bucket = orphan.location.split('/')[0]!;
      const report = await inspect('--repair', '--yes');
      const findings = report.checks.flatMap((c) => c.findings.map((f) => f.title));
      assert.ok(findings.some((f) => /1 file\(s\) in depot "s3" belong to no resource/.test(f)), findings.join('\n'));
      assert.equal(await depot.stat(orphan.location), undefined);
      const quarantined = `${bucket}/quarantine/${orphan.location.slice(bucket.length + 1)}`;
      assert.equal((await depot.client.headObject(bucket, quarantined.slice(bucket.length + 1)))?.size, 14);
      const again = await inspect();
      assert.equal(again.checks.flatMap((c) => c.findings).filter((f) => f.severity === 'problem' && /belong to no resource/.test(f.title)).length, 0);
    });
  });
}
