// ReadCache entries: a write to known datasets drops only their package_show entries (and
// every search), a write of unknown scope drops everything, and the cache stays within its
// byte budget by dropping the least recently used entries first.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReadCache } from '../../../core/datasets/read-cache.js';
import { LoggerFactory } from '../../../core/logger.js';
import type { Database } from '../../../core/db/database.js';

/** A SQLite-dialect stand-in: the cache only asks the dialect unless it notifies or listens. */
const db = { dialect: 'sqlite' } as unknown as Database;
const logger = new LoggerFactory('silent', () => undefined).get('test');

/** A package dict of about `size` bytes as JSON. */
const dict = (id: string, size = 100): Record<string, unknown> => ({ id, notes: 'x'.repeat(size) });

describe('ReadCache entries', () => {
  it('drops the written datasets\' entries, under both keys, and every search; other datasets stay', async () => {
    const cache = new ReadCache(db, logger);
    for (const id of ['a', 'b']) {
      cache.set(`show:${id}`, dict(id), cache.current(), { datasetId: id });
      cache.set(`show:name-${id}`, dict(id), cache.current(), { datasetId: id });
    }
    cache.set('search:blood', { count: 2 }, cache.current());
    await cache.invalidate(['a']);
    assert.equal(cache.get('show:a'), undefined);
    assert.equal(cache.get('show:name-a'), undefined, 'the entry under the name goes too');
    assert.equal(cache.get('search:blood'), undefined, 'any write may change a search');
    assert.deepEqual(cache.get('show:b'), dict('b'), 'another dataset stays cached');
    assert.deepEqual(cache.get('show:name-b'), dict('b'));
  });

  it('drops everything on a write of unknown scope', async () => {
    const cache = new ReadCache(db, logger);
    cache.set('show:a', dict('a'), cache.current(), { datasetId: 'a' });
    await cache.invalidate();
    assert.equal(cache.get('show:a'), undefined);
    assert.equal(cache.size(), 0);
  });

  it('does not store an answer read before any write, even to another dataset', async () => {
    const cache = new ReadCache(db, logger);
    const generation = cache.current();
    await cache.invalidate(['b']);
    cache.set('show:a', dict('a'), generation, { datasetId: 'a' });
    assert.equal(cache.get('show:a'), undefined);
  });

  it('keeps within its byte budget, dropping the least recently used first', () => {
    const cache = new ReadCache(db, logger, { maxBytes: 16 * 1024 });
    for (const id of ['a', 'b', 'c', 'd']) cache.set(`show:${id}`, dict(id, 600), cache.current(), { datasetId: id });
    assert.ok(cache.get('show:a'), 'a is used again, so b is now the oldest');
    for (let i = 0; i < 20; i++) cache.set(`show:x${i}`, dict(`x${i}`, 600), cache.current(), { datasetId: `x${i}` });
    assert.ok(cache.size() <= 16 * 1024, `holds ${cache.size()} bytes`);
    assert.equal(cache.get('show:b'), undefined, 'the least recently used entries went first');
    assert.ok(cache.get('show:x19'), 'the newest entry is there');
  });

  it('frees a margin when it overfills, not one entry per insertion, and keeps the newest', () => {
    const budget = 256 * 1024;
    const cache = new ReadCache(db, logger, { maxBytes: budget });
    let i = 0;
    while (cache.size() + 1000 <= budget) cache.set(`show:f${i}`, dict(`f${i}`, 600), cache.current(), { datasetId: `f${i++}` });
    const before = cache.size();
    cache.set(`show:f${i}`, dict(`f${i}`, 600), cache.current(), { datasetId: `f${i++}` });
    cache.set(`show:f${i}`, dict(`f${i}`, 600), cache.current(), { datasetId: `f${i}` });
    assert.ok(cache.size() <= budget * 0.97 + 1000, `overfilling by one entry leaves ${cache.size()} of ${budget} bytes`);
    assert.ok(cache.size() >= budget * 0.9, `and keeps most of it: ${cache.size()} bytes (${before} before)`);
    assert.equal(cache.get('show:f0'), undefined, 'the oldest went');
    for (let k = i - 20; k <= i; k++) assert.ok(cache.get(`show:f${k}`), `recent entry f${k} stayed`);
  });

  it('keeps entries read twice through a scan of entries read once (a crawler)', () => {
    const cache = new ReadCache(db, logger, { maxBytes: 64 * 1024 });
    for (const id of ['p1', 'p2', 'p3']) {
      cache.set(`show:${id}`, dict(id, 600), cache.current(), { datasetId: id });
      assert.ok(cache.get(`show:${id}`), 'read again: protected');
    }
    for (let i = 0; i < 500; i++) cache.set(`show:crawl${i}`, dict(`crawl${i}`, 600), cache.current(), { datasetId: `crawl${i}` });
    assert.ok(cache.size() <= 64 * 1024);
    for (const id of ['p1', 'p2', 'p3']) assert.ok(cache.get(`show:${id}`), `${id} survived the scan`);
    assert.equal(cache.get('show:crawl0'), undefined, 'the scan evicted its own entries');
    assert.ok(cache.get('show:crawl499'));
  });

  it('stores nothing with a budget of 0, and no single entry over a sixteenth of the budget', () => {
    const off = new ReadCache(db, logger, { maxBytes: 0 });
    off.set('show:a', dict('a'), off.current(), { datasetId: 'a' });
    assert.equal(off.get('show:a'), undefined);
    const small = new ReadCache(db, logger, { maxBytes: 16 * 1024 });
    small.set('show:big', dict('big', 2000), small.current(), { datasetId: 'big' });
    assert.equal(small.get('show:big'), undefined);
    assert.equal(small.size(), 0);
  });

  it('lets entries expire', async () => {
    const cache = new ReadCache(db, logger, { ttlMs: 20 });
    cache.set('show:a', dict('a'), cache.current(), { datasetId: 'a' });
    assert.ok(cache.get('show:a'));
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(cache.get('show:a'), undefined);
    assert.equal(cache.size(), 0);
  });
});
