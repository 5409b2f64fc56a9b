// How a batch reads a source table's rows and what it makes of them: which fields a row's source
// hash covers (long text by its digest, computed by the source database where it can), the
// inclusion and exclusion filters, the row-version column PostgreSQL sources give for free, and
// the byte count that progress reports.
import type { TablePlan } from './dictionary-plan.js';
import type { DdRow } from './data-dictionary.js';
import type { SqlDialect } from './database-connection.js';
import { isLongText } from './sql-dialect.js';
import { keyString } from './row-keys.js';
import { tableKey } from './batch-task.js';

/** Keys (or patient IDs) per statement in IN lists. */
export const IN_CHUNK = 500;
/** Integer column types, whose dense key lists are read as ranges. */
export const INTEGER_TYPE = /^(?:TINY|SMALL|MEDIUM|BIG)?INT(?:EGER)?\b/i;
/**
 * A PostgreSQL row version: the table (a partition's own), the transaction that wrote the
 * row version and its place. Any UPDATE, DELETE and INSERT, VACUUM FULL, CLUSTER or reload
 * changes it; reading it costs no detoasting.
 */
export const ROW_VERSION_SQL = `(tableoid::text || ':' || xmin::text || ':' || ctid::text)`;
/** The name reads give the row version (no dictionary field may have it, or versions are not kept). */
export const ROW_VERSION = 'anon__row_version';

/** Where a table copy collects a batch's row versions, for tables that keep them. */
export interface VersionCollector {
  /** Per patient, one line per source row: table, key, version. */
  lines: Map<string, string[]>;
  /** Patients with a row that was not written (a failed extraction): no digest is recorded for them. */
  incomplete: Set<string>;
}

/** A row's line in its patient's row-version digest. */
export function versionLine(table: TablePlan, row: Record<string, unknown>): string {
  return `${tableKey(table)}\u001f${keyString(table.keys.map((k) => row[k.srcField]))}\u001f${String(row[ROW_VERSION])}`;
}

/** Adds a line to a patient's list. */
export function pushLine(lines: Map<string, string[]>, pid: string, line: string): void {
  const list = lines.get(pid);
  if (list) list.push(line);
  else lines.set(pid, [line]);
}

/** The promise itself, with a rejection marked handled: it is awaited later, after other work. */
export function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** The bytes a value counts for in progress and summaries. */
export function byteSize(value: unknown): number {
  if (typeof value === 'string') return value.length < 64 ? value.length : Buffer.byteLength(value, 'utf8');
  if (Buffer.isBuffer(value)) return value.length;
  return value === null || value === undefined ? 0 : 8;
}

/** What a table's source hash covers, and whether the source database can digest its long text. */
export interface HashPlan {
  /** Fields the source hash covers (included or feeding a scrubber), in dictionary order. */
  hashFields: string[];
  /** Those of them that are long text, serialised by their MD5 digest. */
  longText: Set<string>;
  /** Fields with inclusion or exclusion values. */
  filters: DdRow[];
  /**
   * The source database's MD5 function when it can digest the long text in place of sending
   * it (PostgreSQL and MySQL hash UTF-8 bytes, as the row serialisation does): there is long
   * text, and no filter or key needs its full value. Else undefined.
   */
  digestFunction: 'md5' | 'MD5' | undefined;
}

/** The hash plan of a table read from a source of `dialect`. */
export function hashPlan(table: TablePlan, dialect: SqlDialect): HashPlan {
  const hashFields = table.rows.filter((r) => r.include || r.scrubSrc).map((r) => r.srcField);
  const longText = new Set(table.rows.filter((r) => (r.include || r.scrubSrc) && isLongText(r.srcDatatype)).map((r) => r.srcField));
  const filters = table.rows.filter((r) => r.inclusionValues || r.exclusionValues);
  const digest = dialect === 'postgres' ? 'md5' : dialect === 'mysql' ? 'MD5' : undefined;
  const needsWhole = filters.some((f) => longText.has(f.srcField)) || table.keys.some((k) => longText.has(k.srcField));
  return { hashFields, longText, filters, digestFunction: longText.size > 0 && !needsWhole ? digest : undefined };
}

/** Whether a row passes the table's inclusion and exclusion values. */
export function passesFilters(row: Record<string, unknown>, filters: readonly DdRow[]): boolean {
  for (const f of filters) {
    const value = row[f.srcField];
    const same = (candidate: unknown): boolean => (candidate === null ? value === null || value === undefined : String(candidate) === String(value));
    if (f.inclusionValues && !f.inclusionValues.some(same)) return false;
    if (f.exclusionValues && f.exclusionValues.some(same)) return false;
  }
  return true;
}
