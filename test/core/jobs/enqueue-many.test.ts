// Batch enqueue on SQLite and PostgreSQL: thousands of jobs in one call, each with its own
// options, dedupe keys honoured within the batch and against live jobs, and all or nothing: a
// bad spec anywhere refuses the batch before anything is written, and a write that fails in a
// later chunk takes the earlier chunks back with it. On PostgreSQL, idle workers hear of the
// batch by NOTIFY once per job type, not once per job.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { JobHandlers } from '../../../core/plugins/hooks/job-handlers.js';
import { JobQueueId } from '../../../core/services/service-ids.js';
import type { JobQueue, JobSpec } from '../../../core/jobs/job-queue.js';

const plugin = definePlugin({
  name: 'test-bulk-jobs',
  version: '1.0.0',
  register(ctx) {
    ctx.contribute(JobHandlers, { type: 'bulk.a', maxAttempts: 7, payloadSchema: { type: 'object' }, run: async () => undefined });
    ctx.contribute(JobHandlers, { type: 'bulk.b', payloadSchema: { type: 'object' }, run: async () => undefined });
  },
});

for (const kind of databaseKinds()) {
  describe(`enqueueMany (${kind})`, () => {
    let t: TestHost;
    let queue: JobQueue;
    const total = async (): Promise<number> => Object.values(await queue.counts()).reduce((a, b) => a + b, 0);
    before(async () => {
      t = await startTestHost(kind, { plugins: [plugin], extraConfig: '[jobs]\nmax_attempts = 3\n' });
      queue = t.host.services.get(JobQueueId);
    });
    after(async () => t.close());

    it('adds thousands of jobs in one call, in order, each with its own options', async () => {
      const later = new Date(Date.now() + 3_600_000);
      const specs: JobSpec[] = Array.from({ length: 2500 }, (_v, i) => ({
        type: i % 2 ? 'bulk.b' : 'bulk.a',
        payload: { i, name: `file ${i}.csv`, nested: { tags: ['x', i] } },
        ...(i % 500 === 7 ? { options: { priority: 5, runAfter: later, maxAttempts: 2, timeoutMs: 1234, dedupeKey: `bulk:${i}` } } : {}),
      }));
      const jobs = await queue.enqueueMany(specs);
      assert.equal(jobs.length, 2500);
      assert.equal(new Set(jobs.map((j) => j.id)).size, 2500);
      assert.deepEqual(jobs.map((j) => j.payload.i), specs.map((s) => s.payload.i), 'returned in the order given');
      assert.equal((await queue.counts()).queued, 2500);
      // What the call returned is what the database holds.
      for (const index of [0, 1, 7, 1507, 2499]) {
        const stored = await queue.get(jobs[index]!.id);
        const { updatedAt: _u, createdAt: c1, runAfter: r1, ...returned } = jobs[index]!;
        const { updatedAt: _v, createdAt: c2, runAfter: r2, ...read } = stored;
        assert.deepEqual(returned, read, `job ${index}`);
        assert.ok(Math.abs(c1.getTime() - c2.getTime()) < 2 && Math.abs(r1.getTime() - r2.getTime()) < 2);
      }
      const special = await queue.get(jobs[1507]!.id);
      assert.deepEqual([special.priority, special.runAfter.getTime(), special.maxAttempts, special.timeoutMs, special.dedupeKey], [5, later.getTime(), 2, 1234, 'bulk:1507']);
      assert.equal(jobs[0]!.maxAttempts, 7, "the handler's maxAttempts applies");
      assert.equal(jobs[1]!.maxAttempts, 3, '[jobs] max_attempts applies when neither the job nor its handler sets one');
      await t.host.db!.sequelize.query('DELETE FROM jobs');
    });

    it('honours dedupe keys within the batch, across chunks, and against live jobs', async () => {
      const live = await queue.enqueue('bulk.a', { n: 0 }, { dedupeKey: 'k:live' });
      const specs: JobSpec[] = Array.from({ length: 1500 }, (_v, i) => ({ type: 'bulk.a', payload: { i } }));
      specs[3] = { type: 'bulk.a', payload: { i: 3 }, options: { dedupeKey: 'k:live' } };
      specs[10] = { type: 'bulk.a', payload: { i: 10 }, options: { dedupeKey: 'k:twice' } };
      specs[11] = { type: 'bulk.b', payload: { i: 11 }, options: { dedupeKey: 'k:twice' } };
      specs[1400] = { type: 'bulk.a', payload: { i: 1400 }, options: { dedupeKey: 'k:twice' } };
      const jobs = await queue.enqueueMany(specs);
      assert.equal(jobs[3]!.id, live.id, 'a live job with the key is returned in its place');
      assert.equal(jobs[11]!.id, jobs[10]!.id, 'a key twice in one statement adds one job');
      assert.equal(jobs[1400]!.id, jobs[10]!.id, 'a key again in a later chunk adds no job');
      assert.deepEqual(jobs[10]!.payload, { i: 10 }, 'the first spec with the key wins');
      assert.equal(await total(), 1 + 1500 - 3);
      await t.host.db!.sequelize.query('DELETE FROM jobs');
    });

    it('refuses the whole batch for one bad spec, naming it, and writes nothing', async () => {
      const before = await total();
      const good = (i: number): JobSpec => ({ type: 'bulk.a', payload: { i } });
      const cases: Array<[JobSpec, RegExp]> = [
        [{ type: 'Bulk A', payload: {} }, /job 1800 of 2000: job type "Bulk A" is not valid/],
        [{ type: 'bulk.a', payload: [] as unknown as Record<string, unknown> }, /job 1800 of 2000: the payload of a "bulk.a" job must be a JSON object/],
        [{ type: 'bulk.a', payload: { big: 10n } }, /job 1800 of 2000: the payload of a "bulk.a" job cannot be stored as JSON/],
        [{ type: 'bulk.a', payload: { s: 'a\u0000b' } }, /job 1800 of 2000: .*NUL character/],
        [{ type: 'bulk.a', payload: {}, options: { timeoutMs: 2 ** 40 } }, /job 1800 of 2000: timeoutMs must be a whole number/],
        [{ type: 'bulk.a', payload: {}, options: { priority: 1.5 } }, /job 1800 of 2000: priority must be a whole number/],
        [{ type: 'bulk.a', payload: {}, options: { dedupeKey: '' } }, /job 1800 of 2000: dedupeKey must be a string/],
        [{ type: 'bulk.a', payload: {}, options: { runAfter: new Date('nope') } }, /job 1800 of 2000: runAfter must be a valid Date/],
      ];
      for (const [bad, message] of cases) {
        const specs = Array.from({ length: 2000 }, (_v, i) => good(i));
        specs[1799] = bad;
        await assert.rejects(queue.enqueueMany(specs), (error: Error & { status?: number }) => {
          assert.match(error.message, message);
          assert.equal(error.status, 400);
          return true;
        });
      }
      assert.equal(await total(), before, 'nothing was written');
    });

    it('takes earlier chunks back when a write fails in a later one', async () => {
      const seq = t.host.db!.sequelize;
      // A trigger that refuses one row, standing in for any failure of the database mid-batch.
      if (kind === 'postgres') {
        await seq.query(`CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.payload ? 'poison' THEN RAISE EXCEPTION 'poisoned job'; END IF; RETURN NEW; END $$`);
        await seq.query('CREATE TRIGGER test_poison BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION test_poison()');
      } else {
        await seq.query(`CREATE TRIGGER test_poison BEFORE INSERT ON jobs WHEN json_extract(NEW.payload, '$.poison') IS NOT NULL BEGIN SELECT RAISE(ABORT, 'poisoned job'); END`);
      }
      try {
        const before = await total();
        const specs: JobSpec[] = Array.from({ length: 2600 }, (_v, i) => ({ type: 'bulk.a', payload: i === 2345 ? { i, poison: true } : { i } }));
        // Sequelize reports SQLite's RAISE(ABORT) as a constraint error; the message is in its cause.
        await assert.rejects(queue.enqueueMany(specs), (error: Error & { parent?: Error }) => /poisoned job/.test(`${error.message} ${error.parent?.message ?? ''}`));
        assert.equal(await total(), before, 'the two chunks written before the failure were rolled back');
        const after = await queue.enqueueMany(specs.slice(0, 2000));
        assert.equal(after.length, 2000, 'the queue is usable afterwards');
        await seq.query('DELETE FROM jobs');
      } finally {
        await seq.query(kind === 'postgres' ? 'DROP TRIGGER test_poison ON jobs' : 'DROP TRIGGER test_poison');
        if (kind === 'postgres') await seq.query('DROP FUNCTION test_poison()');
      }
    });

    it("enqueues inside the caller's transaction: the jobs exist only if it commits", async () => {
      const before = await total();
      const specs: JobSpec[] = Array.from({ length: 1200 }, (_v, i) => ({ type: 'bulk.b', payload: { i } }));
      await assert.rejects(
        t.host.db!.transaction(async (transaction) => {
          await queue.enqueueMany(specs, { transaction });
          throw new Error('the caller changed its mind');
        }),
        /changed its mind/,
      );
      assert.equal(await total(), before);
      const jobs = await t.host.db!.transaction((transaction) => queue.enqueueMany(specs, { transaction }));
      assert.equal(jobs.length, 1200);
      assert.equal((await queue.counts({ type: 'bulk.b' })).queued, 1200);
      await t.host.db!.sequelize.query('DELETE FROM jobs');
    });

    if (kind === 'postgres') {
      it('wakes workers by NOTIFY once per job type and statement, not once per job', async () => {
        const listener = new pg.Client({ connectionString: t.db.url });
        await listener.connect();
        const heard: string[] = [];
        listener.on('notification', (m) => m.channel === 'platform_jobs' && heard.push(m.payload ?? ''));
        await listener.query('LISTEN platform_jobs');
        try {
          await queue.enqueueMany(Array.from({ length: 2500 }, (_v, i) => ({ type: i % 2 ? 'bulk.b' : 'bulk.a', payload: { i } })));
          for (let i = 0; i < 200 && heard.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 25));
          await new Promise((resolve) => setTimeout(resolve, 200));
          assert.deepEqual([...new Set(heard)].sort(), ['bulk.a', 'bulk.b']);
          assert.ok(heard.length <= 6, `${heard.length} notifications for 3 statements of 2 types`);
        } finally {
          await listener.end();
          await t.host.db!.sequelize.query('DELETE FROM jobs');
        }
      });
    }
  });
}
