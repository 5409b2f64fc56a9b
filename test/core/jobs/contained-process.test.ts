// runContained: the contained process reads the file it is handed (fd 3) and its own code,
// nothing else of the host; it starts with an empty environment; it is killed at its time
// limit and its memory cap (WebAssembly memory included), and the reason comes back.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContainedProcessError, runContained } from '../../../core/jobs/contained-process.js';

const taskModule = new URL('./contained-tasks/probe-task.js', import.meta.url);
const codePaths = [dirname(fileURLToPath(taskModule))];
const limits = { timeoutMs: 60_000, memoryMb: 256 };

describe('runContained', () => {
  let dir: string;
  let file: string;
  let secret: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'contained-'));
    file = join(dir, 'input.txt');
    secret = join(dir, 'secret.txt');
    writeFileSync(file, 'the file under inspection');
    writeFileSync(secret, 'a host file');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (action: string, extra: Record<string, unknown> = {}, options: Partial<typeof limits> = {}): Promise<unknown> =>
    runContained({ module: taskModule, input: { action, ...extra }, codePaths, file, ...limits, ...options });

  it('reads the file it is handed through fd 3', async () => {
    assert.equal(await run('read-fd'), 'the file under inspection');
  });

  it('cannot read any path of the host, not even the file it is handed', async () => {
    await assert.rejects(run('read-path', { path: secret }), { name: 'ContainedProcessError', reason: 'failed', message: /Access to this API has been restricted/ });
    await assert.rejects(run('read-path', { path: file }), { reason: 'failed', message: /restricted/ });
    await assert.rejects(run('read-path', { path: '/etc/passwd' }), { reason: 'failed', message: /restricted/ });
  });

  it('starts with an empty environment', async () => {
    process.env.PLATFORM_TEST_CONTAINED_SECRET = 'must not pass';
    try {
      assert.deepEqual(await run('env'), {});
    } finally {
      delete process.env.PLATFORM_TEST_CONTAINED_SECRET;
    }
  });

  it('kills a process that never answers at its time limit', async () => {
    await assert.rejects(run('spin', {}, { timeoutMs: 1500 }), (error: unknown) => {
      assert.ok(error instanceof ContainedProcessError);
      assert.equal(error.reason, 'timeout');
      assert.equal(error.message, 'the check exceeded its time limit of 1.5 s');
      return true;
    });
  });

  it('stops WebAssembly memory growth at the memory cap', async () => {
    await assert.rejects(run('wasm-memory', {}, { memoryMb: 256 }), (error: unknown) => {
      assert.ok(error instanceof ContainedProcessError);
      assert.ok(error.reason === 'out-of-memory' || (error.reason === 'failed' && /memory/i.test(error.message)), `${error.reason}: ${error.message}`);
      return true;
    });
  });

  it('stops heap growth at the memory cap', async () => {
    await assert.rejects(run('heap', {}, { memoryMb: 128 }), { reason: 'out-of-memory', message: 'the check needed more than 128 MiB of memory' });
  });

  it('passes on what the task threw', async () => {
    await assert.rejects(run('throw'), { reason: 'failed', message: 'the task failed on purpose' });
  });

  it('refuses to hand over anything but a regular file', async () => {
    await assert.rejects(runContained({ module: taskModule, input: { action: 'x' }, codePaths, file: dir, ...limits }), { reason: 'not-a-file' });
  });
});
