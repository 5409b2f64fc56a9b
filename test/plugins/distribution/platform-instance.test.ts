// Another instance of the platform as the destination: files are uploaded with tus into a
// draft dataset there with an API token from a file, verified by the sha256 it stored, and
// the token never appears in the trail.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';

for (const kind of databaseKinds()) {
  describe(`delivery to another platform instance (${kind})`, () => {
    let remote: TestHost;
    let f: ApiFixtures;
    let server: ServerType;
    let d: DistributionHost;

    before(async () => {
      remote = await startTestHost('sqlite', { pluginNames: ['depot-fs', 'upload-tus'] });
      f = await createApiFixtures(remote);
      for (const name of ['inbox', 'other-inbox']) {
        const created = await remote.call('package_create', { name, owner_org: 'lab', state: 'draft' }, { token: f.tokens.editor });
        assert.equal(created.status, 200, JSON.stringify(created.body.error));
      }
      server = serve({ fetch: remote.app.fetch, hostname: '127.0.0.1', port: 0 });
      await new Promise((resolve) => server.once('listening', resolve));
      const port = (server.address() as AddressInfo).port;
      d = await startDistributionHost(kind, {
        rules: ({ dir }) => {
          mkdirSync(join(dir, 'secrets'), { recursive: true });
          writeFileSync(join(dir, 'secrets', 'token'), `${f.tokens.editor}\n`);
          return { destinations: { peer: { kind: 'platform', url: `http://127.0.0.1:${port}/`, dataset: 'inbox', token_file: 'secrets/token' } }, rules: [{ label: 'peer', router: 'by-mime', base: 'peer', folder: '' }, { label: 'x', pattern: '^(X)', capture: 1 }] };
        },
        settings: { max_attempts: 1 },
      });
      await d.t.host.startPlugins();
      await d.startWorker();
    });
    after(async () => {
      await d?.close();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await remote?.close();
    });

    it('uploads into the dataset there, verified by the sha256 it stored', async () => {
      const bytes = makePdf(['PEER1 result']);
      writeFileSync(join(d.drop, 'PEER1_result.pdf'), bytes);
      const sent = await d.waitForState('PEER1_result.pdf', 'archived');
      const shown = (await remote.call('package_show', { id: 'inbox' }, { token: f.tokens.editor, method: 'GET' })).body.result as { resources: Array<{ id: string; name: string; sha256: string }> };
      const resource = shown.resources.find((r) => r.name === 'PEER1_result.pdf');
      assert.equal(resource?.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.match(sent.remoteLocation!, new RegExp(`/dataset/inbox/resource/${resource!.id}/download/PEER1_result\\.pdf$`));
      const events = await d.store.events({ fileIds: [sent.id], kind: 'sent' });
      assert.match(events[0]!.detail!, /verified size \d+ and sha256/);
    });

    it('records the other platform\'s refusal with its reason, without the token', async () => {
      // A second file of the same name cannot go into the same dataset there.
      const remoteResource = (await remote.call('resource_create', { package_id: 'inbox', name: 'PEER2_result.pdf' }, { token: f.tokens.editor })).body;
      assert.equal(remoteResource.success, true);
      writeFileSync(join(d.drop, 'PEER2_result.pdf'), makePdf(['PEER2 result']));
      const failed = await d.waitForState('PEER2_result.pdf', 'failed');
      assert.match(failed.reason!, /destination "peer": creating the upload of "PEER2_result\.pdf" in dataset "inbox" answered 409: dataset "inbox" already has a resource named "PEER2_result\.pdf"/);
      const trail = JSON.stringify(await d.store.events({})) + JSON.stringify(d.t.logs);
      assert.ok(!trail.includes(f.tokens.editor), 'the token is not in the trail or the logs');
    });
  });
}
