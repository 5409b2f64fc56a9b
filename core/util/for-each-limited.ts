// A bounded-concurrency loop over a list: for file I/O, hashing and transfers, where running
// everything at once would exhaust file handles or connections and one at a time wastes the
// disk's or network's parallelism. Used by core's inspect checks and by plugins (core/api.ts).

/**
 * Runs `fn` over `items`, at most `limit` calls at once, taking items in order.
 * @param items the items to work through
 * @param limit the most calls running at once; below 1 (or not a number) counts as 1
 * @param fn the work for one item, given the item and its index in `items`
 * @returns a promise that resolves once every call has; it rejects with the first call that
 *   rejects (calls already running, and those the other workers go on to start, still run)
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const work = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]!, i);
  };
  const width = Math.min(items.length, Math.max(1, Math.floor(limit) || 1));
  await Promise.all(Array.from({ length: width }, work));
}
