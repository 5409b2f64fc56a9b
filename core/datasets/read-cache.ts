// A cache of public read results (package_show of public active datasets, anonymous
// package_search) so that hot reads skip the database. Correctness over hit rate: every
// write to datasets, resources or organisations bumps a generation that empties the cache
// at once in this process, and on PostgreSQL a NOTIFY empties it in every other process
// (HTTP nodes, workers, the CLI). A result read while a write committed is never stored.
// Entries also expire after a short time, which bounds staleness where no notification can
// reach (other processes on SQLite). Concurrent misses of one key share a single load, so an
// expiring entry costs one query, not one per waiting caller.
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type pg from 'pg';

const CHANNEL = 'platform_read_cache';

interface Entry {
  value: unknown;
  expires: number;
}

/** Bounded, generation-checked cache of read results. */
export class ReadCache {
  private generation = 0;
  private readonly entries = new Map<string, Entry>();
  /** Loads under way, by generation and key (a load begun before a write is not shared after it). */
  private readonly loading = new Map<string, Promise<unknown>>();
  private listener: pg.Client | undefined;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    /** Entry lifetime: long on PostgreSQL (NOTIFY invalidates), short on SQLite. */
    private readonly ttlMs = db.dialect === 'postgres' ? 60_000 : 2_000,
    private readonly maxEntries = 20_000,
  ) {}

  /** The current generation; pass it to `set` so results read across a write are dropped. */
  current(): number {
    return this.generation;
  }

  get<T>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value as T;
  }

  /** Stores a result read at `generation`, unless a write happened since. */
  set(key: string, value: unknown, generation: number): void {
    if (generation !== this.generation) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, expires: Date.now() + this.ttlMs });
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

  /** Empties the cache here, and in other processes on PostgreSQL. */
  async invalidate(): Promise<void> {
    this.bump();
    if (this.db.dialect === 'postgres') {
      await this.db.sequelize.query(`NOTIFY ${CHANNEL}`).catch((error: Error) => this.logger.warn('cache notification failed', { error: error.message }));
    }
  }

  /** Starts listening for other processes' invalidations (PostgreSQL only). */
  async listen(): Promise<void> {
    const connection = this.db.connection;
    if (this.db.dialect !== 'postgres' || this.listener || !connection) return;
    const { default: pgModule } = await import('pg');
    const client = new pgModule.Client({ connectionString: connection.url, ...(connection.password ? { password: connection.password } : {}) });
    client.on('notification', () => this.bump());
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

  private bump(): void {
    this.generation++;
    this.entries.clear();
  }
}
