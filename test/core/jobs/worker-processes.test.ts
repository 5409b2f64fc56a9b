// Job workers as real processes (`platform jobs work`, `platform serve`): a worker killed
// with SIGKILL mid-job leaves the job to be claimed again after its lease and completed by
// another; SIGTERM lets running jobs finish within the grace period and gives back the rest;
// dedupe keys hold when several processes enqueue the same keys at the same moment; two and
// four workers drain 10,000 jobs on PostgreSQL with every job run once; and `serve` answers
// HTTP while every pool thread is busy.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { QueryTypes } from 'sequelize';
import { databaseKinds, createTestDatabase, type TestDatabase } from '../../helpers/test-databases.js';
import { writeTestConfig } from '../../helpers/test-host.js';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { JobQueueId } from '../../../core/services/service-ids.js';
import type { JobQueue } from '../../../core/jobs/job-queue.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../../bin/platform.js', import.meta.url));
const enqueuer = fileURLToPath(new URL('./enqueue-process.js', import.meta.url));
const testPlugin = fileURLToPath(new URL('../../fixtures/platform-test-jobs/', import.meta.url));

/** A child process with its output kept for failure messages. */
interface Child {
  process: ChildProcess;
  output: () => string;
  /** Resolves with the first line of output that matches. */
  line: (pattern: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let text = '';
  const waiting: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  const take = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const w of [...waiting]) {
      const match = text.match(w.pattern);
      if (match) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(match);
      }
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    process: child,
    output: () => text,
    exited,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const match = text.match(pattern);
        if (match) return resolve(match);
        waiting.push({ pattern, resolve });
        void exited.then(({ code, signal }) => reject(new Error(`process exited (${code ?? signal}) before printing ${pattern}:\n${text}`)));
      }),
  };
}

async function startWorker(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<Child> {
  const child = startChild(['--config', configFile, 'jobs', 'work'], env);
  await child.line(/job worker \S+ running/);
  return child;
}

async function stop(child: Child): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
  return child.exited;
}

async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const kind of databaseKinds()) {
  describe(`job worker processes (${kind})`, () => {
    let db: TestDatabase;
    let configFile: string;
    let host: PlatformHost;
    let queue: JobQueue;
    const children: Child[] = [];
    const worker = async (env: NodeJS.ProcessEnv = {}): Promise<Child> => {
      const child = await startWorker(configFile, env);
      children.push(child);
      return child;
    };
    const sql = <T extends object>(query: string, replacements: Record<string, unknown> = {}): Promise<T[]> => host.db!.sequelize.query<T>(query, { replacements, type: QueryTypes.SELECT });

    before(async () => {
      db = await createTestDatabase(kind);
      // The test plugin is found as an installed package beside platform.ini.
      mkdirSync(join(db.dir, 'node_modules'));
      symlinkSync(testPlugin, join(db.dir, 'node_modules', 'platform-test-jobs'), 'dir');
      configFile = writeTestConfig(db, ['platform-test-jobs'], '[http]\nport = 0\n[jobs]\nlease_seconds = 2\npoll_ms = 200\nconcurrency = 8\ngrace_seconds = 10\npool_size = 2\n');
      host = await PlatformHost.start({ configFile, env: {}, logLevel: 'error' });
      queue = host.services.get(JobQueueId);
    });
    after(async () => {
      await Promise.all(children.map(stop));
      await host.stop();
      await db.cleanup();
    });

    it('completes a job whose worker was killed with SIGKILL, once its lease lapsed', async () => {
      const job = await queue.enqueue('test.sleep', { ms: 1500 });
      const first = await worker();
      await until(async () => (await sql('SELECT id FROM test_job_runs WHERE job_id = :id', { id: job.id })).length === 1, 'the first worker to start the job');
      first.process.kill('SIGKILL');
      await first.exited;
      const orphan = await queue.get(job.id);
      assert.equal(orphan.state, 'running', 'still leased to the dead worker');
      const second = await worker();
      await until(async () => (await queue.get(job.id)).state === 'succeeded', 'another worker to finish the job');
      await stop(second);
      const done = await queue.get(job.id);
      assert.equal(done.attempts, 2);
      assert.notEqual(done.leaseOwner, orphan.leaseOwner, 'finished by the other worker');
      const runs = await sql<{ attempt: number; finished: boolean | number }>('SELECT attempt, finished FROM test_job_runs WHERE job_id = :id ORDER BY attempt', { id: job.id });
      assert.deepEqual(runs.map((r) => [r.attempt, Boolean(r.finished)]), [[1, false], [2, true]], 'the killed run never finished; the second ran to the end');
    });

    it('on SIGTERM lets a running job finish within the grace period, then exits', async () => {
      const w = await worker();
      const job = await queue.enqueue('test.sleep', { ms: 1000 });
      await until(async () => (await queue.get(job.id)).state === 'running', 'the job to start');
      const { code } = await stop(w);
      assert.equal(code, 0, w.output());
      const done = await queue.get(job.id);
      assert.equal(done.state, 'succeeded');
      assert.match(w.output(), /SIGTERM: no new jobs/);
    });

    it('on SIGTERM gives back a job that outlasts the grace period, without counting its attempt', async () => {
      const w = await worker({ PLATFORM__JOBS__GRACE_SECONDS: '1' });
      const job = await queue.enqueue('test.sleep', { ms: 60_000 });
      await until(async () => (await queue.get(job.id)).state === 'running', 'the job to start');
      const { code } = await stop(w);
      assert.equal(code, 0, w.output());
      const released = await queue.get(job.id);
      assert.equal(released.state, 'queued');
      assert.equal(released.attempts, 0);
      assert.match(released.lastError ?? '', /released by worker .* at shutdown/);
      await queue.cancel(job.id);
    });

    it('keeps one live job per dedupe key when several processes enqueue the same keys at once', async () => {
      const startAt = Date.now() + 3000;
      const outputs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, [enqueuer, configFile, String(startAt), '150', 'same'], { maxBuffer: 10_000_000 })));
      const maps = outputs.map((o) => JSON.parse(o.stdout) as Record<string, string>);
      for (const map of maps.slice(1)) assert.deepEqual(map, maps[0], 'every process got the same job for every key');
      const [row] = await sql<{ n: string | number; keys: string | number }>(`SELECT COUNT(*) AS n, COUNT(DISTINCT dedupe_key) AS keys FROM jobs WHERE dedupe_key LIKE 'same-%'`);
      assert.equal(Number(row!.n), 150, 'one job per key');
      assert.equal(Number(row!.keys), 150);
      await sql(`DELETE FROM jobs WHERE dedupe_key LIKE 'same-%' RETURNING id`);
    });

    it('serve answers HTTP while every pool thread is busy, and stops cleanly on SIGTERM', async () => {
      const serve = startChild(['--config', configFile, 'serve']);
      children.push(serve);
      const [, url] = await serve.line(/platform listening on (http:\/\/\S+)/);
      const release = join(db.dir, 'spin.release');
      const started = (i: number): string => join(db.dir, `spin-${i}.started`);
      const jobs = await Promise.all([0, 1, 2].map((i) => queue.enqueue('test.spin', { startedFile: started(i), releaseFile: release })));
      await until(async () => [0, 1, 2].filter((i) => existsSync(started(i))).length === 2, 'both pool threads to be busy');
      const response = await fetch(`${url}/api/3/action/status_show`);
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { success: boolean }).success, true);
      // The answer came while the threads were still spinning: nothing had released them.
      assert.equal(existsSync(release), false);
      assert.equal([0, 1, 2].filter((i) => existsSync(started(i))).length, 2, 'the third job still waits for a thread');
      for (const job of jobs) assert.equal((await queue.get(job.id)).state, 'running');
      writeFileSync(release, '');
      await until(async () => (await queue.counts({ type: 'test.spin' })).succeeded === 3, 'the spinning jobs to finish');
      const { code } = await stop(serve);
      assert.equal(code, 0, serve.output());
    });

    for (const workers of [2, 4]) {
      it(`drains 10,000 jobs with ${workers} worker processes, each job run exactly once`, { skip: kind !== 'postgres' && 'several worker processes on one SQLite file is not a production set-up' }, async () => {
        await sql('DELETE FROM test_job_runs RETURNING id');
        await sql(`DELETE FROM jobs WHERE type = 'test.record' RETURNING id`);
        // A lease long enough that a loaded machine's pauses cannot lapse it: this test is about
        // claiming, not about recovering from a stalled worker (the SIGKILL test covers that).
        const pool = await Promise.all(Array.from({ length: workers }, () => worker({ PLATFORM__JOBS__LEASE_SECONDS: '30' })));
        const specs = Array.from({ length: 10_000 }, (_v, n) => ({ type: 'test.record', payload: { n } }));
        await queue.enqueueMany(specs);
        await until(async () => {
          const counts = await queue.counts({ type: 'test.record' });
          return counts.queued === 0 && counts.running === 0;
        }, 'the queue to drain', 150_000);
        await Promise.all(pool.map(stop));
        const counts = await queue.counts({ type: 'test.record' });
        assert.deepEqual(counts, { queued: 0, running: 0, succeeded: 10_000, dead: 0, cancelled: 0 });
        const [runs] = await sql<{ runs: string; jobs: string; last: number }>('SELECT COUNT(*) AS runs, COUNT(DISTINCT job_id) AS jobs, MAX(attempt) AS last FROM test_job_runs');
        assert.equal(Number(runs!.jobs), 10_000, 'every job ran');
        const twice = await sql<{ job_id: string; attempt: number; worker: string }>('SELECT job_id, attempt, worker FROM test_job_runs WHERE job_id IN (SELECT job_id FROM test_job_runs GROUP BY job_id HAVING COUNT(*) > 1) ORDER BY job_id, attempt LIMIT 20');
        assert.equal(Number(runs!.runs), 10_000, `no job ran twice, so none twice at the same time; ran twice: ${JSON.stringify(twice)}`);
        assert.equal(Number(runs!.last), 1, 'each on its first attempt');
        const perWorker = await sql<{ worker: string; n: string }>('SELECT worker, COUNT(*) AS n FROM test_job_runs GROUP BY worker');
        assert.equal(perWorker.length, workers, 'every worker process took part');
        assert.equal(perWorker.reduce((sum, w) => sum + Number(w.n), 0), 10_000, 'the counts add up');
        const [owners] = await sql<{ n: string }>(`SELECT COUNT(DISTINCT lease_owner) AS n FROM jobs WHERE type = 'test.record'`);
        assert.equal(Number(owners!.n), workers);
      });
    }
  });
}
