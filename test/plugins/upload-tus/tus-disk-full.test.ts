// Disk full, for real: depot-fs on a 2 MiB tmpfs. A tus PATCH that does not fit answers 507
// with the offset to resume from, keeps nothing of itself and leaves the upload resumable; a
// direct store that does not fit stores nothing and leaves no temporary file. Needs root (to
// mount the tmpfs), as CI runs; skipped with the reason elsewhere.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { ActionRunnerId, ApiTokenServiceId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';
import { StorageFullError } from '../../../core/errors.js';
import type { Actor } from '../../../core/auth/actor.js';

/** Mounts a tmpfs of `size` at a new directory; a string says why it could not. */
function mountTmpfs(size: string): string | { dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'depot-full-'));
  const run = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { encoding: 'utf8' });
  if (run.status === 0) return { dir };
  rmSync(dir, { recursive: true, force: true });
  return `a tmpfs cannot be mounted here (${(run.stderr || run.error?.message || '').trim()}); run as root`;
}

const probe = mountTmpfs('64k');
const cannotMount = typeof probe === 'string' ? probe : false;
if (typeof probe !== 'string') {
  spawnSync('umount', [probe.dir]);
  rmSync(probe.dir, { recursive: true, force: true });
}

for (const kind of databaseKinds()) {
  describe(`a full depot disk (${kind})`, { skip: cannotMount }, () => {
    let t: TestHost;
    let dir: string;
    let token: string;
    let actor: Actor;

    const tusHeaders = (extra: Record<string, string>): Record<string, string> => ({ authorization: token, 'tus-resumable': '1.0.0', ...extra });
    const filesUnder = (sub: string): string[] => readdirSync(join(dir, sub), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

    before(async () => {
      dir = (mountTmpfs('2m') as { dir: string }).dir;
      t = await startTestHost(kind, { pluginNames: ['depot-fs', 'upload-tus'], extraConfig: `[plugin:depot-fs]\nroot = ${dir}\n` });
      const user = await t.host.services.get(UserServiceId).create({ name: 'uploader', email: 'u@example.org' });
      actor = { kind: 'user', user: { id: user.id, name: user.name, sysadmin: false } };
      const orgs = t.host.services.get(OrganizationServiceId);
      const org = await orgs.create({ name: 'lab' });
      await orgs.setMember(org.id, user.id, 'editor');
      token = (await t.host.services.get(ApiTokenServiceId).create(user, 'test')).token;
      await t.call('package_create', { name: 'big', owner_org: 'lab', state: 'draft' }, { token });
    });
    after(async () => {
      await t?.close();
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers a PATCH that does not fit with 507, keeps nothing of it, and the upload resumes once there is room', async () => {
      const length = 3 * 1024 * 1024;
      const metadata = `package_id ${Buffer.from('big').toString('base64')},filename ${Buffer.from('huge.bin').toString('base64')}`;
      const created = await t.app.request('/upload/tus/', { method: 'POST', headers: tusHeaders({ 'upload-length': String(length), 'upload-metadata': metadata }) });
      assert.equal(created.status, 201, await created.text());
      const location = new URL(created.headers.get('location')!, 'http://x').pathname;
      const patch = async (offset: number, body: Buffer): Promise<Response> =>
        t.app.request(location, { method: 'PATCH', headers: tusHeaders({ 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) }), body });

      const small = await patch(0, Buffer.alloc(512 * 1024, 1));
      assert.equal(small.status, 204, await small.text());
      const full = await patch(512 * 1024, Buffer.alloc(length - 512 * 1024, 2));
      assert.equal(full.status, 507);
      assert.match(await full.text(), /storage is full; nothing of this PATCH was kept and the upload stays at offset 524288/);
      const head = await t.app.request(location, { method: 'HEAD', headers: tusHeaders({}) });
      assert.equal(head.headers.get('upload-offset'), '524288', 'the offset is where it was');
      assert.deepEqual(filesUnder('resources'), [], 'no resource file');
      const dataset = (await t.call('package_show', { id: 'big' }, { token })).body.result as { resources: Array<{ state: string }> };
      assert.ok(dataset.resources.every((r) => r.state !== 'active'), 'no active resource');
      // Room for another chunk: the upload goes on from its offset.
      const next = await patch(512 * 1024, Buffer.alloc(256 * 1024, 3));
      assert.equal(next.status, 204, await next.text());
      assert.equal(next.headers.get('upload-offset'), String(768 * 1024));
      assert.equal((await t.app.request(location, { method: 'DELETE', headers: tusHeaders({}) })).status, 204);
    });

    it('refuses a direct store that does not fit with a clear error, and leaves no temporary file', async () => {
      const runner = t.host.services.get(ActionRunnerId);
      const resource = (await runner.run('resource_create', { package_id: 'big', name: 'direct.bin' }, { actor, address: '', requestId: 'test' })) as { id: string };
      const data = Readable.from([Buffer.alloc(1024 * 1024, 4), Buffer.alloc(1024 * 1024, 5), Buffer.alloc(1024 * 1024, 6)]);
      await assert.rejects(t.host.services.get(ResourceIntakeId).storeStream(resource.id, data, {}, { actor, protocol: 'test' }), (error: unknown) => {
        assert.ok(error instanceof StorageFullError, String(error));
        assert.equal(error.status, 507);
        assert.match(error.message, /^depot "fs" is full \(ENOSPC: no space left under its root\); nothing of .* was stored: free space, then send it again$/);
        return true;
      });
      assert.deepEqual(filesUnder('tmp'), [], 'the temporary file is removed');
      assert.deepEqual(filesUnder('resources'), []);
    });
  });
}
