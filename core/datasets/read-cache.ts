// A cache of public read results (package_show of public active datasets, anonymous
// package_search, search counts) so that hot reads skip the database. Correctness over hit
// rate: every write bumps a generation, and a result read while a write committed is never
// stored. A write to known datasets drops their package_show entries and every search entry
// (any search may change); package_show entries of other datasets stay, so a busy site keeps
// its popular datasets cached while it takes uploads. A write of unknown scope empties it all.
// On PostgreSQL a NOTIFY (with the dataset ids) does the same in every other process (HTTP
// nodes, workers, the CLI). Entries also expire, which bounds staleness where no notification
// can reach: after 2 s on SQLite (other processes cannot notify), after a minute on PostgreSQL
// in a process that does not listen, and after 10 minutes in one that does (`serve`). A
// listener that loses its connection empties the cache, caches for a minute at most until it
// is back, and reconnects. The cache holds at most `maxBytes` of results (measured as JSON)
// as a segmented LRU: a new entry is on probation until it is read again, then protected (up
// to 80% of the budget); eviction takes the least recently used entry on probation first, so
// a crawler reading every dataset once cannot push out the datasets people keep reading. Concurrent misses of one key share a single load, so an
// expiring entry costs one query, not one per waiting caller.
import { createHash } from 'node:crypto';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type pg from 'pg';

const CHANNEL = 'platform_read_cache';

/** The notification channel of an installation: one per PostgreSQL schema, so installations sharing a database do not empty each other's caches. */
export function readCacheChannel(schema: string | undefined): string {
  return schema && schema !== 'public' ? `${CHANNEL}_${createHash('sha1').update(schema).digest('hex').slice(0, 16)}` : CHANNEL;
}
/** NOTIFY payloads are limited to 8000 bytes; longer id lists empty everything instead. */
const MAX_PAYLOAD = 7900;
/** What an entry costs beyond its JSON length (the key, the map slot, object overhead). */
const ENTRY_OVERHEAD = 200;
/** Eviction frees the cache, and demotion the protected segment, down to this share of their bounds (see evict). */
const EVICT_TO = 0.97;

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
  /** Entry lifetime in ms: short on SQLite, longer on PostgreSQL (NOTIFY invalidates). */
  ttlMs?: number;
  /** Entry lifetime in ms while this process listens for notifications (PostgreSQL). */
  listeningTtlMs?: number;
  /** Wait before a lost listener reconnects, in ms. */
  reconnectMs?: number;
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
  private readonly listeningTtlMs: number;
  private readonly reconnectMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly channel: string;
  private readonly maxBytes: number;
  /** The protected segment's share of maxBytes (80%). */
  private readonly maxProtectedBytes: number;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    options: ReadCacheOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? (db.dialect === 'postgres' ? 60_000 : 2_000);
    this.listeningTtlMs = options.listeningTtlMs ?? 600_000;
    this.reconnectMs = options.reconnectMs ?? 5_000;
    this.channel = readCacheChannel(db.schema);
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.maxProtectedBytes = this.maxBytes * 0.8;
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
    // Only a promotion can overfill the protected segment; a hit on a protected entry cannot.
    // Demoted down to a few percent below the bound, for the reason evict gives.
    if (this.protectedBytes > this.maxProtectedBytes) {
      const target = this.maxProtectedBytes * EVICT_TO;
      for (const [oldest, demoted] of this.protectedEntries) {
        if (this.protectedBytes <= target) break;
        this.protectedEntries.delete(oldest);
        demoted.protected = false;
        this.protectedBytes -= demoted.bytes;
        this.probation.set(oldest, demoted);
      }
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
    this.probation.set(key, { value, expires: Date.now() + (this.listener ? this.listeningTtlMs : this.ttlMs), bytes, protected: false, ...(datasetId ? { datasetId } : {}) });
    this.bytes += bytes;
    if (datasetId) {
      let keys = this.keysOfDataset.get(datasetId);
      if (!keys) this.keysOfDataset.set(datasetId, (keys = new Set()));
      keys.add(key);
    } else this.searchKeys.add(key);
    if (this.bytes > this.maxBytes) this.evict();
  }

  /**
   * Removes least recently used entries, probation first, until a few percent of maxBytes
   * are free. Freeing more than the one entry that overfilled it matters: a Map keeps removed
   * entries as holes until it rehashes, and iterating from the oldest skips every hole at the
   * front, so evicting one entry per insertion cost about 14 µs of every cache miss once full.
   */
  private evict(): void {
    const target = this.maxBytes * EVICT_TO;
    for (const segment of [this.probation, this.protectedEntries]) {
      for (const oldest of segment.keys()) {
        if (this.bytes <= target) return;
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
        .query(`SELECT pg_notify(:channel, :message)`, { replacements: { channel: this.channel, message } })
        .catch((error: Error) => this.logger.warn('cache notification failed', { error: error.message }));
    }
  }

  /** Starts listening for other processes' invalidations (PostgreSQL only). */
  async listen(): Promise<void> {
    const connection = this.db.connection;
    if (this.db.dialect !== 'postgres' || this.listener || !connection) return;
    this.closed = false;
    const { default: pgModule } = await import('pg');
    const client = new pgModule.Client({ connectionString: connection.url, ...(connection.password ? { password: connection.password } : {}) });
    client.on('notification', (message) => this.drop(!message.payload || message.payload === '*' ? undefined : message.payload.split(',')));
    client.on('error', (error) => {
      if (this.listener !== client) return;
      // Notifications may be missed from now on: nothing cached so far can be trusted.
      this.logger.warn('cache listener lost its connection; emptied the cache, reconnecting', { error: error.message });
      this.listener = undefined;
      this.drop(undefined);
      void client.end().catch(() => undefined);
      this.scheduleReconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    // Whatever was stored while nobody listened may have missed a notification.
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.drop(undefined);
    this.listener = client;
  }

  /** The database backend's process id of the listening connection, if listening (for checks and tests). */
  listenerProcessId(): number | undefined {
    return (this.listener as (pg.Client & { processID?: number }) | undefined)?.processID;
  }

  /** Stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.listen().catch((error: Error) => {
        this.logger.warn('cache listener could not reconnect; trying again', { error: error.message });
        this.scheduleReconnect();
      });
    }, this.reconnectMs);
    this.reconnectTimer.unref();
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
