// platform depot migrate --from fs --to s3: every file moves to a real RADOS Gateway with its
// sha256 checked, downloads keep working, the source files go; a run cut short (--limit)
// continues where it stopped; a corrupt source file is refused and stays where it was;
// running again moves nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { rgwEndpoint, rgwSkipReason } from '../../helpers/rgw.js';
import { runCli } from '../../helpers/run-cli.js';
import { ActionRunnerId, DatabaseId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';
import type { Actor } from '../../../core/auth/actor.js';
import type { S3Depot } from '../../../plugins/depot-s3/s3-depot.js';

const rgw = rgwEndpoint();

for (const kind of databaseKinds()) {
  describe(`platform depot migrate fs -> s3 (${kind})`, { skip: !rgw && rgwSkipReason() }, () => {
    let t: TestHost;
    let keys: string;
    let depot: S3Depot;
    let actor: Actor;
    const prefix = `m${process.pid}-${kind.slice(0, 2)}-${randomBytes(2).toString('hex')}-`;
    const files = new Map<string, Buffer>();

    const rowOf = async (id: string) => (await t.host.services.get(DatabaseId).models.Resource.findByPk(id))!.get({ plain: true });
    const pathOf = (id: string): string => join(t.db.dir, 'data', 'depot', 'resources', id.slice(0, 3), id.slice(3, 6), id.slice(6));

    before(async () => {
      keys = mkdtempSync(join(tmpdir(), 's3-keys-'));
      writeFileSync(join(keys, 'access'), `${rgw!.accessKey}\n`, { mode: 0o600 });
      writeFileSync(join(keys, 'secret'), `${rgw!.secretKey}\n`, { mode: 0o600 });
      t = await startTestHost(kind, {
        pluginNames: ['depot-fs', 'depot-s3'],
        extraConfig: ['[depot]', 'active = fs', '[plugin:depot-s3]', `endpoint = ${rgw!.endpoint}`, `region = ${rgw!.region}`, `bucket_prefix = ${prefix}`, `access_key_file = ${join(keys, 'access')}`, `secret_key_file = ${join(keys, 'secret')}`].join('\n'),
      });
      depot = t.host.services.get(ResourceIntakeId).depot('s3') as S3Depot;
      const user = await t.host.services.get(UserServiceId).create({ name: 'admin', email: 'a@example.org', sysadmin: true });
      actor = { kind: 'user', user: { id: user.id, name: user.name, sysadmin: true } };
      await t.host.services.get(OrganizationServiceId).create({ name: 'lab' });
      const runner = t.host.services.get(ActionRunnerId);
      await runner.run('package_create', { name: 'files', owner_org: 'lab' }, { actor });
      for (const [i, size] of [0, 1000, 6_000_000, 123_456].entries()) {
        const resource = (await runner.run('resource_create', { package_id: 'files', name: `f${i}.bin` }, { actor })) as { id: string };
        const data = randomBytes(size);
        await t.host.services.get(ResourceIntakeId).storeStream(resource.id, Readable.from([data]), {}, { actor, protocol: 'test' });
        files.set(resource.id, data);
      }
    });
    after(async () => {
      for (const bucket of (await depot.client.listBuckets()).filter((b) => b.startsWith(prefix))) {
        for await (const object of depot.client.listObjects(bucket)) await depot.client.deleteObject(bucket, object.key);
        await depot.client.deleteBucket(bucket);
      }
      await t.close();
      rmSync(keys, { recursive: true, force: true });
    });

    it('refuses a corrupt source file and keeps it where it was, moving the rest; a run cut short continues; a second run moves nothing', async () => {
      const ids = [...files.keys()].sort();
      // The run below moves the first two resources by id; the first non-empty one of them (there
      // is one empty file, so it is first or second) gets the same size with other bytes, which
      // only the sha256 can tell.
      const corruptId = ids.find((id) => files.get(id)!.length > 0)!;
      const original = files.get(corruptId)!;
      writeFileSync(pathOf(corruptId), Buffer.alloc(original.length, 7));
      const first = await runCli(['--config', t.configFile, 'depot', 'migrate', '--from', 'fs', '--to', 's3', '--verify', '--limit', '2']);
      assert.equal(first.status, 1, first.stderr);
      assert.match(first.stdout, /moved 1 file\(s\).*; 3 left in "fs"/);
      assert.match(first.stderr, new RegExp(`${corruptId}: .*sha256`));
      assert.equal((await rowOf(corruptId)).depot, 'fs');
      assert.ok(existsSync(pathOf(corruptId)));
      writeFileSync(pathOf(corruptId), original);
      const second = await runCli(['--config', t.configFile, 'depot', 'migrate', '--from', 'fs', '--to', 's3', '--verify']);
      assert.equal(second.status, 0, second.stderr);
      for (const id of ids) {
        const row = await rowOf(id);
        assert.equal(row.depot, 's3');
        assert.ok(row.location!.startsWith(`${prefix}lab/resource/`));
        assert.ok(!existsSync(pathOf(id)), `${id} still on disk`);
        const back: Buffer[] = [];
        for await (const chunk of await depot.open(row.location!)) back.push(chunk as Buffer);
        assert.deepEqual(Buffer.concat(back), files.get(id));
      }
      const third = await runCli(['--config', t.configFile, 'depot', 'migrate', '--from', 'fs', '--to', 's3']);
      assert.equal(third.status, 0);
      assert.match(third.stdout, /moved 0 file/);
    });
  });
}
