// Opens a source, destination or secret-map database from its URL through sequelize:
// sqlite:PATH, postgres(ql)://, mysql:// or mariadb:// (through mysql2), mssql:// (tedious).
// SQLite gets WAL and a busy timeout so that several threads can write one file in turn.
// A server that is not reachable yet (refused, reset or timed-out connections: a database
// still starting, a failover, a container coming up) is tried again a few times with growing
// waits; a login failure is not, since it will not change by waiting.
// Errors name the database's role, host and user, never the URL's password.
import { existsSync } from 'node:fs';
import { Sequelize, type Options } from 'sequelize';

/** The dialects a run can read and write. */
export type SqlDialect = 'sqlite' | 'postgres' | 'mysql' | 'mssql';

/** An open database and its dialect. */
export interface OpenDatabase {
  sequelize: Sequelize;
  dialect: SqlDialect;
  close(): Promise<void>;
}

/** How {@link openDatabase} connects. */
export interface OpenDatabaseOptions {
  /** Connections the pool may hold (SQLite always 1); default 2. */
  poolMax?: number;
  /** PostgreSQL only: commits do not wait for their WAL flush (see below). */
  asyncCommit?: boolean;
  /** Further attempts after a transient connection failure; default 4 (5 attempts in all). */
  retries?: number;
  /** Wait before the first retry, doubled for each further one up to 5 s; default 250 ms. */
  retryDelayMs?: number;
  /** How long one attempt may take to connect and log in (not SQLite); default 15 s. */
  connectTimeoutMs?: number;
  /**
   * Called before each wait between attempts, and awaited; for logging.
   * @param info - the attempt that failed (1-based), the wait that follows, and why (no credentials)
   */
  onRetry?(info: { attempt: number; delayMs: number; reason: string }): void | Promise<void>;
}

const DEFAULT_RETRIES = 4;
const DEFAULT_RETRY_DELAY_MS = 250;
const MAX_RETRY_DELAY_MS = 5_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;

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

/** The user and password of a server URL, decoded; empty strings where there are none. */
function credentialsOf(url: string): { user: string; password: string } {
  try {
    const u = new URL(url);
    return { user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) };
  } catch {
    return { user: '', password: '' };
  }
}

/** Error codes and names of a failed login or a missing database: retrying cannot help. */
const PERMANENT_CODES = new Set(['ELOGIN', '28P01', '28000', '3D000', 'ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);
/** Connection refused, reset or timed out; `ETIMEOUT` is tedious' connect timeout, `57P03` PostgreSQL starting up. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ETIMEOUT', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', '57P03']);
const TRANSIENT_NAMES = new Set(['SequelizeConnectionRefusedError', 'SequelizeConnectionTimedOutError']);
/** The same failures where a driver kept only the message (tedious' ESOCKET, pg's and sequelize's own). */
const TRANSIENT_MESSAGE = /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)\b|socket hang up|Connection lost|Connection was closed by remote server|Connection terminated (unexpectedly|due to connection timeout)|timeout expired/i;

/** The error and everything it wraps: sequelize's `parent`/`original`, `cause`, AggregateError's `errors`. */
function errorChain(error: unknown): Array<{ name?: unknown; code?: unknown; message?: unknown }> {
  const seen = new Set<unknown>();
  const out: Array<{ name?: unknown; code?: unknown; message?: unknown }> = [];
  const visit = (e: unknown, depth: number): void => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 5) return;
    seen.add(e);
    const r = e as { name?: unknown; code?: unknown; message?: unknown; parent?: unknown; original?: unknown; cause?: unknown; errors?: unknown };
    out.push(r);
    for (const next of [r.parent, r.original, r.cause]) visit(next, depth + 1);
    if (Array.isArray(r.errors)) for (const next of r.errors) visit(next, depth + 1);
  };
  visit(error, 0);
  return out;
}

/**
 * True when a connection attempt failed in a way that waiting may cure: refused, reset or
 * timed out. False for failed logins and missing databases, and for anything not recognised.
 */
export function isTransientConnectionError(error: unknown): boolean {
  const chain = errorChain(error);
  if (chain.some((e) => PERMANENT_CODES.has(String(e.code)) || e.name === 'SequelizeAccessDeniedError')) return false;
  return chain.some((e) => TRANSIENT_CODES.has(String(e.code)) || TRANSIENT_NAMES.has(String(e.name)) || TRANSIENT_MESSAGE.test(String(e.message ?? '')));
}

/** A query failed because the connection went away (the server closed or reset it). */
const CONNECTION_LOST_CODES = new Set(['ECONNRESET', 'ESOCKET', 'ECLOSE', 'EPIPE', 'PROTOCOL_CONNECTION_LOST']);
const CONNECTION_LOST_MESSAGE = /socket hang up|Connection lost|Connection terminated|Connection closed|connection is closed/i;
/** Marks an error whose message was already extended (a query inside a transaction passes through twice). */
const EXPLAINED = Symbol('explained');

/**
 * Makes a failed query's message say what happened where. SQL Server's errors get their
 * number, state and class: the number is what identifies an error there (messages are
 * translated, numbers are not), and tedious keeps it only as a property that sequelize's
 * errors do not show. A connection lost during the query is named as such, with the server.
 * @param server - the database as {@link describeUrl} shows it
 * @returns the same error, its message extended
 */
export function explainQueryError<T>(error: T, server: string): T {
  if (!(error instanceof Error) || (error as { [EXPLAINED]?: true })[EXPLAINED]) return error;
  (error as { [EXPLAINED]?: true })[EXPLAINED] = true;
  const chain = errorChain(error);
  const detail = chain.find((e) => typeof (e as { number?: unknown }).number === 'number') as { number: number; state?: number; class?: number } | undefined;
  if (detail) {
    error.message = `${error.message} (SQL Server error ${detail.number}, state ${detail.state ?? '?'}, class ${detail.class ?? '?'})`;
  } else if (chain.some((e) => CONNECTION_LOST_CODES.has(String(e.code)) || CONNECTION_LOST_MESSAGE.test(String(e.message ?? '')))) {
    error.message = `the connection to ${server} was lost during a query: ${error.message}`;
  }
  return error;
}

/**
 * Reads `encrypt` (tedious' option; true unless the URL says so) and `trust_server_certificate`
 * (false unless the URL says true: a certificate that does not verify is refused) from an mssql
 * URL's query and drops them from the URL.
 */
function mssqlUrl(url: string, role: string): { url: string; encrypt: boolean | 'strict'; trustServerCertificate: boolean } {
  let u: URL;
  try {
    u = new URL(url.replace(/^sqlserver:/i, 'mssql:'));
  } catch {
    throw new Error(`the ${role} URL is not a valid URL; write it as mssql://user:password@host:1433/database`); // the URL itself may hold a password
  }
  const value = u.searchParams.get('encrypt');
  u.searchParams.delete('encrypt');
  if (value !== null && !['true', 'false', 'strict'].includes(value)) throw new Error(`the ${role} URL has encrypt=${value}; use encrypt=true, encrypt=false (servers without TLS) or encrypt=strict (TDS 8)`);
  const trust = u.searchParams.get('trust_server_certificate');
  u.searchParams.delete('trust_server_certificate');
  if (trust !== null && !['true', 'false'].includes(trust)) throw new Error(`the ${role} URL has trust_server_certificate=${trust}; use true (accept a certificate that does not verify, e.g. self-signed) or false`);
  return { url: u.toString(), encrypt: value === 'false' ? false : value === 'strict' ? 'strict' : true, trustServerCertificate: trust === 'true' };
}

function sequelizeFor(url: string, dialect: SqlDialect, role: string, options: OpenDatabaseOptions): Sequelize {
  const common: Options = { logging: false, pool: { max: options.poolMax ?? 2, min: 0, idle: 10_000 } };
  const connectTimeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (dialect === 'sqlite') {
    return new Sequelize({ ...common, dialect: 'sqlite', storage: url.replace(/^sqlite:(\/\/)?/i, ''), pool: { max: 1, min: 0 } });
  }
  if (dialect === 'mysql') {
    return new Sequelize(url.replace(/^mariadb:/i, 'mysql:'), { ...common, dialect: 'mysql', dialectOptions: { supportBigNumbers: true, bigNumberStrings: false, dateStrings: false, connectTimeout } });
  }
  if (dialect === 'mssql') {
    const { url: plainUrl, encrypt, trustServerCertificate } = mssqlUrl(url, role);
    // Tedious retries only SQL Server's own "try again" login errors; failed connections are retried by openDatabase.
    return new Sequelize(plainUrl, {
      ...common,
      dialect: 'mssql',
      // requestTimeout 0: tedious otherwise cancels any statement after 15 s, and a large page
      // or an index build on a big destination takes longer.
      dialectOptions: { options: { encrypt, trustServerCertificate, connectTimeout, requestTimeout: 0 } },
      hooks: {
        // Tedious 19 asked for encryption goes on in clear text when the server answers that it
        // has none (PRELOGIN ENCRYPT_NOT_SUP). This hook runs after the login, so the login has
        // crossed in clear by then; refusing the connection keeps every query and row off it.
        // Use encrypt=strict (TDS 8, TLS before anything) where the server supports it.
        // (messageIo.tlsNegotiationComplete is tedious' own flag; with encrypt=strict TLS comes first and it is not set.)
        afterConnect: (connection: unknown) => {
          const c = connection as { messageIo?: { tlsNegotiationComplete?: boolean }; close(): void };
          if (encrypt === true && !c.messageIo?.tlsNegotiationComplete) {
            c.close();
            throw new Error(`the server offers no encryption, and the ${role} URL asks for it; add ?encrypt=false only for a server on a trusted network (the login was not encrypted: change that password if the network is not trusted)`);
          }
        },
      },
    });
  }
  return new Sequelize(url.replace(/^postgresql:/i, 'postgres:'), {
    ...common,
    dialect: 'postgres',
    dialectOptions: { connectionTimeoutMillis: connectTimeout },
    // A commit need not wait for its WAL flush: incremental runs compare every row with the
    // destination, so rows lost in a server crash are written again by the next run.
    ...(options.asyncCommit ? { hooks: { afterConnect: async (connection: unknown) => void (await (connection as { query(sql: string): Promise<unknown> }).query('SET synchronous_commit TO OFF')) } } : {}),
  });
}

/**
 * Opens the database at `url`, trying again after transient connection failures (refused,
 * reset, timed out) with waits of `retryDelayMs`, doubling up to 5 s, at most `retries` times.
 * A failed login is reported at once. For SQL Server the URL may end in `?encrypt=false` for
 * a server without TLS (the default is `encrypt=true`, with the server's certificate trusted).
 * Failed queries' messages carry SQL Server's error number, or say that the connection was
 * lost (see {@link explainQueryError}); queries are not retried, as a statement may have
 * taken effect before its connection went away.
 * @param role - what it is, for messages (`destination`, `source main`, `secret map`)
 * @throws Error naming the role, the server and the user, never the password
 */
export async function openDatabase(url: string, role: string, options: OpenDatabaseOptions = {}): Promise<OpenDatabase> {
  const dialect = dialectOf(url);
  if (!dialect) throw new Error(`the ${role} URL must start with sqlite:, postgresql://, mysql://, mariadb:// or mssql://`);
  // SQLite creates a missing file (and its folder) on connecting: a source named wrongly, or not
  // there yet, would read as an empty database. A source must exist.
  if (dialect === 'sqlite' && role.startsWith('source') && !existsSync(url.replace(/^sqlite:(\/\/)?/i, ''))) {
    throw new Error(`cannot connect to the ${role} database (sqlite database): its file does not exist; check the source's url`);
  }
  const sequelize = sequelizeFor(url, dialect, role, options);
  const { user, password } = credentialsOf(url);
  const reasonOf = (error: unknown): string => {
    let message = error instanceof Error ? error.message : String(error);
    // Tedious wraps the socket's own error ("connect ECONNREFUSED ...") in "Could not connect (sequence)".
    const inner = errorChain(error).map((e) => e.message).filter((m, i, all): m is string => typeof m === 'string' && /\bE[A-Z]{4,}\b/.test(m) && !message.includes(m) && all.indexOf(m) === i);
    if (inner.length) message += ` (${inner.join('; ')})`;
    message = message.split(url).join('<url>');
    // Only passwords long enough not to occur by chance in ordinary words are searched for.
    if (password.length >= 4) message = message.split(password).join('<password>');
    return message;
  };
  const retries = Math.max(0, options.retries ?? DEFAULT_RETRIES);
  for (let attempt = 1; ; attempt++) {
    try {
      await sequelize.authenticate();
      break;
    } catch (error) {
      const transient = isTransientConnectionError(error);
      if (!transient || attempt > retries) {
        await sequelize.close().catch(() => undefined);
        const who = `${describeUrl(url)}${user ? ` as user "${user}"` : ''}`;
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        throw new Error(`cannot connect to the ${role} database (${who})${tries}: ${reasonOf(error)}`);
      }
      const delayMs = Math.min((options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS) * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
      await options.onRetry?.({ attempt, delayMs, reason: reasonOf(error) });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  try {
    if (dialect === 'sqlite') {
      await sequelize.query('PRAGMA journal_mode = WAL');
      await sequelize.query('PRAGMA busy_timeout = 30000');
      // As asyncCommit on PostgreSQL: in WAL mode a commit then needs no fsync; a crash of the
      // machine may lose the last commits, which the next incremental run finds missing.
      if (options.asyncCommit) await sequelize.query('PRAGMA synchronous = NORMAL');
    }
  } catch (error) {
    await sequelize.close().catch(() => undefined);
    throw new Error(`cannot connect to the ${role} database (${describeUrl(url)}): ${reasonOf(error)}`);
  }
  if (dialect !== 'sqlite') {
    // Every query, the ones sequelize makes for models and transactions included, goes through here.
    const server = describeUrl(url);
    const query = sequelize.query.bind(sequelize) as (...args: unknown[]) => Promise<unknown>;
    (sequelize as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = async (...args: unknown[]) => {
      try {
        return await query(...args);
      } catch (error) {
        throw explainQueryError(error, server);
      }
    };
  }
  return { sequelize, dialect, close: () => sequelize.close() };
}
