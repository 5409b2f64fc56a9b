// The little dialect-specific SQL a run writes itself: identifier quoting, destination column
// types, indexes (with full-text indexes where the dialect has them) and keyset pagination.
// Pure functions, so that SQL Server's forms are covered by unit tests without a server.
import type { SqlDialect } from './database-connection.js';

/** Quotes an identifier (names are checked as plain identifiers before they get here). */
export function quoteIdentifier(dialect: SqlDialect, name: string): string {
  switch (dialect) {
    case 'mysql': return `\`${name}\``;
    case 'mssql': return `[${name}]`;
    default: return `"${name}"`;
  }
}

/** Translates a dictionary type into the destination dialect's spelling. */
export function destinationType(dialect: SqlDialect, type: string): string {
  const t = type.trim().toUpperCase();
  const base = t.replace(/\s*\(.*$/, '');
  const args = /\(.*\)$/.exec(t)?.[0] ?? '';
  switch (dialect) {
    case 'postgres':
      if (base === 'DATETIME' || base === 'DATETIME2' || base === 'SMALLDATETIME') return 'TIMESTAMP';
      if (base === 'NVARCHAR' || base === 'NCHAR') return args === '(MAX)' ? 'TEXT' : `VARCHAR${args}`;
      if (base === 'TINYINT') return 'SMALLINT';
      if (base === 'DOUBLE' || base === 'FLOAT') return 'DOUBLE PRECISION';
      if (base === 'BLOB' || base === 'VARBINARY' || base === 'LONGBLOB' || base === 'BINARY') return 'BYTEA';
      if (base === 'LONGTEXT' || base === 'MEDIUMTEXT' || base === 'NTEXT') return 'TEXT';
      if (base === 'BIT') return 'BOOLEAN';
      return t;
    case 'mysql':
      if (base === 'TIMESTAMP' || base === 'DATETIME2') return 'DATETIME';
      if (base === 'TEXT' || base === 'NTEXT') return 'LONGTEXT';
      if (base === 'BYTEA' || base === 'VARBINARY' && args === '(MAX)') return 'LONGBLOB';
      if (base === 'NVARCHAR') return args === '(MAX)' ? 'LONGTEXT' : `VARCHAR${args}`;
      if (base === 'BOOLEAN') return 'TINYINT(1)';
      return t;
    case 'mssql':
      if (base === 'TEXT' || base === 'LONGTEXT' || base === 'MEDIUMTEXT') return 'NVARCHAR(MAX)';
      if (base === 'VARCHAR') return `NVARCHAR${args}`;
      if (base === 'TIMESTAMP') return 'DATETIME2';
      if (base === 'BOOLEAN') return 'BIT';
      if (base === 'BYTEA' || base === 'BLOB' || base === 'LONGBLOB') return 'VARBINARY(MAX)';
      if (base === 'DOUBLE') return 'FLOAT';
      return t;
    default:
      return t;
  }
}

/** Type of a text column the run adds (hashes, research IDs) of `length` characters. */
export function hashColumnType(dialect: SqlDialect, length: number): string {
  return dialect === 'mssql' ? `NVARCHAR(${length})` : `VARCHAR(${length})`;
}

/** True when a type holds long text (may not be a plain index key on MySQL and SQL Server). */
export function isLongText(type: string): boolean {
  return /^(TEXT|LONGTEXT|MEDIUMTEXT|NTEXT|CLOB)\b|\(MAX\)/i.test(type.trim());
}

/**
 * The statement creating an index, or undefined where the dialect cannot (SQLite has no
 * full-text index in a plain table; SQL Server's needs a full-text catalogue an admin sets up).
 */
export function indexStatement(dialect: SqlDialect, table: string, field: string, kind: 'I' | 'U' | 'F', type: string, indexLen: number | undefined): string | undefined {
  const q = (n: string): string => quoteIdentifier(dialect, n);
  const name = q(`${kind === 'U' ? 'ux' : kind === 'F' ? 'fx' : 'ix'}_${table}_${field}`.slice(0, 63));
  if (kind === 'F') {
    if (dialect === 'postgres') return `CREATE INDEX ${name} ON ${q(table)} USING GIN (to_tsvector('english', COALESCE(${q(field)}, '')))`;
    if (dialect === 'mysql') return `CREATE FULLTEXT INDEX ${name} ON ${q(table)} (${q(field)})`;
    return undefined;
  }
  let column = q(field);
  if (dialect === 'mysql' && isLongText(type)) column += `(${indexLen ?? 255})`;
  if (dialect === 'mssql' && isLongText(type)) return undefined;
  return `CREATE ${kind === 'U' ? 'UNIQUE ' : ''}INDEX ${name} ON ${q(table)} (${column})`;
}

/**
 * `SELECT columns FROM t WHERE conditions ORDER BY key` limited to `limit` rows, in the
 * dialect's syntax; columns are SQL expressions, already quoted.
 * @param key - the key field, or the fields of a composite key in order
 */
export function pagedSelect(dialect: SqlDialect, table: string, columns: readonly string[], key: string | readonly string[], limit: number, conditions: readonly string[]): string {
  const q = (n: string): string => quoteIdentifier(dialect, n);
  const whereSql = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  const cols = columns.join(', ');
  const order = (typeof key === 'string' ? [key] : key).map(q).join(', ');
  if (dialect === 'mssql') return `SELECT TOP (${limit}) ${cols} FROM ${q(table)}${whereSql} ORDER BY ${order}`;
  return `SELECT ${cols} FROM ${q(table)}${whereSql} ORDER BY ${order} LIMIT ${limit}`;
}
