// ReadCache.load: concurrent misses of one key share one load; a write in between starts a
// fresh one (no answer read before a write is handed out after it); failures are not cached.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReadCache } from '../../../core/datasets/read-cache.js';
import { LoggerFactory } from '../../../core/logger.js';
import type { Database } from '../../../core/db/database.js';

/** A SQLite-dialect stand-in: the cache only asks the dialect unless it notifies or listens. */
const db = { dialect: 'sqlite' } as unknown as Database;
const logger = new LoggerFactory('silent', () => undefined).get('test');

/** A load that resolves when told to, counting its calls. */
function gate<T>(value: T): { load: () => Promise<T>; calls: () => number; open: () => void } {
  let calls = 0;
  let release: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return {
    load: async () => {
      calls++;
      await opened;
      return value;
    },
    calls: () => calls,
    open: () => release(),
  };
}

describe('ReadCache.load', () => {
  it('runs one load for concurrent misses of the same key and caches its answer', async () => {
    const cache = new ReadCache(db, logger);
    const g = gate({ count: 3 });
    const waiting = Array.from({ length: 50 }, () => cache.load('search:a', g.load));
    g.open();
    const answers = await Promise.all(waiting);
    assert.equal(g.calls(), 1);
    assert.ok(answers.every((a) => a.count === 3));
    assert.deepEqual(await cache.load('search:a', async () => ({ count: 99 })), { count: 3 }, 'served from the cache afterwards');
  });

  it('does not hand a load begun before a write to callers after it', async () => {
    const cache = new ReadCache(db, logger);
    const before = gate('old');
    const first = cache.load('search:b', before.load);
    await cache.invalidate();
    const after = gate('new');
    const second = cache.load('search:b', after.load);
    before.open();
    after.open();
    assert.equal(await first, 'old');
    assert.equal(await second, 'new');
    assert.equal(after.calls(), 1);
    assert.equal(cache.get('search:b'), 'new', 'the answer read before the write was not stored');
  });

  it('does not cache a failed load', async () => {
    const cache = new ReadCache(db, logger);
    await assert.rejects(cache.load('search:c', async () => Promise.reject(new Error('boom'))), /boom/);
    assert.equal(await cache.load('search:c', async () => 'ok'), 'ok');
  });
});
