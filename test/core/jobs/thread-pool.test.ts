// The thread pool around worker-threads-pool: results by message, at most `size` threads,
// time and memory limits that end a thread and not the process, cancellation of queued and
// running tasks, and a shutdown that drops the queue without starting its threads.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ThreadError, ThreadPool } from '../../../core/jobs/thread-pool.js';

const tasks = new URL('../../fixtures/platform-test-jobs/cpu-tasks.js', import.meta.url);

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const code = (expected: string) => (error: unknown): boolean => {
  assert.ok(error instanceof ThreadError, `a ThreadError, not ${String(error)}`);
  assert.equal(error.code, expected, error.message);
  return true;
};

describe('thread pool', () => {
  let dir: string;
  let pool: ThreadPool;
  const spin = (name: string, signal?: AbortSignal) =>
    pool.run<{ spins: number; threadId: number }>({ module: tasks, export: 'spinUntilReleased', args: [{ startedFile: join(dir, `${name}.started`), releaseFile: join(dir, `${name}.release`) }], ...(signal ? { signal } : {}) });
  const started = (name: string) => existsSync(join(dir, `${name}.started`));
  const release = (name: string) => writeFileSync(join(dir, `${name}.release`), '');

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'platform-threads-'));
    pool = new ThreadPool({ size: 2, memoryLimitMb: 64 });
  });
  after(async () => {
    await pool.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a function of a module on a thread and returns its result', async () => {
    const result = await pool.run<{ digest: string; threadId: number }>({ module: tasks, export: 'hashRounds', args: [{ text: 'abc', rounds: 1 }, { jobId: 'j', attempt: 1 }] });
    assert.equal(result.digest, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.ok(result.threadId > 0);
    assert.deepEqual(await pool.run({ module: tasks, export: 'later', args: [{ nested: [1, 2] }, 10] }), { nested: [1, 2] }, 'async functions too');
  });

  it('lets a thread that answered finish what it still had under way before it ends', async () => {
    const file = join(dir, 'finished-after-answer');
    assert.equal(await pool.run({ module: tasks, export: 'answerThenFinish', args: [{ file, ms: 150 }] }), 'answered');
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(existsSync(file), 'the thread was not cut off right after answering');
  });

  it('runs at most `size` threads; the rest wait in order', async () => {
    const runs = ['p1', 'p2', 'p3'].map((name) => spin(name));
    await until(() => started('p1') && started('p2'), 'two threads to start');
    assert.equal(pool.busy, 2);
    assert.equal(pool.queued, 1);
    assert.equal(started('p3'), false, 'the third waits for a free thread');
    release('p1');
    await until(() => started('p3'), 'the third to start once one finished');
    release('p2');
    release('p3');
    const results = await Promise.all(runs);
    assert.equal(new Set(results.map((r) => r.threadId)).size, 3, 'a fresh thread per task');
  });

  it('ends a thread at its time limit, and the pool carries on', async () => {
    await assert.rejects(pool.run({ module: tasks, export: 'spinForever', timeoutMs: 200 }), (e: unknown) => code('PLATFORM_THREAD_TIMEOUT')(e) && /time limit of 200 ms/.test((e as Error).message));
    assert.deepEqual(await pool.run({ module: tasks, export: 'later', args: ['still here', 0] }), 'still here');
  });

  it('ends a thread that exceeds its memory limit, and the process carries on', async () => {
    const rss = process.memoryUsage().rss;
    await assert.rejects(pool.run({ module: tasks, export: 'allocateForever', memoryLimitMb: 32 }), (e: unknown) => code('PLATFORM_THREAD_MEMORY')(e) && /limit of 32 MB/.test((e as Error).message));
    assert.ok(process.memoryUsage().rss < rss + 1024 * 1024 * 1024, 'the process did not grow without bound');
    assert.deepEqual(await pool.run({ module: tasks, export: 'later', args: [1, 0] }), 1);
  });

  it('passes on what a task threw, with the stack from the thread', async () => {
    await assert.rejects(pool.run({ module: tasks, export: 'throwAnError' }), (e: unknown) => code('PLATFORM_THREAD_FAILED')(e) && (e as Error).message === 'the thread broke on purpose' && /throwAnError/.test((e as Error).stack ?? ''));
    await assert.rejects(pool.run({ module: tasks, export: 'noSuchFunction' }), /has no exported function "noSuchFunction"/);
  });

  it('cancels a running task by ending its thread, and drops a queued one without starting it', async () => {
    const running = new AbortController();
    const queued = new AbortController();
    const a = spin('c1', running.signal);
    const b = spin('c2');
    await until(() => started('c1') && started('c2'), 'both threads to start');
    const startedBefore = pool.stats.started;
    const c = spin('c3', queued.signal);
    assert.equal(pool.queued, 1);
    queued.abort(new Error('no longer needed'));
    await assert.rejects(c, (e: unknown) => code('PLATFORM_THREAD_CANCELLED')(e) && /no longer needed/.test((e as Error).message));
    assert.equal(pool.queued, 0);
    running.abort();
    await assert.rejects(a, code('PLATFORM_THREAD_CANCELLED'));
    release('c2');
    await b;
    assert.equal(pool.stats.started, startedBefore, 'the cancelled queued task never started a thread');
    assert.equal(started('c3'), false);
  });

  it('shuts down: drops the queue without starting its threads, ends running ones, refuses new tasks', async () => {
    const small = new ThreadPool({ size: 1, memoryLimitMb: 64 });
    const a = small.run({ module: tasks, export: 'spinUntilReleased', args: [{ startedFile: join(dir, 's1.started'), releaseFile: join(dir, 's1.release') }] });
    const queued = Array.from({ length: 5 }, () => small.run({ module: tasks, export: 'later', args: [1, 0] }));
    const outcomes = [a, ...queued].map((p) => p.then(() => undefined, (e: unknown) => e));
    await until(() => started('s1'), 'the first thread to start');
    await small.shutdown();
    for (const outcome of await Promise.all(outcomes)) code('PLATFORM_THREAD_CLOSED')(outcome);
    assert.equal(small.stats.started, 1, 'no queued task started a thread');
    assert.equal(small.busy, 0);
    await assert.rejects(small.run({ module: tasks, export: 'later', args: [1, 0] }), code('PLATFORM_THREAD_CLOSED'));
  });
});
