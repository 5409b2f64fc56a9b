// inspect's depot consistency on a real depot-fs installation: missing, truncated and
// corrupt files (corrupt only with --deep), orphans quarantined (never deleted), resources
// with missing files marked; stale tus uploads removed. Each is reported with exit 1,
// repaired with --repair --yes, and a second run is clean.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync, chmodSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import type { InspectReport } from '../../../core/inspect/inspect-report.js';
import { DatabaseId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';
import type { Actor } from '../../../core/auth/actor.js';

for (const kind of databaseKinds()) {
  describe(`inspect depot consistency on depot-fs (${kind})`, () => {
    let t: TestHost;
    let root: string;
    let actor: Actor;

    async function inspect(...args: string[]): Promise<InspectReport> {
      const run = await runCli(['--config', t.configFile, 'inspect', '--json', '--only', 'depot,uploads', ...args]);
      const report = JSON.parse(run.stdout) as InspectReport;
      assert.equal(run.status, report.exitCode);
      return report;
    }
    const titles = (report: InspectReport): string[] => report.checks.flatMap((c) => c.findings.filter((f) => f.severity === 'problem' && f.repair?.status !== 'applied').map((f) => f.title));

    async function storeFile(dataset: string, name: string, content: string): Promise<{ id: string; path: string }> {
      const ctx = { actor, address: '', requestId: 'test' };
      const runner = t.host.services.get((await import('../../../core/services/service-ids.js')).ActionRunnerId);
      const resource = (await runner.run('resource_create', { package_id: dataset, name }, ctx)) as { id: string };
      await t.host.services.get(ResourceIntakeId).storeStream(resource.id, Readable.from([Buffer.from(content)]), {}, { actor, protocol: 'test' });
      return { id: resource.id, path: join(root, 'resources', resource.id.slice(0, 3), resource.id.slice(3, 6), resource.id.slice(6)) };
    }

    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['depot-fs', 'upload-tus'] });
      chmodSync(t.configFile, 0o600);
      root = join(t.db.dir, 'data', 'depot');
      const user = await t.host.services.get(UserServiceId).create({ name: 'admin', email: 'a@example.org', sysadmin: true });
      actor = { kind: 'user', user: { id: user.id, name: user.name, sysadmin: true } };
      await t.host.services.get(OrganizationServiceId).create({ name: 'lab' });
      await t.host.services.get((await import('../../../core/services/service-ids.js')).ActionRunnerId).run('package_create', { name: 'files', owner_org: 'lab' }, { actor });
    });
    after(async () => t.close());

    it('is clean with intact files', async () => {
      await storeFile('files', 'intact.csv', 'a,b\n1,2\n');
      assert.equal((await inspect('--deep')).exitCode, 0);
    });

    it('finds a missing file and marks its resource invalid', async () => {
      const { id, path } = await storeFile('files', 'missing.csv', 'x');
      rmSync(path);
      const broken = await inspect();
      assert.equal(broken.exitCode, 1);
      assert.match(titles(broken).join(), /1 resource file\(s\) are missing/);
      await inspect('--repair', '--yes');
      const row = (await t.host.services.get(DatabaseId).models.Resource.findByPk(id))!.get({ plain: true });
      assert.equal(row.state, 'invalid');
      assert.equal((row.metadata as Record<string, unknown>)['platform:problem'], 'file missing from depot');
      const after = await inspect();
      assert.equal(after.exitCode, 0);
      assert.ok(after.checks.some((c) => c.findings.some((f) => f.severity === 'warning' && /marked invalid because their file is missing/.test(f.title))), 'still listed for the admin');
    });

    it('finds a truncated file quickly, and a corrupt one only with --deep', async () => {
      const truncated = await storeFile('files', 'truncated.csv', 'hello world');
      writeFileSync(truncated.path, 'hello');
      assert.match(titles(await inspect()).join(), /1 stored file\(s\) have the wrong size/);
      writeFileSync(truncated.path, 'hello world');
      const corrupt = await storeFile('files', 'corrupt.csv', 'hello world');
      writeFileSync(corrupt.path, 'HELLO WORLD');
      assert.equal((await inspect()).exitCode, 0, 'the quick run checks sizes only');
      const deep = await inspect('--deep');
      assert.equal(deep.exitCode, 1);
      assert.match(titles(deep).join(), /1 stored file\(s\) do not match their sha256/);
      writeFileSync(corrupt.path, 'hello world');
      assert.equal((await inspect('--deep')).exitCode, 0);
    });

    it('moves orphaned files to quarantine, never deleting them', async () => {
      const orphan = join(root, 'resources', 'abc', 'def', 'ghijklmnop');
      mkdirSync(join(root, 'resources', 'abc', 'def'), { recursive: true });
      writeFileSync(orphan, 'nobody owns me');
      const broken = await inspect();
      assert.match(titles(broken).join(), /1 file\(s\) in depot "fs" belong to no resource/);
      await inspect('--repair', '--yes');
      assert.equal(existsSync(orphan), false);
      assert.equal(readFileSync(join(t.db.dir, 'data', 'quarantine', 'fs', 'resources', 'abc', 'def', 'ghijklmnop'), 'utf8'), 'nobody owns me');
      assert.equal((await inspect()).exitCode, 0);
    });

    it('removes temporary files left by writes that never finished', async () => {
      const leftover = join(root, 'tmp', 'abcdef-123.tmp');
      mkdirSync(join(root, 'tmp'), { recursive: true });
      writeFileSync(leftover, 'half a file');
      assert.equal((await inspect()).exitCode, 0, 'a fresh temporary file may belong to a write in progress');
      const hourAgo = new Date(Date.now() - 2 * 3_600_000);
      utimesSync(leftover, hourAgo, hourAgo);
      const broken = await inspect();
      assert.match(titles(broken).join(), /1 temporary file\(s\) in .* are left from writes that never finished/);
      await inspect('--repair', '--yes');
      assert.equal(existsSync(leftover), false);
      assert.equal((await inspect()).exitCode, 0);
    });

    it('removes stale partial uploads that no upload owns', async () => {
      writeFileSync(join(root, 'incoming', '0123456789abcdef0123456789abcdef'), 'half an upload');
      const broken = await inspect();
      assert.match(titles(broken).join(), /1 partial upload\(s\) in depot "fs" belong to no upload/);
      await inspect('--repair', '--yes');
      assert.equal(existsSync(join(root, 'incoming', '0123456789abcdef0123456789abcdef')), false);
      assert.equal((await inspect()).exitCode, 0);
    });
  });
}
