// Opens a source, destination or secret-map database from its URL through sequelize:
// sqlite:PATH, postgres(ql)://, mysql:// or mariadb:// (through mysql2), mssql:// (tedious).
// SQLite gets WAL and a busy timeout so that several threads can write one file in turn.
// Errors name the database's role and host, never the URL (it may hold a password).
import { Sequelize, type Options } from 'sequelize';

/** The dialects a run can read and write. */
export type SqlDialect = 'sqlite' | 'postgres' | 'mysql' | 'mssql';

/** An open database and its dialect. */
export interface OpenDatabase {
  sequelize: Sequelize;
  dialect: SqlDialect;
  close(): Promise<void>;
}

/** The dialect of a URL, or undefined. */
export function dialectOf(url: string): SqlDialect | undefined {
  const scheme = /^([a-z0-9+]+):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite': return 'sqlite';
    case 'postgres': case 'postgresql': return 'postgres';
    case 'mysql': case 'mariadb': return 'mysql';
    case 'mssql': case 'sqlserver': return 'mssql';
    default: return undefined;
  }
}

/** A description of a URL that is safe to show: scheme, host and database, no credentials. */
export function describeUrl(url: string): string {
  if (dialectOf(url) === 'sqlite') return 'sqlite database';
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'a database with an unreadable URL';
  }
}

/**
 * Opens the database at `url`.
 * @param role - what it is, for messages (`destination`, `source main`, `secret map`)
 * @throws Error naming the role and the URL without credentials
 */
export async function openDatabase(url: string, role: string, options: { poolMax?: number; asyncCommit?: boolean } = {}): Promise<OpenDatabase> {
  const dialect = dialectOf(url);
  if (!dialect) throw new Error(`the ${role} URL must start with sqlite:, postgresql://, mysql://, mariadb:// or mssql://`);
  const common: Options = { logging: false, pool: { max: options.poolMax ?? 2, min: 0, idle: 10_000 } };
  let sequelize: Sequelize;
  if (dialect === 'sqlite') {
    sequelize = new Sequelize({ ...common, dialect: 'sqlite', storage: url.replace(/^sqlite:(\/\/)?/i, ''), pool: { max: 1, min: 0 } });
  } else if (dialect === 'mysql') {
    sequelize = new Sequelize(url.replace(/^mariadb:/i, 'mysql:'), { ...common, dialect: 'mysql', dialectOptions: { supportBigNumbers: true, bigNumberStrings: false, dateStrings: false } });
  } else if (dialect === 'mssql') {
    sequelize = new Sequelize(url.replace(/^sqlserver:/i, 'mssql:'), { ...common, dialect: 'mssql', dialectOptions: { options: { encrypt: true, trustServerCertificate: true } } });
  } else {
    sequelize = new Sequelize(url.replace(/^postgresql:/i, 'postgres:'), {
      ...common,
      dialect: 'postgres',
      // A commit need not wait for its WAL flush: incremental runs compare every row with the
      // destination, so rows lost in a server crash are written again by the next run.
      ...(options.asyncCommit ? { hooks: { afterConnect: async (connection: unknown) => void (await (connection as { query(sql: string): Promise<unknown> }).query('SET synchronous_commit TO OFF')) } } : {}),
    });
  }
  try {
    await sequelize.authenticate();
    if (dialect === 'sqlite') {
      await sequelize.query('PRAGMA journal_mode = WAL');
      await sequelize.query('PRAGMA busy_timeout = 30000');
    }
  } catch (error) {
    await sequelize.close().catch(() => undefined);
    throw new Error(`cannot connect to the ${role} database (${describeUrl(url)}): ${(error as Error).message.replace(url, '<url>')}`);
  }
  return { sequelize, dialect, close: () => sequelize.close() };
}
