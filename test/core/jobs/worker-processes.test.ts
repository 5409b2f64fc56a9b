// Job workers as real processes: a worker killed with SIGKILL mid-job leaves the job to be
// claimed again after its lease and completed by another; several workers drain 10,000
// jobs on PostgreSQL with every job run exactly once; dedupe keys hold across processes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { QueryTypes } from 'sequelize';
import { databaseKinds, createTestDatabase, type TestDatabase } from '../../helpers/test-databases.js';
import { writeTestConfig } from '../../helpers/test-host.js';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { JobQueueId } from '../../../core/services/service-ids.js';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../../../../bin/platform.js', import.meta.url));
const enqueuer = fileURLToPath(new URL('../../helpers/enqueue-process.js', import.meta.url));

function startWorker(configFile: string): ChildProcess {
  return spawn(process.execPath, [bin, '--config', configFile, 'jobs', 'work'], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
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
    before(async () => {
      db = await createTestDatabase(kind);
      configFile = writeTestConfig(db, ['platform-plugin-example'], '[jobs]\nlease_seconds = 2\npoll_ms = 50\nconcurrency = 4\ngrace_seconds = 5\n');
      host = await PlatformHost.start({ configFile, env: {}, logLevel: 'error' });
    });
    after(async () => {
      await host.stop();
      await db.cleanup();
    });

    const greetings = async (name: string): Promise<number> => {
      const rows = await host.db!.sequelize.query<{ count: number }>('SELECT count FROM example_greetings WHERE name = :name', { replacements: { name }, type: QueryTypes.SELECT });
      return rows.length ? Number(rows[0]!.count) : 0;
    };

    it('completes a job whose worker was killed with SIGKILL, once its lease lapsed', async () => {
      const queue = host.services.get(JobQueueId);
      const job = await queue.enqueue('example.greet-later', { name: 'survivor', ms: 1500 });
      const first = startWorker(configFile);
      await until(async () => (await queue.get(job.id)).state === 'running', 'the first worker to start the job');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      assert.equal((await queue.get(job.id)).state, 'running', 'still leased to the dead worker');
      const second = startWorker(configFile);
      try {
        await until(async () => (await queue.get(job.id)).state === 'succeeded', 'the second worker to finish the job');
      } finally {
        await stopWorker(second);
      }
      const done = await queue.get(job.id);
      assert.equal(done.attempts, 2);
      assert.equal(await greetings('survivor'), 1, 'the killed run never finished; the second ran once');
    });

    it('keeps one live job per dedupe key when several processes enqueue at once', async () => {
      const outputs = await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, [enqueuer, configFile, 'example.count', '3', 'shared-key'])));
      const ids = new Set(outputs.flatMap((o) => o.stdout.trim().split('\n')));
      assert.equal(ids.size, 1);
    });

    for (const workers of [2, 4]) {
      it(`drains 10,000 jobs with ${workers} worker processes, each job run exactly once`, { skip: kind !== 'postgres' && 'many worker processes on one SQLite file are not a supported set-up' }, async () => {
        const queue = host.services.get(JobQueueId);
        await host.db!.sequelize.query('DELETE FROM example_greetings');
        await host.db!.sequelize.query("DELETE FROM jobs WHERE type = 'example.count'");
        await Promise.all(Array.from({ length: 4 }, () => run(process.execPath, [enqueuer, configFile, 'example.count', '2500'], { maxBuffer: 10_000_000 })));
        assert.equal((await queue.counts()).queued, 10_000);
        const children = Array.from({ length: workers }, () => startWorker(configFile));
        try {
          await until(async () => {
            const counts = await queue.counts();
            return counts.queued === 0 && counts.running === 0;
          }, 'the queue to drain', 240_000);
        } finally {
          await Promise.all(children.map(stopWorker));
        }
        const [stats] = await host.db!.sequelize.query<{ runs: string; keys: string; most: string }>('SELECT SUM(count) AS runs, COUNT(*) AS keys, MAX(count) AS most FROM example_greetings', { type: QueryTypes.SELECT });
        assert.equal(Number(stats!.keys), 10_000, 'every job ran');
        assert.equal(Number(stats!.runs), 10_000, 'no job ran twice');
        assert.equal(Number(stats!.most), 1);
        await host.db!.sequelize.query("DELETE FROM jobs WHERE type = 'example.count'");
      });
    }
  });
}
