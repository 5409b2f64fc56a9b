// A worker claims short jobs ahead of its free slots and holds them leased in a local queue:
// on SQLite and PostgreSQL, a held job that cannot start soon goes back to the queue (another
// worker may take it) without counting an attempt, a cancelled held job ends cancelled, and a
// worker that stops gives back what it held. Exactly-once delivery with several worker
// processes draining 10,000 jobs is in worker-processes.test.ts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { JobHandlers } from '../../../core/plugins/hooks/job-handlers.js';
import { JobQueueId } from '../../../core/services/service-ids.js';
import type { JobQueue } from '../../../core/jobs/job-queue.js';

const gates: Array<() => void> = [];
const plugin = definePlugin({
  name: 'test-prefetch-jobs',
  version: '1.0.0',
  register(ctx) {
    ctx.contribute(JobHandlers, { type: 'prefetch.quick', payloadSchema: { type: 'object' }, run: async () => undefined });
    // Runs until the test opens its gate, or until its signal aborts.
    ctx.contribute(JobHandlers, {
      type: 'prefetch.gate',
      payloadSchema: { type: 'object' },
      run: (_p, job) => new Promise<void>((resolve, reject) => {
        gates.push(resolve);
        job.signal.addEventListener('abort', () => reject(job.signal.reason));
      }),
    });
  },
});

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const kind of databaseKinds()) {
  describe(`job worker claiming ahead (${kind})`, () => {
    let t: TestHost;
    let queue: JobQueue;
    before(async () => {
      t = await startTestHost(kind, { plugins: [plugin], extraConfig: '[jobs]\nlease_seconds = 30\npoll_ms = 50\n' });
      queue = t.host.services.get(JobQueueId);
    });
    after(async () => t.close());

    /** A worker of concurrency 2 that has just run short jobs, so it claims ahead. */
    const warmWorker = async () => {
      const worker = t.host.jobWorker({ concurrency: 2 });
      await worker.start();
      const quick = await queue.enqueueMany(Array.from({ length: 40 }, (_v, i) => ({ type: 'prefetch.quick', payload: { i } })));
      await until(async () => (await queue.counts({ type: 'prefetch.quick' })).succeeded === quick.length, 'the short jobs to run');
      await t.host.db!.sequelize.query(`DELETE FROM jobs WHERE type = 'prefetch.quick'`);
      return worker;
    };

    it('holds short jobs ahead, gives back those that cannot start soon, and runs each once', async () => {
      gates.length = 0;
      const worker = await warmWorker();
      try {
        const jobs = await queue.enqueueMany(Array.from({ length: 6 }, (_v, i) => ({ type: 'prefetch.gate', payload: { i } })));
        await until(() => gates.length === 2 && worker.waiting.length === 2, 'two jobs running and two held');
        assert.equal((await queue.counts({ type: 'prefetch.gate' })).running, 4, 'held jobs are leased to the worker');
        // A cancel reaches a held job too.
        const cancelled = worker.waiting[0]!;
        await queue.cancel(cancelled);
        await until(async () => (await queue.get(cancelled)).state === 'cancelled', 'the held job to be cancelled');
        // The running jobs do not end, so the other held job goes back, its attempt not counted.
        await until(async () => worker.waiting.length === 0 && (await queue.counts({ type: 'prefetch.gate' })).running === 2, 'the held job to be given back');
        const queued = await queue.list({ type: 'prefetch.gate', state: 'queued' });
        assert.equal(queued.length, 3);
        assert.ok(queued.every((j) => j.attempts === 0), 'giving back does not count an attempt');
        // The worker now treats these jobs as long: it takes no more than it can run.
        while (gates.length) gates.shift()!();
        await until(async () => {
          while (gates.length) gates.shift()!();
          const counts = await queue.counts({ type: 'prefetch.gate' });
          return counts.succeeded === 5;
        }, 'the other jobs to succeed');
        for (const job of jobs) {
          const done = await queue.get(job.id);
          if (job.id === cancelled) assert.equal(done.state, 'cancelled');
          else assert.deepEqual([done.state, done.attempts], ['succeeded', 1], `job ${job.payload.i} ran once`);
        }
      } finally {
        await worker.stop(100);
        await t.host.db!.sequelize.query('DELETE FROM jobs');
      }
    });

    it('gives back held jobs when it stops, without counting their attempt', async () => {
      gates.length = 0;
      const worker = await warmWorker();
      await queue.enqueueMany(Array.from({ length: 4 }, (_v, i) => ({ type: 'prefetch.gate', payload: { i } })));
      await until(() => gates.length === 2 && worker.waiting.length === 2, 'two jobs running and two held');
      await worker.stop(100);
      const all = await queue.list({ type: 'prefetch.gate' });
      assert.deepEqual(all.map((j) => [j.state, j.attempts]), Array.from({ length: 4 }, () => ['queued', 0]));
      await t.host.db!.sequelize.query('DELETE FROM jobs');
    });
  });
}
