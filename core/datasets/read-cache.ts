// A cache of public read results (package_show of public active datasets, anonymous
// package_search, search counts) so that hot reads skip the database. Correctness over hit
// rate: every write bumps a generation, and a result read while a write committed is never
// stored. A write to known datasets drops their package_show entries and every search entry
// (any search may change); package_show entries of other datasets stay, so a busy site keeps
// its popular datasets cached while it takes uploads. A write of unknown scope empties it all.
// On PostgreSQL a NOTIFY (with the dataset ids) does the same in every other process (HTTP
// nodes, workers, the CLI). Entries also expire after a while, which bounds staleness where no
// notification can reach (other processes on SQLite). The cache holds at most `maxBytes` of
// results (measured as JSON) as a segmented LRU: a new entry is on probation until it is read
// again, then protected (up to 80% of the budget); eviction takes the least recently used
// entry on probation first, so a crawler reading every dataset once cannot push out the
// datasets people keep reading. Concurrent misses of one key share a single load, so an
// expiring entry costs one query, not one per waiting caller.
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type pg from 'pg';

const CHANNEL = 'platform_read_cache';
/** NOTIFY payloads are limited to 8000 bytes; longer id lists empty everything instead. */
const MAX_PAYLOAD = 7900;
/** What an entry costs beyond its JSON length (the key, the map slot, object overhead). */
const ENTRY_OVERHEAD = 200;

interface Entry {
  value: unknown;
  expires: number;
  bytes: number;
  /** Read again since it was stored. */
  protected: boolean;
  /** The dataset a package_show entry belongs to; search entries have none. */
  datasetId?: string;
}

/** Options of a read cache. */
export interface ReadCacheOptions {
  /** Entry lifetime in ms: long on PostgreSQL (NOTIFY invalidates), short on SQLite. */
  ttlMs?: number;
  /** Bytes of results kept at most (default 64 MiB). */
  maxBytes?: number;
}

/** Bounded, generation-checked cache of read results. */
export class ReadCache {
  private generation = 0;
  /** Entries read once, in least-recently-used order. */
  private readonly probation = new Map<string, Entry>();
  /** Entries read again, in least-recently-used order (a hit moves its entry to the end). */
  private readonly protectedEntries = new Map<string, Entry>();
  private protectedBytes = 0;
  /** Keys of package_show entries by dataset id (a dataset is cached under its name and its id). */
  private readonly keysOfDataset = new Map<string, Set<string>>();
  /** Keys of the entries of no dataset (searches, counts), which any write drops. */
  private readonly searchKeys = new Set<string>();
  private bytes = 0;
  /** Loads under way, by generation and key (a load begun before a write is not shared after it). */
  private readonly loading = new Map<string, Promise<unknown>>();
  private listener: pg.Client | undefined;
  private readonly ttlMs: number;
  private readonly maxBytes: number;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    options: ReadCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? (db.dialect === 'postgres' ? 60_000 : 2_000);
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  /** The current generation; pass it to `set` so results read across a write are dropped. */
  current(): number {
    return this.generation;
  }

  /** Bytes of results held now. */
  size(): number {
    return this.bytes;
  }

  get<T>(key: string): T | undefined {
    const entry = this.probation.get(key) ?? this.protectedEntries.get(key);
    if (!entry) return undefined;
    if (entry.expires < Date.now()) {
      this.remove(key);
      return undefined;
    }
    // Most recently used last; a second read protects the entry.
    if (entry.protected) this.protectedEntries.delete(key);
    else {
      this.probation.delete(key);
      entry.protected = true;
      this.protectedBytes += entry.bytes;
    }
    this.protectedEntries.set(key, entry);
    for (const [oldest, demoted] of this.protectedEntries) {
      if (this.protectedBytes <= this.maxBytes * 0.8) break;
      this.protectedEntries.delete(oldest);
      demoted.protected = false;
      this.protectedBytes -= demoted.bytes;
      this.probation.set(oldest, demoted);
    }
    return entry.value as T;
  }

  /**
   * Stores a result read at `generation`, unless a write happened since.
   * @param options.datasetId - for package_show results: the dataset, whose writes drop the entry
   * @param options.bytes - the result's size, when the caller knows it (else measured as JSON)
   */
  set(key: string, value: unknown, generation: number, options: { datasetId?: string; bytes?: number } = {}): void {
    if (generation !== this.generation) return;
    const { datasetId } = options;
    const bytes = (options.bytes ?? JSON.stringify(value)?.length ?? 0) + key.length + ENTRY_OVERHEAD;
    if (bytes > this.maxBytes / 16) return;
    this.remove(key);
    this.probation.set(key, { value, expires: Date.now() + this.ttlMs, bytes, protected: false, ...(datasetId ? { datasetId } : {}) });
    this.bytes += bytes;
    if (datasetId) {
      let keys = this.keysOfDataset.get(datasetId);
      if (!keys) this.keysOfDataset.set(datasetId, (keys = new Set()));
      keys.add(key);
    } else this.searchKeys.add(key);
    for (const segment of [this.probation, this.protectedEntries]) {
      for (const oldest of segment.keys()) {
        if (this.bytes <= this.maxBytes) return;
        this.remove(oldest);
      }
    }
  }

  /**
   * The cached value of `key`, or else the result of `load`, stored for later callers.
   * Callers that miss the same key while a load is under way wait for that load instead of
   * starting their own: without this, 50 concurrent searches whose entry had just expired
   * each ran the full query, and on SQLite the entry expired again before they were done.
   * Use it only where every caller of a key gets the same answer.
   */
  async load<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.get<T>(key);
    if (hit !== undefined) return hit;
    const generation = this.generation;
    const flight = `${generation}\u0000${key}`;
    let pending = this.loading.get(flight) as Promise<T> | undefined;
    if (!pending) {
      pending = load()
        .then((value) => {
          this.set(key, value, generation);
          return value;
        })
        .finally(() => this.loading.delete(flight));
      this.loading.set(flight, pending);
    }
    return pending;
  }

  /**
   * Drops what a write made stale, here and in other processes on PostgreSQL: with
   * `datasetIds`, those datasets' entries and every search; without, everything.
   */
  async invalidate(datasetIds?: readonly string[]): Promise<void> {
    this.drop(datasetIds);
    if (this.db.dialect === 'postgres') {
      const payload = datasetIds ? datasetIds.join(',') : '*';
      const message = payload.length > MAX_PAYLOAD ? '*' : payload;
      await this.db.sequelize
        .query(`SELECT pg_notify('${CHANNEL}', :message)`, { replacements: { message } })
        .catch((error: Error) => this.logger.warn('cache notification failed', { error: error.message }));
    }
  }

  /** Starts listening for other processes' invalidations (PostgreSQL only). */
  async listen(): Promise<void> {
    const connection = this.db.connection;
    if (this.db.dialect !== 'postgres' || this.listener || !connection) return;
    const { default: pgModule } = await import('pg');
    const client = new pgModule.Client({ connectionString: connection.url, ...(connection.password ? { password: connection.password } : {}) });
    client.on('notification', (message) => this.drop(!message.payload || message.payload === '*' ? undefined : message.payload.split(',')));
    client.on('error', (error) => {
      this.logger.warn('cache listener lost its connection; entries now only expire', { error: error.message });
      this.listener = undefined;
    });
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  /** Stops listening. */
  async close(): Promise<void> {
    await this.listener?.end().catch(() => undefined);
    this.listener = undefined;
  }

  /** Bumps the generation and drops the datasets' entries and every search entry (or everything). */
  private drop(datasetIds: readonly string[] | undefined): void {
    this.generation++;
    if (!datasetIds) {
      this.probation.clear();
      this.protectedEntries.clear();
      this.protectedBytes = 0;
      this.keysOfDataset.clear();
      this.searchKeys.clear();
      this.bytes = 0;
      return;
    }
    for (const id of datasetIds) for (const key of [...(this.keysOfDataset.get(id) ?? [])]) this.remove(key);
    for (const key of [...this.searchKeys]) this.remove(key);
  }

  private remove(key: string): void {
    const entry = this.probation.get(key) ?? this.protectedEntries.get(key);
    if (!entry) return;
    if (entry.protected) {
      this.protectedEntries.delete(key);
      this.protectedBytes -= entry.bytes;
    } else this.probation.delete(key);
    this.bytes -= entry.bytes;
    if (entry.datasetId) {
      const keys = this.keysOfDataset.get(entry.datasetId);
      keys?.delete(key);
      if (keys && !keys.size) this.keysOfDataset.delete(entry.datasetId);
    } else this.searchKeys.delete(key);
  }
}
