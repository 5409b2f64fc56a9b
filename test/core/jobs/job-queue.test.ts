// The job queue and worker on SQLite and PostgreSQL: batch claims with leases, dedupe keys,
// priorities and delays, retries with backoff to dead, lapsed leases put back, cancellation
// through an AbortSignal, dependencies, payload schemas, time limits, CPU handlers on the
// thread pool (results, errors, time and memory limits), and shutdown releasing jobs.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { JobHandlers } from '../../../core/plugins/hooks/job-handlers.js';
import { JobQueueId } from '../../../core/services/service-ids.js';
import { backoffMs, type Job, type JobQueue } from '../../../core/jobs/job-queue.js';
import type { JobWorker } from '../../../core/jobs/job-worker.js';
import testJobsPlugin from '../../fixtures/platform-test-jobs/index.js';

const testJobs = definePlugin({
  name: 'test-jobs',
  version: '1.0.0',
  register(ctx) {
    ctx.contribute(JobHandlers, { type: 'test.ok', payloadSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } }, run: async (p) => ({ doubled: Number(p.n) * 2 }) });
    ctx.contribute(JobHandlers, { type: 'test.throws', payloadSchema: { type: 'object' }, run: async () => { throw new Error('handler broke'); } });
    ctx.contribute(JobHandlers, { type: 'test.slow', payloadSchema: { type: 'object' }, timeoutMs: 200, run: (_p, job) => new Promise((_resolve, reject) => job.signal.addEventListener('abort', () => reject(job.signal.reason))) });
    // Ignores its signal: the worker must still settle the job when the time limit passes.
    // Reports progress five times at once: the first and the last (done = total) are written.
    ctx.contribute(JobHandlers, {
      type: 'test.progress',
      payloadSchema: { type: 'object' },
      run: async (_p, job) => {
        for (let i = 1; i <= 5; i++) job.progress(i, 5, `step ${i}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { steps: 5 };
      },
    });
    ctx.contribute(JobHandlers, { type: 'test.deaf', payloadSchema: { type: 'object' }, timeoutMs: 200, maxAttempts: 1, run: () => new Promise(() => undefined) });
  },
});

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const one = async (queue: JobQueue, owner: string, types: string[]): Promise<Job | undefined> => (await queue.claim(owner, { leaseMs: 60_000, types, limit: 1 }))[0];

for (const kind of databaseKinds()) {
  describe(`job queue (${kind})`, () => {
    let t: TestHost;
    let queue: JobQueue;
    before(async () => {
      t = await startTestHost(kind, { plugins: [testJobs, testJobsPlugin], extraConfig: '[jobs]\nlease_seconds = 1\npoll_ms = 20\nmax_attempts = 2\npool_size = 2\n' });
      queue = t.host.services.get(JobQueueId);
    });
    after(async () => t.close());

    it('claims with a lease and records every state change', async () => {
      const job = await queue.enqueue('test.ok', { n: 1 });
      assert.equal(job.state, 'queued');
      assert.equal(job.attempts, 0);
      assert.equal(job.maxAttempts, 2, '[jobs] max_attempts applies when neither the job nor its handler sets one');
      const claimed = (await one(queue, 'worker-a', ['test.ok']))!;
      assert.equal(claimed.id, job.id);
      assert.equal(claimed.state, 'running');
      assert.equal(claimed.attempts, 1);
      assert.equal(claimed.leaseOwner, 'worker-a');
      assert.ok(claimed.startedAt && claimed.leaseUntil);
      assert.equal(await one(queue, 'worker-b', ['test.ok']), undefined, 'a leased job is not claimed twice');
      assert.equal(await queue.complete(job.id, 'worker-b', 1), false, 'only the lease holder completes');
      assert.equal(await queue.complete(job.id, 'worker-a', { fine: true }), true);
      const done = await queue.get(job.id);
      assert.equal(done.state, 'succeeded');
      assert.deepEqual(done.result, { fine: true });
      assert.equal(done.leaseOwner, 'worker-a', 'the worker that ran it stays visible');
      assert.equal(done.leaseUntil, undefined);
      assert.ok(done.finishedAt && done.finishedAt >= done.startedAt!);
    });

    it('claims in batches, never the same job twice, and completes a batch in one call', async () => {
      const jobs = await queue.enqueueMany(Array.from({ length: 25 }, (_v, n) => ({ type: 'test.ok', payload: { n } })));
      assert.equal(jobs.length, 25);
      const [a, b] = await Promise.all([queue.claim('a', { leaseMs: 60_000, types: ['test.ok'], limit: 10 }), queue.claim('b', { leaseMs: 60_000, types: ['test.ok'], limit: 10 })]);
      const c = await queue.claim('c', { leaseMs: 60_000, types: ['test.ok'], limit: 10 });
      assert.deepEqual([a.length, b.length, c.length].sort(), [10, 10, 5]);
      assert.equal(new Set([...a, ...b, ...c].map((j) => j.id)).size, 25);
      assert.equal((await queue.completeMany('a', a.map((j) => ({ id: j.id, result: j.payload.n })))).size, 10);
      assert.equal((await queue.completeMany('a', b.map((j) => ({ id: j.id, result: null })))).size, 0, "another worker's jobs are left alone");
      await queue.completeMany('b', b.map((j) => ({ id: j.id, result: null })));
      await queue.completeMany('c', c.map((j) => ({ id: j.id, result: null })));
      assert.equal((await queue.counts({ type: 'test.ok' })).running, 0);
    });

    it('returns the live job for a dedupe key, also under concurrent enqueues', async () => {
      const jobs = await Promise.all(Array.from({ length: 8 }, () => queue.enqueue('test.ok', { n: 2 }, { dedupeKey: 'resource:abc' })));
      assert.equal(new Set(jobs.map((j) => j.id)).size, 1);
      const many = await queue.enqueueMany([{ type: 'test.ok', payload: { n: 2 }, options: { dedupeKey: 'resource:abc' } }, { type: 'test.ok', payload: { n: 3 }, options: { dedupeKey: 'resource:def' } }, { type: 'test.ok', payload: { n: 3 }, options: { dedupeKey: 'resource:def' } }]);
      assert.equal(many[0]!.id, jobs[0]!.id);
      assert.equal(many[1]!.id, many[2]!.id, 'one batch with a key twice adds one job');
      const claimed = await queue.claim('w', { leaseMs: 60_000, types: ['test.ok'], limit: 5 });
      assert.equal(claimed.length, 2);
      assert.equal((await queue.enqueue('test.ok', { n: 2 }, { dedupeKey: 'resource:abc' })).id, jobs[0]!.id, 'running counts as live');
      await queue.completeMany('w', claimed.map((j) => ({ id: j.id, result: null })));
      const fresh = await queue.enqueue('test.ok', { n: 2 }, { dedupeKey: 'resource:abc' });
      assert.notEqual(fresh.id, jobs[0]!.id, 'a finished job does not block a new one');
      await queue.cancel(fresh.id);
    });

    it('runs higher priorities first and delayed jobs only when their time comes', async () => {
      const low = await queue.enqueue('test.ok', { n: 3 }, { priority: 0 });
      const high = await queue.enqueue('test.ok', { n: 4 }, { priority: 10 });
      const later = await queue.enqueue('test.ok', { n: 5 }, { priority: 100, runAfter: new Date(Date.now() + 60_000) });
      const order: string[] = [];
      for (let j = await one(queue, 'w', ['test.ok']); j; j = await one(queue, 'w', ['test.ok'])) {
        order.push(j.id);
        await queue.complete(j.id, 'w', null);
      }
      assert.deepEqual(order, [high.id, low.id]);
      assert.equal((await queue.get(later.id)).state, 'queued');
      assert.equal((await queue.cancel(later.id)).state, 'cancelled');
    });

    it('refuses bad types, payloads and options with a clear message', async () => {
      await assert.rejects(queue.enqueue('Bad Type', {}), /job type "Bad Type" is not valid/);
      await assert.rejects(queue.enqueue('test.ok', [] as unknown as Record<string, unknown>), /must be a JSON object/);
      await assert.rejects(queue.enqueue('test.ok', { n: 1 }, { maxAttempts: 0 }), /maxAttempts must be a whole number of at least 1/);
      await assert.rejects(queue.enqueue('test.ok', { n: 1 }, { dependsOn: ['nope'] }), /not a job id/);
    });

    it('backs off after a failure and dies after the last attempt, keeping the error and stack', async () => {
      const job = await queue.enqueue('test.throws', {}, { maxAttempts: 2 });
      const first = (await one(queue, 'w', ['test.throws']))!;
      assert.equal(await queue.fail(first.id, 'w', { message: 'boom 1', stack: 'Error: boom 1\n at x' }), 'queued');
      const waiting = await queue.get(job.id);
      assert.ok(waiting.runAfter.getTime() > Date.now(), 'retried later, not at once');
      assert.equal(waiting.lastError, 'boom 1');
      assert.equal(await one(queue, 'w', ['test.throws']), undefined);
      await t.host.db!.sequelize.query('UPDATE jobs SET run_after = :now WHERE id = :id', { replacements: { now: new Date(Date.now() - 1), id: job.id } });
      const second = (await one(queue, 'w', ['test.throws']))!;
      assert.equal(second.attempts, 2);
      assert.equal(await queue.fail(second.id, 'w', { message: 'boom 2', stack: 'Error: boom 2\n at y' }), 'dead');
      const dead = await queue.get(job.id);
      assert.equal(dead.state, 'dead');
      assert.equal(dead.lastError, 'boom 2');
      assert.match(dead.lastStack ?? '', /at y/);
      assert.ok(dead.finishedAt);
      assert.deepEqual([1, 2, 3, 4].map((a) => backoffMs(a, () => 0.5)), [1000, 2000, 4000, 8000]);
      assert.deepEqual([backoffMs(3, () => 0), backoffMs(3, () => 1)], [3000, 5000], '±25% jitter');
      assert.equal(backoffMs(40, () => 0.5), 3_600_000, 'capped at an hour');
      // Retry gives it fresh attempts.
      const retried = await queue.retry(job.id);
      assert.equal(retried.state, 'queued');
      assert.equal(retried.attempts, 0);
      await queue.cancel(job.id);
    });

    it('puts a job back once its lease lapses (its worker died), and kills it after its last attempt', async () => {
      const job = await queue.enqueue('test.ok', { n: 6 });
      await one(queue, 'dying-worker', ['test.ok']);
      assert.equal(await one(queue, 'other', ['test.ok']), undefined);
      assert.equal((await queue.stuck()).length, 0);
      // The dying worker renews no more: let its lease lapse without waiting for the clock.
      await t.host.db!.sequelize.query('UPDATE jobs SET lease_until = :past WHERE id = :id', { replacements: { past: new Date(Date.now() - 1000), id: job.id } });
      assert.deepEqual((await queue.stuck()).map((j) => j.id), [job.id]);
      assert.deepEqual(await queue.reapLapsedLeases(), { requeued: 1, dead: 0 });
      const requeued = await queue.get(job.id);
      assert.equal(requeued.state, 'queued');
      assert.match(requeued.lastError ?? '', /worker dying-worker stopped renewing the lease during attempt 1 of 2; queued again/);
      const again = (await one(queue, 'other', ['test.ok']))!;
      assert.equal(again.id, job.id);
      assert.equal(again.attempts, 2);
      assert.equal(await queue.complete(job.id, 'dying-worker', null), false, 'the dead worker can no longer complete it');
      assert.deepEqual(await queue.renew('dying-worker', [job.id], 60_000), { lost: [job.id], cancel: [] });
      assert.deepEqual(await queue.renew('other', [job.id], 60_000), { lost: [], cancel: [] });
      // Its second (last) attempt lapses too: dead, saying so.
      await t.host.db!.sequelize.query('UPDATE jobs SET lease_until = :past WHERE id = :id', { replacements: { past: new Date(Date.now() - 1000), id: job.id } });
      assert.deepEqual(await queue.reapLapsedLeases(), { requeued: 0, dead: 1 });
      assert.match((await queue.get(job.id)).lastError ?? '', /worker other stopped renewing the lease during attempt 2 of 2, the last one/);
    });

    it('runs dependencies first, and kills dependants of a dead job with a reason', async () => {
      const a = await queue.enqueue('test.ok', { n: 7 });
      const b = await queue.enqueue('test.ok', { n: 8 }, { dependsOn: [a.id], priority: 50 });
      assert.deepEqual(b.dependsOn, [a.id]);
      const first = (await one(queue, 'w', ['test.ok']))!;
      assert.equal(first.id, a.id, 'b waits for a despite its priority');
      assert.equal(await one(queue, 'w', ['test.ok']), undefined);
      await queue.complete(a.id, 'w', null);
      assert.equal((await one(queue, 'w', ['test.ok']))!.id, b.id);
      await queue.complete(b.id, 'w', null);
      const c = await queue.enqueue('test.throws', {}, { maxAttempts: 1 });
      const d = await queue.enqueue('test.ok', { n: 9 }, { dependsOn: [c.id] });
      const e = await queue.enqueue('test.ok', { n: 10 }, { dependsOn: [d.id] });
      const cj = (await one(queue, 'w', ['test.throws']))!;
      await queue.fail(cj.id, 'w', { message: 'no' });
      assert.equal(await one(queue, 'w', ['test.ok']), undefined);
      const dead = await queue.get(d.id);
      assert.equal(dead.state, 'dead');
      assert.match(dead.lastError ?? '', new RegExp(`dependency ${c.id} ended dead; this job cannot run`));
      assert.match((await queue.get(e.id)).lastError ?? '', new RegExp(`dependency ${d.id} ended dead`), 'down the whole chain');
      const late = await queue.enqueue('test.ok', { n: 11 }, { dependsOn: [c.id] });
      assert.equal(late.state, 'dead', 'enqueued after its dependency died: dead at once');
      await assert.rejects(queue.enqueue('test.ok', { n: 1 }, { dependsOn: ['00000000-0000-0000-0000-000000000000'] }), /does not exist/);
    });

    it('cancels queued jobs at once and refuses to cancel finished ones', async () => {
      const job = await queue.enqueue('test.ok', { n: 12 });
      const cancelled = await queue.cancel(job.id);
      assert.equal(cancelled.state, 'cancelled');
      assert.equal(cancelled.lastError, 'cancelled before it ran');
      await assert.rejects(queue.cancel(job.id), /is cancelled; only queued or running jobs can be cancelled/);
      await assert.rejects(queue.get('00000000-0000-0000-0000-000000000000'), /not found/);
    });

    it('purges finished jobs older than a date, never live ones', async () => {
      const live = await queue.enqueue('test.ok', { n: 13 }, { runAfter: new Date(Date.now() + 3_600_000) });
      const before = await queue.counts();
      const removed = await queue.purge(new Date(Date.now() + 1000));
      const after = await queue.counts();
      assert.equal(removed, before.succeeded + before.dead + before.cancelled);
      assert.deepEqual([after.succeeded, after.dead, after.cancelled], [0, 0, 0]);
      assert.equal((await queue.get(live.id)).state, 'queued');
      await queue.cancel(live.id);
    });

    describe('the worker', () => {
      let worker: JobWorker;
      before(async () => {
        worker = t.host.jobWorker({ concurrency: 4 });
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

      it('records the progress a handler reports, the last report included', async () => {
        const job = await queue.enqueue('test.progress', {});
        await settled(job, 'succeeded');
        await until(async () => (await queue.get(job.id)).progress?.done === 5, 'the last progress report');
        const { progress } = await queue.get(job.id);
        assert.deepEqual({ done: progress!.done, total: progress!.total, detail: progress!.detail }, { done: 5, total: 5, detail: 'step 5' });
        assert.match(progress!.at, /^\d{4}-\d\d-\d\dT/);
      });

      it('kills a job whose payload fails its schema at once, without retrying', async () => {
        const job = await queue.enqueue('test.ok', { n: 'not a number' }, { maxAttempts: 5 });
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

      it('settles a job whose handler ignores its signal when the time limit passes', async () => {
        const job = await queue.enqueue('test.deaf', {});
        assert.match((await settled(job, 'dead')).lastError ?? '', /exceeded its time limit of 200 ms/);
      });

      it('cancels a running job: its handler sees the AbortSignal', async () => {
        const job = await queue.enqueue('test.slow', {}, { timeoutMs: 60_000 });
        await settled(job, 'running');
        await queue.cancel(job.id);
        assert.equal((await settled(job, 'cancelled')).lastError, 'cancelled while running');
      });

      it('runs CPU handlers on the thread pool and returns their results', async () => {
        const job = await queue.enqueue('test.hash', { text: 'abc', rounds: 2 });
        const done = await settled(job, 'succeeded');
        const result = done.result as { digest: string; jobId: string; attempt: number; threadId: number };
        assert.equal(result.digest, 'dfe7a23fefeea519e9bbfdd1a6be94c4b2e4529dd6b7cbea83f9959c2621b13c', 'sha256(sha256("abc")) in hex');
        assert.equal(result.jobId, job.id);
        assert.equal(result.attempt, 1);
        assert.ok(result.threadId > 0, 'ran on a thread, not the main thread');
      });

      it('fails a CPU job whose thread throws, keeping the stack from the thread', async () => {
        const job = await queue.enqueue('test.cpu-throws', {}, { maxAttempts: 1 });
        const dead = await settled(job, 'dead');
        assert.equal(dead.lastError, 'the thread broke on purpose');
        assert.match(dead.lastStack ?? '', /throwAnError/);
      });

      it('ends a runaway CPU thread at its time limit, and the process carries on', async () => {
        const job = await queue.enqueue('test.forever', {});
        assert.match((await settled(job, 'dead')).lastError ?? '', /exceeded its time limit of 300 ms; its thread was ended/);
        assert.deepEqual((await settled(await queue.enqueue('test.ok', { n: 1 }), 'succeeded')).result, { doubled: 2 });
      });

      it('ends a CPU thread that exceeds its memory limit, and the process carries on', async () => {
        const job = await queue.enqueue('test.hog', {});
        assert.match((await settled(job, 'dead')).lastError ?? '', /ran out of memory: it needed more than its limit of 32 MB/);
        assert.deepEqual((await settled(await queue.enqueue('test.ok', { n: 2 }), 'succeeded')).result, { doubled: 4 });
      });

      it('cancels a running CPU job by ending its thread', async () => {
        const dir = t.db.dir;
        const job = await queue.enqueue('test.spin', { startedFile: `${dir}/spin-started`, releaseFile: `${dir}/never-released` });
        await settled(job, 'running');
        await queue.cancel(job.id);
        assert.equal((await settled(job, 'cancelled')).lastError, 'cancelled while running');
      });
    });

    it('keeps renewing the lease of a finished job until its success is recorded, so it runs once', async () => {
      // A success waits for the worker's next claim or idle flush; here both take 2.5 s, longer
      // than the 1 s lease, as on a starved machine. The job must not be put back meanwhile.
      const original = { claim: queue.claim, completeMany: queue.completeMany };
      const slow = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, when: (...args: A) => boolean) => async (...args: A): Promise<R> => {
        if (when(...args)) await new Promise((resolve) => setTimeout(resolve, 2500));
        return fn.apply(queue, args);
      };
      queue.claim = slow(original.claim, (_owner, options) => Boolean(options.complete?.length));
      queue.completeMany = slow(original.completeMany, () => true);
      const worker = t.host.jobWorker();
      try {
        await worker.start();
        const job = await queue.enqueue('test.ok', { n: 2 });
        await until(async () => (await queue.get(job.id)).state === 'succeeded', 'the job to succeed');
        const done = await queue.get(job.id);
        assert.equal(done.attempts, 1, 'not put back and run again while its success waited');
        assert.deepEqual(done.result, { doubled: 4 });
      } finally {
        queue.claim = original.claim;
        queue.completeMany = original.completeMany;
        await worker.stop(1000);
      }
    });

    it('releases a running job at shutdown after the grace period, without counting the attempt', async () => {
      const worker = t.host.jobWorker();
      await worker.start();
      const job = await queue.enqueue('test.slow', {}, { timeoutMs: 60_000 });
      await until(async () => (await queue.get(job.id)).state === 'running', 'the job to start');
      await worker.stop(100);
      const released = await queue.get(job.id);
      assert.equal(released.state, 'queued');
      assert.equal(released.attempts, 0);
      assert.match(released.lastError ?? '', /released by worker .* at shutdown/);
      await queue.cancel(job.id);
    });
  });
}
