// `platform jobs list|show|retry|cancel|purge` as scripts use them, and the jobs check of
// `platform inspect`: dead jobs, jobs whose worker died (repaired by putting them back), and
// runnable jobs of a type no enabled plugin handles.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueryTypes } from 'sequelize';
import { databaseKinds, createTestDatabase, type TestDatabase } from '../../helpers/test-databases.js';
import { writeTestConfig } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { JobQueueId } from '../../../core/services/service-ids.js';
import type { Job, JobQueue } from '../../../core/jobs/job-queue.js';
import type { InspectReport } from '../../../core/inspect/inspect-report.js';

const testPlugin = fileURLToPath(new URL('../../fixtures/platform-test-jobs/', import.meta.url));

for (const kind of databaseKinds()) {
  describe(`platform jobs and inspect (${kind})`, () => {
    let db: TestDatabase;
    let configFile: string;
    let host: PlatformHost;
    let queue: JobQueue;
    let dead: Job;
    let stuck: Job;
    let orphan: Job;
    const cli = (...args: string[]) => runCli(['--config', configFile, ...args]);

    before(async () => {
      db = await createTestDatabase(kind);
      mkdirSync(join(db.dir, 'node_modules'));
      symlinkSync(testPlugin, join(db.dir, 'node_modules', 'platform-test-jobs'), 'dir');
      configFile = writeTestConfig(db, ['platform-test-jobs']);
      host = await PlatformHost.start({ configFile, env: {}, logLevel: 'error' });
      queue = host.services.get(JobQueueId);
      dead = await queue.enqueue('test.record', { n: 1 }, { maxAttempts: 1 });
      await queue.claim('worker-1', { leaseMs: 60_000, types: ['test.record'] });
      await queue.fail(dead.id, 'worker-1', { message: 'the disk was full', stack: 'Error: the disk was full\n    at write (depot.js:1:1)' });
      stuck = await queue.enqueue('test.sleep', { ms: 10 });
      await queue.claim('worker-that-died', { leaseMs: 60_000, types: ['test.sleep'] });
      await host.db!.sequelize.query('UPDATE jobs SET lease_until = :past WHERE id = :id', { replacements: { id: stuck.id, past: new Date(Date.now() - 5 * 60_000) } });
      orphan = await queue.enqueue('nobody.handles-this', {}, { runAfter: new Date(Date.now() - 30 * 60_000) });
    });
    after(async () => {
      await host.stop();
      await db.cleanup();
    });

    it('lists jobs filtered by state and type, with counts per state', async () => {
      const byState = await cli('jobs', 'list', '--state', 'dead');
      assert.equal(byState.status, 0, byState.stderr);
      assert.match(byState.stdout, new RegExp(`${dead.id}\\s+test.record\\s+dead\\s+-\\s+1/1 .* worker-1\\s+the disk was full`));
      assert.doesNotMatch(byState.stdout, new RegExp(stuck.id));
      assert.match(byState.stderr, /1 queued, 1 running, 0 succeeded, 1 dead, 0 cancelled/);
      const byType = await cli('jobs', 'list', '--type', 'test.sleep', '--json');
      const listed = JSON.parse(byType.stdout) as Array<{ id: string; state: string; leaseOwner: string }>;
      assert.deepEqual(listed.map((j) => [j.id, j.state, j.leaseOwner]), [[stuck.id, 'running', 'worker-that-died']]);
      const bad = await cli('jobs', 'list', '--state', 'stuck');
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--state must be one of queued, running, succeeded, dead, cancelled, not "stuck"/);
    });

    it('shows one job with its error, stack, attempts, worker and timestamps', async () => {
      const shown = await cli('jobs', 'show', dead.id);
      assert.equal(shown.status, 0, shown.stderr);
      const job = JSON.parse(shown.stdout) as Record<string, unknown>;
      assert.equal(job.state, 'dead');
      assert.equal(job.attempts, 1);
      assert.equal(job.leaseOwner, 'worker-1');
      assert.equal(job.lastError, 'the disk was full');
      assert.match(String(job.lastStack), /depot\.js/);
      for (const field of ['createdAt', 'startedAt', 'finishedAt', 'updatedAt']) assert.match(String(job[field]), /^\d{4}-\d\d-\d\dT/, field);
      const missing = await cli('jobs', 'show', '00000000-0000-0000-0000-000000000000');
      assert.notEqual(missing.status, 0);
      assert.match(missing.stderr, /job 00000000-0000-0000-0000-000000000000 not found/);
    });

    it('shows the progress a running job reported; only its lease holder may report it', async () => {
      const job = await queue.enqueue('test.record', { n: 2 });
      const [claimed] = await queue.claim('worker-2', { leaseMs: 60_000, types: ['test.record'] });
      assert.equal(claimed?.id, job.id);
      assert.equal(await queue.setProgress(job.id, 'someone-else', { done: 1 }), false, 'not the lease holder');
      assert.equal(await queue.setProgress(job.id, 'worker-2', { done: 40, total: 100, detail: 'patients 40 of 100' }), true);
      const shown = JSON.parse((await cli('jobs', 'show', job.id)).stdout) as { progress: { done: number; total: number; detail: string; at: string } };
      assert.deepEqual({ ...shown.progress, at: undefined }, { done: 40, total: 100, detail: 'patients 40 of 100', at: undefined });
      const listed = await cli('jobs', 'list', '--type', 'test.record');
      assert.match(listed.stdout, new RegExp(`${job.id}\\s+test\\.record\\s+running\\s+40/100 \\(40%\\)`));
      assert.equal(await queue.complete(job.id, 'worker-2', null), true);
      assert.equal(JSON.parse((await cli('jobs', 'show', job.id)).stdout).progress.done, 40, 'kept after the job ends');
    });

    it('inspect reports dead, stuck and unhandled jobs, and puts stuck ones back with --repair', async () => {
      const first = await cli('inspect', '--only', 'jobs', '--json');
      const report = JSON.parse(first.stdout) as InspectReport;
      assert.equal(report.exitCode, 1);
      const titles = report.checks.flatMap((c) => c.findings.map((f) => `${f.severity}: ${f.title}`));
      assert.ok(titles.includes('problem: 1 running job(s) have a lapsed lease: their worker stopped'), titles.join('\n'));
      assert.ok(titles.includes('warning: 1 job(s) are dead after their last attempt'), titles.join('\n'));
      assert.ok(titles.includes('problem: 1 queued job(s) have a type no enabled plugin handles'), titles.join('\n'));
      const details = report.checks.flatMap((c) => c.findings.flatMap((f) => f.details ?? [])).join('\n');
      assert.match(details, new RegExp(`${stuck.id} test.sleep, attempt 1 of \\d+, leased by worker-that-died`));
      assert.match(details, /nobody.handles-this: 1 job\(s\)/);
      const repaired = await cli('inspect', '--only', 'jobs', '--repair', '--yes', '--json');
      const after = JSON.parse(repaired.stdout) as InspectReport;
      assert.ok(after.checks.some((c) => c.findings.some((f) => f.repair?.status === 'applied')), repaired.stdout);
      const back = await queue.get(stuck.id);
      assert.equal(back.state, 'queued');
      assert.match(back.lastError ?? '', /worker worker-that-died stopped renewing the lease/);
    });

    it('retries a dead job, cancels queued ones, and purges finished ones', async () => {
      const retried = await cli('jobs', 'retry', dead.id);
      assert.equal(retried.status, 0, retried.stderr);
      assert.equal((await queue.get(dead.id)).state, 'queued');
      const notDead = await cli('jobs', 'retry', dead.id);
      assert.notEqual(notDead.status, 0);
      assert.match(notDead.stderr, /is queued; only dead or cancelled jobs can be retried/);
      for (const job of [dead, stuck, orphan]) {
        const cancelled = await cli('jobs', 'cancel', job.id);
        assert.equal(cancelled.status, 0, cancelled.stderr);
        assert.match(cancelled.stderr, new RegExp(`job ${job.id} cancelled`));
      }
      const refused = await cli('jobs', 'purge', '--state', 'queued');
      assert.equal(refused.status, 2);
      const purged = await cli('jobs', 'purge', '--older-than-days', '0');
      assert.equal(purged.status, 0, purged.stderr);
      // Finished by now: the three cancelled here and the progress test's succeeded job.
      assert.match(purged.stderr, /deleted 4 finished job\(s\)/);
      assert.deepEqual(await queue.counts(), { queued: 0, running: 0, succeeded: 0, dead: 0, cancelled: 0 });
      const clean = await cli('inspect', '--only', 'jobs');
      assert.equal(clean.status, 0, clean.stdout);
    });

    it('queues dead jobs again with inspect --repair only when --retry-dead says so, audited', async () => {
      const job = await queue.enqueue('test.record', { n: 3 }, { maxAttempts: 1 });
      await queue.claim('worker-3', { leaseMs: 60_000, types: ['test.record'] });
      await queue.fail(job.id, 'worker-3', { message: 'the remote was down' });
      const deadFinding = (report: InspectReport) => report.checks.flatMap((c) => c.findings).find((f) => /dead after their last attempt/.test(f.title));
      const plain = JSON.parse((await cli('inspect', '--only', 'jobs', '--repair', '--yes', '--json')).stdout) as InspectReport;
      assert.equal(deadFinding(plain)?.repair, undefined, 'no repair is offered without --retry-dead');
      assert.match(deadFinding(plain)?.fix ?? '', /--retry-dead/);
      assert.equal((await queue.get(job.id)).state, 'dead');
      const repairsAudited = async () => Number((await host.db!.sequelize.query<{ n: number }>(`SELECT COUNT(*) AS n FROM audit_events WHERE action = 'inspect.repair' AND object_id = 'jobs/job queue'`, { type: QueryTypes.SELECT }))[0]!.n);
      const auditedBefore = await repairsAudited();
      const retried = JSON.parse((await cli('inspect', '--only', 'jobs', '--repair', '--yes', '--retry-dead', '--json')).stdout) as InspectReport;
      assert.equal(deadFinding(retried)?.repair?.status, 'applied');
      const again = await queue.get(job.id);
      assert.equal(again.state, 'queued');
      assert.equal(again.attempts, 0, 'fresh attempts');
      assert.equal(await repairsAudited(), auditedBefore + 1, 'the repair is audited');
    });
  });
}
