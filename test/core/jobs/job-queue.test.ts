// The job queue and worker on SQLite and PostgreSQL: claiming with leases, dedupe keys,
// priorities and delays, retries with backoff to dead, lapsed leases claimed again,
// cancellation through an AbortSignal, dependencies, payload schemas and time limits.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { JobHandlers } from '../../../core/plugins/hooks/job-handlers.js';
import { JobQueueId } from '../../../core/services/service-ids.js';
import { backoffMs, type Job, type JobQueue } from '../../../core/jobs/job-queue.js';
import type { JobWorker } from '../../../core/jobs/job-worker.js';

const seen: string[] = [];
const testJobs = definePlugin({
  name: 'test-jobs',
  version: '1.0.0',
  register(ctx) {
    ctx.contribute(JobHandlers, { type: 'test.ok', payloadSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } }, run: async (p) => (seen.push(`ok ${String(p.n)}`), { doubled: Number(p.n) * 2 }) });
    ctx.contribute(JobHandlers, { type: 'test.throws', payloadSchema: { type: 'object' }, run: async () => { throw new Error('handler broke'); } });
    ctx.contribute(JobHandlers, { type: 'test.slow', payloadSchema: { type: 'object' }, timeoutMs: 200, run: (_p, job) => new Promise((_resolve, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason))) });
  },
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const kind of databaseKinds()) {
  describe(`job queue (${kind})`, () => {
    let t: TestHost;
    let queue: JobQueue;
    before(async () => {
      t = await startTestHost(kind, { plugins: [testJobs], extraConfig: '[jobs]\nlease_seconds = 1\npoll_ms = 20\nmax_attempts = 2\n' });
      queue = t.host.services.get(JobQueueId);
    });
    after(async () => t.close());

    it('claims with a lease and records every state change', async () => {
      const job = await queue.enqueue('test.ok', { n: 1 });
      assert.equal(job.state, 'queued');
      const claimed = (await queue.claim('worker-a', 60_000, ['test.ok']))!;
      assert.equal(claimed.id, job.id);
      assert.equal(claimed.state, 'running');
      assert.equal(claimed.attempts, 1);
      assert.equal(claimed.leaseOwner, 'worker-a');
      assert.ok(claimed.startedAt);
      assert.equal(await queue.claim('worker-b', 60_000, ['test.ok']), undefined, 'a leased job is not claimed twice');
      assert.equal(await queue.complete(job.id, 'worker-b', 1), false, 'only the lease holder completes');
      assert.equal(await queue.complete(job.id, 'worker-a', { fine: true }), true);
      const done = await queue.get(job.id);
      assert.equal(done.state, 'succeeded');
      assert.deepEqual(done.result, { fine: true });
      assert.ok(done.finishedAt);
    });

    it('returns the live job for a dedupe key, also under concurrent enqueues', async () => {
      const jobs = await Promise.all(Array.from({ length: 8 }, () => queue.enqueue('test.ok', { n: 2 }, { dedupeKey: 'resource:abc' })));
      assert.equal(new Set(jobs.map((j) => j.id)).size, 1);
      const claimed = (await queue.claim('w', 60_000, ['test.ok']))!;
      assert.equal((await queue.enqueue('test.ok', { n: 2 }, { dedupeKey: 'resource:abc' })).id, claimed.id, 'running counts as live');
      await queue.complete(claimed.id, 'w', null);
      assert.notEqual((await queue.enqueue('test.ok', { n: 2 }, { dedupeKey: 'resource:abc' })).id, claimed.id, 'a finished job does not block a new one');
      const again = (await queue.claim('w', 60_000, ['test.ok']))!;
      await queue.complete(again.id, 'w', null);
    });

    it('runs higher priorities first and delayed jobs only when their time comes', async () => {
      const low = await queue.enqueue('test.ok', { n: 3 }, { priority: 0 });
      const high = await queue.enqueue('test.ok', { n: 4 }, { priority: 10 });
      const later = await queue.enqueue('test.ok', { n: 5 }, { priority: 100, runAfter: new Date(Date.now() + 60_000) });
      const order: string[] = [];
      for (let j = await queue.claim('w', 60_000, ['test.ok']); j; j = await queue.claim('w', 60_000, ['test.ok'])) {
        order.push(j.id);
        await queue.complete(j.id, 'w', null);
      }
      assert.deepEqual(order, [high.id, low.id]);
      assert.equal((await queue.get(later.id)).state, 'queued');
      await queue.cancel(later.id);
    });

    it('backs off after a failure and dies after the last attempt, keeping the error and stack', async () => {
      const job = await queue.enqueue('test.throws', {}, { maxAttempts: 2 });
      const first = (await queue.claim('w', 60_000, ['test.throws']))!;
      assert.equal(await queue.fail(first.id, 'w', { message: 'boom 1', stack: 'Error: boom 1\n at x' }), 'queued');
      const waiting = await queue.get(job.id);
      assert.ok(waiting.runAfter.getTime() > Date.now(), 'retried later, not at once');
      assert.equal(await queue.claim('w', 60_000, ['test.throws']), undefined);
      await t.host.db!.sequelize.query('UPDATE jobs SET run_after = :now WHERE id = :id', { replacements: { now: new Date(Date.now() - 1), id: job.id } });
      const second = (await queue.claim('w', 60_000, ['test.throws']))!;
      assert.equal(second.attempts, 2);
      assert.equal(await queue.fail(second.id, 'w', { message: 'boom 2', stack: 'Error: boom 2\n at y' }), 'dead');
      const dead = await queue.get(job.id);
      assert.equal(dead.state, 'dead');
      assert.equal(dead.lastError, 'boom 2');
      assert.match(dead.lastStack ?? '', /at y/);
      const backoffs = [1, 2, 3, 4].map((a) => backoffMs(a, () => 0.5));
      assert.deepEqual(backoffs, [1000, 2000, 4000, 8000]);
    });

    it('claims a job again once its lease lapses (its worker died)', async () => {
      const job = await queue.enqueue('test.ok', { n: 6 });
      await queue.claim('dying-worker', 60_000, ['test.ok']);
      assert.equal(await queue.claim('other', 60_000, ['test.ok']), undefined);
      // The dying worker renews no more: let its lease lapse without waiting for the clock.
      await t.host.db!.sequelize.query('UPDATE jobs SET lease_until = :past WHERE id = :id', { replacements: { past: new Date(Date.now() - 1000), id: job.id } });
      const again = (await queue.claim('other', 60_000, ['test.ok']))!;
      assert.equal(again.id, job.id);
      assert.equal(again.attempts, 2);
      assert.equal(await queue.complete(job.id, 'dying-worker', null), false, 'the dead worker can no longer complete it');
      assert.equal(await queue.complete(job.id, 'other', null), true);
    });

    it('runs dependencies first, and kills dependants of a dead job with a reason', async () => {
      const a = await queue.enqueue('test.ok', { n: 7 });
      const b = await queue.enqueue('test.ok', { n: 8 }, { dependsOn: [a.id], priority: 50 });
      const first = (await queue.claim('w', 60_000, ['test.ok']))!;
      assert.equal(first.id, a.id, 'b waits for a despite its priority');
      await queue.complete(a.id, 'w', null);
      assert.equal((await queue.claim('w', 60_000, ['test.ok']))!.id, b.id);
      await queue.complete(b.id, 'w', null);
      const c = await queue.enqueue('test.throws', {}, { maxAttempts: 1 });
      const d = await queue.enqueue('test.ok', { n: 9 }, { dependsOn: [c.id] });
      const cj = (await queue.claim('w', 60_000, ['test.throws']))!;
      await queue.fail(cj.id, 'w', { message: 'no' });
      assert.equal(await queue.claim('w', 60_000, ['test.ok']), undefined);
      const dead = await queue.get(d.id);
      assert.equal(dead.state, 'dead');
      assert.match(dead.lastError ?? '', new RegExp(`dependency ${c.id} ended dead`));
      await assert.rejects(queue.enqueue('test.ok', { n: 1 }, { dependsOn: ['00000000-0000-0000-0000-000000000000'] }), /does not exist/);
    });

    describe('the worker', () => {
      let worker: JobWorker;
      before(async () => {
        worker = t.host.jobWorker();
        await worker.start();
      });
      after(async () => worker.stop(1000));

      const settled = async (job: Job, state: string): Promise<Job> => {
        await until(async () => (await queue.get(job.id)).state === state, `job ${job.type} to be ${state}`);
        return queue.get(job.id);
      };

      it('runs handlers and records their results', async () => {
        const job = await queue.enqueue('test.ok', { n: 21 });
        assert.deepEqual((await settled(job, 'succeeded')).result, { doubled: 42 });
      });

      it('kills a job whose payload fails its schema at once, without retrying', async () => {
        const job = await queue.enqueue('test.ok', { n: 'not a number' });
        const dead = await settled(job, 'dead');
        assert.equal(dead.attempts, 1);
        assert.match(dead.lastError ?? '', /payload does not fit the schema of "test.ok": n: must be integer/);
      });

      it('retries a handler that throws until it is dead', async () => {
        const job = await queue.enqueue('test.throws', {}, { maxAttempts: 2 });
        await until(async () => (await queue.get(job.id)).attempts === 1 && (await queue.get(job.id)).state === 'queued', 'the first failure');
        await t.host.db!.sequelize.query('UPDATE jobs SET run_after = :now WHERE id = :id', { replacements: { now: new Date(Date.now() - 1), id: job.id } });
        const dead = await settled(job, 'dead');
        assert.equal(dead.attempts, 2);
        assert.equal(dead.lastError, 'handler broke');
        assert.match(dead.lastStack ?? '', /handler broke/);
      });

      it('ends a job that exceeds its time limit, through its AbortSignal', async () => {
        const job = await queue.enqueue('test.slow', {}, { maxAttempts: 1 });
        assert.match((await settled(job, 'dead')).lastError ?? '', /exceeded its time limit of 200 ms/);
      });

      it('cancels a running job: its handler sees the AbortSignal', async () => {
        const job = await queue.enqueue('test.slow', {}, { timeoutMs: 60_000 });
        await settled(job, 'running');
        await queue.cancel(job.id);
        assert.equal((await settled(job, 'cancelled')).lastError, 'cancelled');
      });
    });
  });
}
