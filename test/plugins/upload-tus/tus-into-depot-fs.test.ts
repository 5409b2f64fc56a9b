// End to end on the real filesystem depot: tus-js-client uploads into depot-fs, the file
// lands in DCOR's layout with the right sha256, and downloads stream it back.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import * as tus from 'tus-js-client';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { ApiTokenServiceId, OrganizationServiceId, UserServiceId } from '../../../core/services/service-ids.js';

for (const kind of databaseKinds()) {
  describe(`tus into depot-fs (${kind})`, () => {
    let t: TestHost;
    let server: ServerType;
    let token: string;
    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['depot-fs', 'upload-tus'] });
      const user = await t.host.services.get(UserServiceId).create({ name: 'uploader', email: 'u@example.org' });
      const orgs = t.host.services.get(OrganizationServiceId);
      const org = await orgs.create({ name: 'lab' });
      await orgs.setMember(org.id, user.id, 'editor');
      token = (await t.host.services.get(ApiTokenServiceId).create(user, 'test')).token;
      server = serve({ fetch: t.app.fetch, hostname: '127.0.0.1', port: 0 });
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    });

    it('stores the upload in DCOR layout and serves it back', async () => {
      await t.call('package_create', { name: 'on-disk', owner_org: 'lab', state: 'draft' }, { token });
      const data = randomBytes(2_000_000);
      const port = (server.address() as AddressInfo).port;
      await new Promise<void>((resolve, reject) => {
        new tus.Upload(data, {
          endpoint: `http://127.0.0.1:${port}/upload/tus/`,
          chunkSize: 700_000,
          headers: { Authorization: token },
          metadata: { package_id: 'on-disk', filename: 'measurement.rtdc' },
          retryDelays: [],
          onError: reject,
          onSuccess: () => resolve(),
        }).start();
      });
      const dataset = (await t.call('package_show', { id: 'on-disk' }, { token })).body.result as { id: string; resources: Array<{ id: string; sha256: string }> };
      const resource = dataset.resources[0]!;
      assert.equal(resource.sha256, createHash('sha256').update(data).digest('hex'));
      const root = join(t.db.dir, 'data', 'depot');
      const onDisk = join(root, 'resources', resource.id.slice(0, 3), resource.id.slice(3, 6), resource.id.slice(6));
      assert.deepEqual(readFileSync(onDisk), data);
      assert.deepEqual(readdirSync(join(root, 'incoming')), []);
      const download = await fetch(`http://127.0.0.1:${port}/dataset/on-disk/resource/${resource.id}/download/measurement.rtdc`, { headers: { authorization: token } });
      assert.equal(download.status, 200);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), data);
    });
  });
}
