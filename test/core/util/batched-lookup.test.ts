// BatchedLookup: lookups asked for in one turn of the event loop are answered by one fetch
// of their distinct keys, split into batches of at most maxBatch; a failed fetch rejects
// every lookup of its batch and no other; later lookups start a new batch.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BatchedLookup } from '../../../core/util/batched-lookup.js';

/** A lookup of upper-cased keys (missing: keys starting with "x") that records each fetch. */
function recording(maxBatch?: number, fail?: (keys: string[]) => boolean): { lookup: BatchedLookup<string>; fetches: string[][] } {
  const fetches: string[][] = [];
  const lookup = new BatchedLookup<string>(async (keys) => {
    fetches.push(keys);
    if (fail?.(keys)) throw new Error(`fetch of ${keys.join(',')} failed`);
    return new Map(keys.filter((k) => !k.startsWith('x')).map((k) => [k, k.toUpperCase()]));
  }, maxBatch);
  return { lookup, fetches };
}

describe('BatchedLookup', () => {
  it('answers lookups of one turn with one fetch of their distinct keys', async () => {
    const { lookup, fetches } = recording();
    const answers = await Promise.all(['a', 'b', 'a', 'xmissing', 'c'].map((k) => lookup.get(k)));
    assert.deepEqual(answers, ['A', 'B', 'A', undefined, 'C']);
    assert.deepEqual(fetches, [['a', 'b', 'xmissing', 'c']]);
  });

  it('splits a large turn into batches of at most maxBatch keys', async () => {
    const { lookup, fetches } = recording(3);
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7'];
    assert.deepEqual(await Promise.all(keys.map((k) => lookup.get(k))), keys.map((k) => k.toUpperCase()));
    assert.deepEqual(fetches, [['k1', 'k2', 'k3'], ['k4', 'k5', 'k6'], ['k7']]);
  });

  it('starts a new batch for lookups asked for after the previous one was sent', async () => {
    const { lookup, fetches } = recording();
    assert.equal(await lookup.get('a'), 'A');
    assert.equal(await lookup.get('a'), 'A');
    assert.deepEqual(fetches, [['a'], ['a']]);
  });

  it('rejects every lookup of a failed batch, and only those', async () => {
    const { lookup } = recording(2, (keys) => keys.includes('bad'));
    const settled = await Promise.allSettled(['ok1', 'ok2', 'bad', 'ok3', 'bad'].map((k) => lookup.get(k)));
    assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected']);
    assert.match(String((settled[2] as PromiseRejectedResult).reason), /fetch of bad,ok3 failed/);
  });

  it('rejects the batch when the fetch throws before returning a promise', async () => {
    const lookup = new BatchedLookup<string>(() => {
      throw new Error('no connection');
    });
    await assert.rejects(lookup.get('a'), /no connection/);
    assert.throws(() => new BatchedLookup<string>(async () => new Map(), 0), /maxBatch must be a positive integer/);
  });
});
