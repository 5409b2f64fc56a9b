// Lookups by key that arrive together are answered by one fetch. Requests read in the same
// turn of the event loop (a busy server reads many sockets in one poll phase) each ask for
// their key; the keys are gathered until the loop's check phase (setImmediate) and fetched
// in one round trip, so the database parses, plans and answers one statement instead of one
// per request, and the server writes and reads its socket once. A lone request waits for
// nothing but the end of its own turn.

/** Fetches many keys at once; keys with no value are left out of the map. */
export type FetchMany<V> = (keys: string[]) => Promise<Map<string, V>>;

/** One pending key and everyone waiting for it. */
interface Waiting<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

/** Gathers lookups by key and answers them with batched fetches. */
export class BatchedLookup<V> {
  /** Keys asked for since the last flush; a flush is scheduled whenever this is not empty. */
  private pending = new Map<string, Waiting<V>[]>();

  /**
   * @param fetchMany answers a batch of distinct keys
   * @param maxBatch the most keys one fetch is given; more are split into several fetches
   */
  constructor(
    private readonly fetchMany: FetchMany<V>,
    private readonly maxBatch = 100,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, not ${maxBatch}`);
  }

  /** The value for a key, or undefined when there is none; rejects when its batch's fetch fails. */
  get(key: string): Promise<V | undefined> {
    return new Promise<V | undefined>((resolve, reject) => {
      if (!this.pending.size) setImmediate(() => this.flush());
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    const keys = [...batch.keys()];
    for (let start = 0; start < keys.length; start += this.maxBatch) {
      const part = keys.slice(start, start + this.maxBatch);
      const settle = (answer: (waiting: Waiting<V>, key: string) => void): void => {
        for (const key of part) for (const waiting of batch.get(key)!) answer(waiting, key);
      };
      // Through a promise's executor, so a fetch that throws at once rejects its batch too.
      new Promise<Map<string, V>>((resolve) => resolve(this.fetchMany(part))).then(
        (found) => settle((waiting, key) => waiting.resolve(found.get(key))),
        (error: unknown) => settle((waiting) => waiting.reject(error)),
      );
    }
  }
}
