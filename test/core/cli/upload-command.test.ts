// platform upload end to end over HTTPS: the client trusts only the certificate in the
// access token, creates a draft, uploads with tus into depot-fs, resumes from the server's
// offset, compares checksums and activates the dataset.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:https';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { OrganizationServiceId, UserServiceId } from '../../../core/services/service-ids.js';
import { readAccessTokenFile } from '../../../core/auth/access-token-file.js';
import { PlatformClient } from '../../../core/client/platform-client.js';
import { UploadState, uploadKey } from '../../../core/client/upload-state.js';

const tls = fileURLToPath(new URL('../../../../test/fixtures/tls/', import.meta.url));

for (const kind of databaseKinds()) {
  describe(`platform upload over HTTPS (${kind})`, () => {
    let t: TestHost;
    let server: ServerType;
    let url: string;
    let tokenFile: string;
    let passwordFile: string;
    let stateFile: string;
    let patchedBytes = 0;
    const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
    const upload = (...args: string[]) => runCli(['upload', '--access-token', tokenFile, '--password-file', passwordFile, '--server', url, '--chunk-size', '0.25', ...args], { PLATFORM_UPLOAD_STATE: stateFile });

    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['depot-fs', 'upload-tus'] });
      const user = await t.host.services.get(UserServiceId).create({ name: 'alice', email: 'alice@example.org' });
      const orgs = t.host.services.get(OrganizationServiceId);
      const org = await orgs.create({ name: 'lab' });
      await orgs.setMember(org.id, user.id, 'editor');
      passwordFile = join(t.db.dir, 'token-password');
      writeFileSync(passwordFile, 'token-password-1\n', { mode: 0o600 });
      tokenFile = join(t.db.dir, 'alice.dcor-access');
      stateFile = join(t.db.dir, 'uploads.json');
      const made = await runCli(['--config', t.configFile, 'access-token', 'create', '--user', 'alice', '--cert', join(tls, 'server.cert'), '--out', tokenFile, '--password-file', passwordFile]);
      assert.equal(made.status, 0, made.stderr);
      const app = t.app;
      server = serve({
        fetch: async (request) => {
          if (request.method === 'PATCH') patchedBytes += Number(request.headers.get('content-length') ?? 0);
          return app.fetch(request);
        },
        createServer,
        serverOptions: { key: readFileSync(join(tls, 'server.key')), cert: readFileSync(join(tls, 'server.cert')) },
        hostname: '127.0.0.1',
        port: 0,
      });
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    });

    it('creates a draft, uploads every file intact, and activates the dataset', async () => {
      const files = [join(t.db.dir, 'one.rtdc'), join(t.db.dir, 'two.csv')];
      writeFileSync(files[0]!, randomBytes(700_000));
      writeFileSync(files[1]!, 'a,b\n1,2\n');
      const run = await upload('--create-dataset', '--org', 'lab', '--title', 'Cells 2026', '--activate', ...files);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /created draft dataset cells-2026/);
      assert.match(run.stderr, /one\.rtdc: done, sha256/);
      const dataset = (await t.call('package_show', { id: 'cells-2026' }, { method: 'GET' })).body.result as { state: string; resources: Array<{ name: string; sha256: string }> };
      assert.equal(dataset.state, 'active');
      assert.deepEqual(dataset.resources.map((r) => [r.name, r.sha256]), files.map((f) => [f.split('/').pop(), sha(f)]));
    });

    it('continues an interrupted upload from the server offset', async () => {
      const created = await upload('--create-dataset', '--org', 'lab', '--title', 'Resumed', '--json');
      assert.equal(created.status, 2, 'no files: usage error');
      await t.call('package_create', { name: 'resumed', owner_org: 'lab', state: 'draft' }, { token: (await readAccessTokenFile(readFileSync(tokenFile), 'token-password-1')).apiKey });
      const file = join(t.db.dir, 'big.bin');
      writeFileSync(file, randomBytes(1_000_000));
      // A first run that got 400,000 bytes across before it was interrupted.
      const apiKey = (await readAccessTokenFile(readFileSync(tokenFile), 'token-password-1')).apiKey;
      const client = new PlatformClient(url, apiKey, readFileSync(join(tls, 'server.cert'), 'utf8'));
      const dataset = await client.action<{ id: string }>('package_show', { id: 'resumed' });
      const path = await client.createUpload(1_000_000, { package_id: dataset.id, filename: 'big.bin' });
      await client.patch(path, file, 0, 400_000, () => undefined);
      await client.close();
      const info = statSync(file);
      new UploadState(stateFile).set(uploadKey({ server: url, dataset: dataset.id, path: file, size: info.size, mtimeMs: info.mtimeMs }), path);
      patchedBytes = 0;
      const run = await upload('--dataset', 'resumed', '--json', file);
      assert.equal(run.status, 0, run.stderr);
      assert.equal(patchedBytes, 600_000, 'only the missing bytes were sent');
      const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; resumedAt?: number });
      assert.equal(events.find((e) => e.event === 'start')!.resumedAt, 400_000);
      const shown = (await t.call('package_show', { id: 'resumed' }, { token: apiKey, method: 'GET' })).body.result as { resources: Array<{ sha256: string }> };
      assert.equal(shown.resources[0]!.sha256, sha(file));
    });

    it('refuses a server whose certificate is not the one in the token', async () => {
      const other = join(t.db.dir, 'other.dcor-access');
      assert.equal((await runCli(['--config', t.configFile, 'access-token', 'create', '--user', 'alice', '--cert', join(tls, 'other.cert'), '--out', other, '--password-file', passwordFile])).status, 0);
      const file = join(t.db.dir, 'three.txt');
      writeFileSync(file, 'three');
      const run = await runCli(['upload', '--access-token', other, '--password-file', passwordFile, '--server', url, '--dataset', 'resumed', file], { PLATFORM_UPLOAD_STATE: stateFile });
      assert.equal(run.status, 1);
      assert.match(run.stderr, /does not present the certificate in your access token/);
    });

    it('says why when the dataset is not a draft, and exits non-zero', async () => {
      const file = join(t.db.dir, 'late.txt');
      writeFileSync(file, 'late');
      const run = await upload('--dataset', 'cells-2026', file);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /late\.txt: .*files can be uploaded only to drafts/);
    });
  });
}
