// Another instance of the platform as the destination: files are uploaded with tus into a
// draft dataset there with an API token from a file or from a `.dcor-access` token, verified
// by the sha256 it stored, and neither the token nor the password appears in the trail.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import type { TestHost } from '../../helpers/test-host.js';
import type { ApiFixtures } from '../../helpers/api-fixtures.js';
import { startDistributionToPeer, startRemotePlatform } from './remote-platform.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { makePdf } from './test-pdf.js';
import { writeAccessTokenFile } from '../../../core/auth/access-token-file.js';

const serverCert = readFileSync(fileURLToPath(new URL('../../../../test/fixtures/tls/server.cert', import.meta.url)), 'utf8');

for (const kind of databaseKinds()) {
  describe(`delivery to another platform instance (${kind})`, () => {
    let peer: Awaited<ReturnType<typeof startRemotePlatform>>;
    let remote: TestHost;
    let f: ApiFixtures;
    let d: DistributionHost;

    before(async () => {
      peer = await startRemotePlatform(['inbox', 'other-inbox']);
      ({ remote, f } = peer);
      d = await startDistributionToPeer(kind, { url: `http://127.0.0.1:${peer.port}/`, token: f.tokens.editor, maxAttempts: 1, rules: [{ label: 'x', pattern: '^(X)', capture: 1 }] });
    });
    after(async () => {
      await d?.close();
      await peer?.close();
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

  describe(`delivery to another platform instance with a .dcor-access token (${kind})`, () => {
    let peer: Awaited<ReturnType<typeof startRemotePlatform>>;
    let remote: TestHost;
    let f: ApiFixtures;
    let d: DistributionHost;
    const password = 'correct horse battery staple';

    before(async () => {
      peer = await startRemotePlatform(['inbox']);
      ({ remote, f } = peer);
      const { port } = peer;
      const token = await writeAccessTokenFile({ apiKey: f.tokens.editor, certificatePem: serverCert, password, encryption: 'aes-256' });
      d = await startDistributionHost(kind, {
        rules: ({ dir }) => {
          mkdirSync(join(dir, 'secrets'), { recursive: true });
          writeFileSync(join(dir, 'secrets', 'lab.dcor-access'), token);
          writeFileSync(join(dir, 'secrets', 'lab.password'), `${password}\n`);
          writeFileSync(join(dir, 'secrets', 'wrong.password'), 'not the password\n');
          return {
            destinations: {
              peer: { kind: 'platform', url: `http://127.0.0.1:${port}/`, dataset: 'inbox', access_token: 'secrets/lab.dcor-access', password_file: 'secrets/lab.password' },
              locked: { kind: 'platform', url: `http://127.0.0.1:${port}/`, dataset: 'inbox', access_token: 'secrets/lab.dcor-access', password_file: 'secrets/wrong.password' },
            },
            rules: [{ label: 'locked', router: 'by-mime', pattern: '^LOCKED', base: 'locked', folder: '' }, { label: 'peer', router: 'by-mime', base: 'peer', folder: '' }],
          };
        },
        settings: { max_attempts: 1 },
      });
      await d.t.host.startPlugins();
      await d.startWorker();
    });
    after(async () => {
      await d?.close();
      await peer?.close();
    });

    it('opens the token file and uploads with its API key, verified by the sha256 stored there', async () => {
      const bytes = makePdf(['TOKEN1 result']);
      writeFileSync(join(d.drop, 'TOKEN1_result.pdf'), bytes);
      await d.waitForState('TOKEN1_result.pdf', 'archived');
      const shown = (await remote.call('package_show', { id: 'inbox' }, { token: f.tokens.editor, method: 'GET' })).body.result as { resources: Array<{ name: string; sha256: string }> };
      assert.equal(shown.resources.find((r) => r.name === 'TOKEN1_result.pdf')?.sha256, createHash('sha256').update(bytes).digest('hex'));
    });

    it('fails a delivery whose token password is wrong, saying so without the password or the key', async () => {
      writeFileSync(join(d.drop, 'LOCKED1_result.pdf'), makePdf(['LOCKED1 result']));
      const failed = await d.waitForState('LOCKED1_result.pdf', 'failed');
      assert.match(failed.reason!, /destination "locked": its credentials cannot be read: wrong password for the access token file/);
      const trail = JSON.stringify(await d.store.events({})) + JSON.stringify(d.t.logs);
      assert.ok(!trail.includes('not the password') && !trail.includes(password), 'no password in the trail or the logs');
      assert.ok(!trail.includes(f.tokens.editor), 'no API key in the trail or the logs');
    });
  });
}
