// Read-only connections to a SQLite file beside sequelize's own, for the hot key lookups
// (Database.preparedRead). sequelize keeps one connection for everything outside
// transactions, so concurrent reads queued behind each other on it; in WAL mode readers do
// not block each other or the writer, so a few connections of their own let reads run side by
// side on libuv's threads. Each keeps its statements prepared.
import sqlite3 from 'sqlite3';

/** One reader connection and its prepared statements. */
interface Reader {
  db: sqlite3.Database;
  statements: Map<string, sqlite3.Statement>;
  busy: number;
}

/** A small set of read-only connections to one SQLite file. */
export class SqliteReaders {
  private readers: Reader[] | undefined;

  /**
   * @param storage the database file (WAL mode)
   * @param size how many connections (reads run on libuv's threads, four by default)
   */
  constructor(
    private readonly storage: string,
    private readonly size = 2,
  ) {}

  /** Runs a SELECT with positional values on the least busy connection. */
  async all<T>(sql: string, values: readonly unknown[]): Promise<T[]> {
    const readers = (this.readers ??= Array.from({ length: this.size }, () => this.open()));
    const reader = readers.reduce((least, r) => (r.busy < least.busy ? r : least));
    let statement = reader.statements.get(sql);
    if (!statement) {
      statement = await new Promise<sqlite3.Statement>((resolve, reject) => {
        const prepared: sqlite3.Statement = reader.db.prepare(sql, (error: Error | null) => (error ? reject(error) : resolve(prepared)));
      });
      // Bounded: hot lookups are a handful of fixed statements; anything else is not kept.
      if (reader.statements.size < 64) reader.statements.set(sql, statement);
    }
    const kept = reader.statements.get(sql) === statement;
    reader.busy++;
    try {
      return await new Promise<T[]>((resolve, reject) => statement.all([...values], (error: Error | null, rows: T[]) => (error ? reject(error) : resolve(rows))));
    } finally {
      reader.busy--;
      if (!kept) statement.finalize();
    }
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    const readers = this.readers ?? [];
    this.readers = undefined;
    await Promise.all(
      readers.map(async (reader) => {
        await Promise.all([...reader.statements.values()].map((s) => new Promise<void>((resolve) => s.finalize(() => resolve()))));
        await new Promise<void>((resolve) => reader.db.close(() => resolve()));
      }),
    );
  }

  private open(): Reader {
    const db = new sqlite3.Database(this.storage, sqlite3.OPEN_READONLY);
    db.configure('busyTimeout', 30_000);
    return { db, statements: new Map(), busy: 0 };
  }
}
