// The database: one Sequelize instance over SQLite (embedded default) or PostgreSQL
// (production), the core models, and transactions that behave the same on both.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import sqlite3 from 'sqlite3';
// pg is loaded only for PostgreSQL installations (a SQLite server need not hold it).
import type pg from 'pg';
import { QueryTypes, Sequelize, Transaction } from 'sequelize';
import { ConfigError } from '../errors.js';
import type { Dialect } from './dialect.js';
import type { Logger } from '../logger.js';
import { defineCoreModels, type CoreModels } from './core-models.js';
import { SqliteReaders } from './sqlite-readers.js';

export type { Dialect } from './dialect.js';

/** How to reach the database, resolved from `[db]`. */
export interface DatabaseOptions {
  /** `sqlite:PATH` (relative to `baseDir`) or `postgresql://...`. */
  url: string;
  baseDir: string;
  /** PostgreSQL schema; created when missing. */
  schema?: string;
  password?: string;
  poolMax?: number;
  logSql?: boolean;
  /** Refuse a SQLite file that does not exist instead of creating it (read-only callers such as inspect). */
  mustExist?: boolean;
}

/** sqlite3 with a busy timeout on every connection, so concurrent writers wait instead of failing. */
class PatientSqliteDatabase extends sqlite3.Database {
  constructor(filename: string, mode?: number, callback?: (error: Error | null) => void) {
    super(filename, mode ?? sqlite3.OPEN_READWRITE | sqlite3.OPEN_CREATE, callback);
    this.configure('busyTimeout', 30_000);
  }
}
const patientSqlite = { ...sqlite3, Database: PatientSqliteDatabase };

/** The connected database and the core models bound to it. */
export class Database {
  readonly models: CoreModels;
  /** Settles when the last queued SQLite write transaction of this process has finished. */
  private sqliteWriters: Promise<void> = Promise.resolve();
  /** Set inside a SQLite write transaction, to refuse a nested one instead of waiting for ever. */
  private readonly sqliteWriting = new AsyncLocalStorage<boolean>();

  private constructor(
    readonly sequelize: Sequelize,
    readonly dialect: Dialect,
    /** Where it is, without credentials (for messages). */
    readonly description: string,
    /** The PostgreSQL schema in use, when not the default. */
    readonly schema?: string,
    /** How to open another connection (e.g. for LISTEN); never logged. */
    readonly connection?: { url: string; password?: string },
    /** Read-only connections for preparedRead (SQLite files only). */
    private readonly sqliteReaders?: SqliteReaders,
  ) {
    this.models = defineCoreModels(sequelize, dialect);
  }

  /** Connects (creating the SQLite file or PostgreSQL schema when missing). */
  static async connect(options: DatabaseOptions, logger: Logger): Promise<Database> {
    const log = options.logSql ? (sql: string) => logger.debug(sql) : false;
    if (options.url.startsWith('sqlite:')) {
      const raw = options.url.slice('sqlite:'.length);
      const storage = raw === ':memory:' ? raw : isAbsolute(raw) ? raw : resolve(options.baseDir, raw);
      if (options.mustExist && storage !== ':memory:' && !existsSync(storage)) {
        throw new ConfigError(`cannot reach the database at sqlite:${storage}: the file does not exist yet; platform db upgrade (or serve) creates it`);
      }
      if (storage !== ':memory:') mkdirSync(dirname(storage), { recursive: true });
      const sequelize = new Sequelize({ dialect: 'sqlite', storage, logging: log, dialectModule: patientSqlite });
      const db = new Database(sequelize, 'sqlite', `sqlite:${storage}`, undefined, undefined, storage === ':memory:' ? undefined : new SqliteReaders(storage));
      await db.probe();
      if (storage !== ':memory:') await sequelize.query('PRAGMA journal_mode=WAL');
      return db;
    }
    if (/^postgres(ql)?:\/\//.test(options.url)) {
      const url = new URL(options.url);
      const schema = options.schema ?? 'public';
      const { default: pgModule } = await import('pg');
      if (options.schema) await ensureSchema(pgModule, options.url, options.password, options.schema);
      const sequelize = new Sequelize(options.url, {
        dialect: 'postgres',
        dialectModule: pgModule,
        logging: log,
        password: options.password ?? (url.password ? decodeURIComponent(url.password) : undefined),
        pool: { max: options.poolMax ?? 10, min: 0, idle: 10_000, acquire: 30_000 },
        dialectOptions: options.schema ? { options: `-c search_path=${schema}` } : {},
      });
      const db = new Database(sequelize, 'postgres', `postgresql://${url.host}${url.pathname}${options.schema ? ` (schema ${schema})` : ''}`, options.schema, {
        url: options.url,
        ...(options.password ? { password: options.password } : {}),
      });
      await db.probe();
      return db;
    }
    throw new ConfigError(`[db] url must start with sqlite: or postgresql://`);
  }

  /**
   * Runs `fn` in a transaction. On SQLite the transaction takes the write lock at once
   * (IMMEDIATE), so concurrent writers queue instead of deadlocking; within this process
   * they queue here, before BEGIN, because a writer waiting on SQLite's busy handler holds
   * one of libuv's four threads: five waiting writers starved the one holding the lock
   * until the 30 s busy timeout.
   */
  async transaction<T>(fn: (transaction: Transaction) => Promise<T>): Promise<T> {
    if (this.dialect !== 'sqlite') return this.sequelize.transaction({}, fn);
    if (this.sqliteWriting.getStore()) {
      throw new Error('a transaction was opened inside another one; SQLite has one writer, so pass the open transaction on instead of starting a new one');
    }
    const previous = this.sqliteWriters;
    let release: () => void = () => undefined;
    this.sqliteWriters = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await this.sqliteWriting.run(true, () => this.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, fn));
    } finally {
      release();
    }
  }

  /**
   * Runs `fn` while holding a cluster-wide lock (PostgreSQL advisory lock on a dedicated
   * connection); on SQLite, where one file has one writer anyway, it just runs `fn`.
   */
  async withExclusiveLock<T>(key: number, fn: () => Promise<T>): Promise<T> {
    if (this.dialect !== 'postgres') return fn();
    const manager = this.sequelize.connectionManager as unknown as {
      getConnection(options: { type: 'write' }): Promise<pg.Client>;
      releaseConnection(connection: pg.Client): Promise<void>;
    };
    const connection = await manager.getConnection({ type: 'write' });
    try {
      await connection.query('SELECT pg_advisory_lock($1)', [key]);
      try {
        return await fn();
      } finally {
        await connection.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    } finally {
      await manager.releaseConnection(connection);
    }
  }

  /**
   * Runs a read that the hot paths (package_show, token checks) repeat with different values.
   * On PostgreSQL, outside a transaction, it is a named prepared statement on the pooled
   * connection: PostgreSQL parses and plans it once per connection instead of on every call
   * (planning was most of a package_show's database time; benchmarks: 3.6x the queries per
   * second of the same SELECT through sequelize). Use it only where one plan suits every value
   * (lookups by key), since PostgreSQL may settle on a generic plan. On a SQLite file, outside
   * a transaction, it runs on read-only connections of its own (SqliteReaders), so reads no
   * longer queue on sequelize's single connection. Elsewhere it is a plain bound query.
   * @param sql a SELECT with `$1`, `$2`, ... placeholders
   * @param values the placeholders' values
   * @returns the rows, with values as the driver gives them (dates as Date or, on SQLite, text)
   */
  async preparedRead<T extends object>(sql: string, values: readonly unknown[], transaction?: Transaction): Promise<T[]> {
    if (this.sqliteReaders && !transaction) return this.sqliteReaders.all<T>(sql, values);
    if (this.dialect !== 'postgres' || transaction) {
      return this.sequelize.query<T>(sql, { bind: [...values], type: QueryTypes.SELECT, transaction });
    }
    const manager = this.sequelize.connectionManager as unknown as {
      getConnection(options: { type: 'read' }): Promise<pg.Client>;
      releaseConnection(connection: pg.Client): Promise<void>;
    };
    let name = this.statementNames.get(sql);
    if (!name) this.statementNames.set(sql, (name = `platform_${createHash('sha1').update(sql).digest('hex').slice(0, 24)}`));
    const connection = await manager.getConnection({ type: 'read' });
    try {
      const result = await connection.query<T>({ name, text: sql, values: [...values] });
      return result.rows;
    } finally {
      await manager.releaseConnection(connection);
    }
  }

  /** Prepared statement names by SQL text (named once, not hashed on every read). */
  private readonly statementNames = new Map<string, string>();

  /** Closes every connection. */
  async close(): Promise<void> {
    await this.sqliteReaders?.close();
    await this.sequelize.close();
  }

  private async probe(): Promise<void> {
    try {
      await this.sequelize.authenticate({ logging: false });
    } catch (error) {
      throw new ConfigError(`cannot reach the database at ${this.description}: ${(error as Error).message}`);
    }
  }
}

async function ensureSchema(pgModule: typeof pg, url: string, password: string | undefined, schema: string): Promise<void> {
  const client = new pgModule.Client({ connectionString: url, ...(password ? { password } : {}) });
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    throw new ConfigError(`cannot reach the database at ${new URL(url).host}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
