// After a file is stored, a `resource.inspect` job runs every schema's file check: the
// resource becomes active with the extracted metadata, or invalid with each reason. The
// upload itself never waits for it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { MemoryDepot, memoryDepotPlugin } from '../../helpers/memory-depot.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { Schema } from '../../../core/plugins/hooks/schema.js';
import { ActionRunnerId, JobQueueId, OrganizationServiceId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';
import type { Actor } from '../../../core/auth/actor.js';
import type { JobWorker } from '../../../core/jobs/job-worker.js';

const textChecker = definePlugin({
  name: 'test-text-checker',
  version: '1.0.0',
  register(ctx) {
    ctx.contribute(Schema, {
      name: 'text',
      async inspectResource(resource, file) {
        if (!resource.name.endsWith('.txt')) return undefined;
        let text = '';
        for await (const chunk of await file.open()) text += String(chunk);
        return { metadata: { 'text:length': text.length }, problems: text.includes('bad') ? [`"${resource.name}" contains "bad"`] : [] };
      },
    });
  },
});

for (const kind of databaseKinds()) {
  describe(`resource inspection jobs (${kind})`, () => {
    let t: TestHost;
    let actor: Actor;
    let worker: JobWorker;

    async function store(name: string, content: string): Promise<string> {
      const runner = t.host.services.get(ActionRunnerId);
      const resource = (await runner.run('resource_create', { package_id: 'checked', name }, { actor })) as { id: string };
      const stored = await t.host.services.get(ResourceIntakeId).storeStream(resource.id, Readable.from([Buffer.from(content)]), {}, { actor, protocol: 'test' });
      assert.equal(stored.state, 'validating', 'intake answers before the check ran');
      return resource.id;
    }

    async function settled(id: string): Promise<Record<string, unknown>> {
      for (let i = 0; i < 800; i++) {
        const shown = (await t.call('resource_show', { id }, { method: 'GET' })).body.result as Record<string, unknown>;
        if (shown.state !== 'validating') return shown;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.fail(`resource ${id} stayed validating`);
    }

    before(async () => {
      t = await startTestHost(kind, { plugins: [memoryDepotPlugin(new MemoryDepot()), textChecker], extraConfig: '[jobs]\npoll_ms = 20\n' });
      const user = await t.host.services.get(UserServiceId).create({ name: 'admin', email: 'a@example.org', sysadmin: true });
      actor = { kind: 'user', user: { id: user.id, name: user.name, sysadmin: true } };
      await t.host.services.get(OrganizationServiceId).create({ name: 'lab' });
      await t.host.services.get(ActionRunnerId).run('package_create', { name: 'checked', owner_org: 'lab' }, { actor });
      worker = t.host.jobWorker();
      await worker.start();
    });
    after(async () => {
      await worker.stop(1000);
      await t.close();
    });

    it('activates a file that passes, with its metadata', async () => {
      const shown = await settled(await store('good.txt', 'all fine'));
      assert.equal(shown.state, 'active');
      assert.equal(shown['text:length'], 8);
      assert.deepEqual(shown['platform:problems'], []);
    });

    it('marks a file that fails invalid, with the reason', async () => {
      const shown = await settled(await store('broken.txt', 'this is bad'));
      assert.equal(shown.state, 'invalid');
      assert.deepEqual(shown['platform:problems'], ['"broken.txt" contains "bad"']);
    });

    it('activates files no schema checks', async () => {
      assert.equal((await settled(await store('image.png', 'png bytes'))).state, 'active');
    });

    it('queues one inspection per resource', async () => {
      // A job's completion is recorded in a batch just after its handler has updated the
      // resource, so wait for the records rather than read them the moment the resources settle.
      const queue = t.host.services.get(JobQueueId);
      let jobs = await queue.list({ type: 'resource.inspect' });
      for (let i = 0; i < 200 && !jobs.every((j) => j.state === 'succeeded'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        jobs = await queue.list({ type: 'resource.inspect' });
      }
      assert.equal(jobs.length, 3);
      assert.equal(new Set(jobs.map((j) => j.dedupeKey)).size, jobs.length);
      assert.deepEqual(jobs.map((j) => j.state), ['succeeded', 'succeeded', 'succeeded']);
    });
  });
}
