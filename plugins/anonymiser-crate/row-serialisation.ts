// The canonical serialisation of a source row, whose keyed hash decides in incremental runs
// whether a row changed. It covers every field of the row that is included or that feeds a
// scrubber, in data-dictionary order, and is unambiguous:
//
//   for each field: <field name> ":" <tag> <length> ":" <payload> ";"
//   tag  N  NULL (length 0, empty payload)
//        s  text; payload the UTF-8 text, length in bytes
//        n  number or bigint; payload its decimal form (JavaScript's String())
//        b  boolean; payload 1 or 0
//        d  date-time; payload ISO 8601 in UTC
//        x  bytes; payload lower-case hex
//        h  long text (a field whose dictionary type is TEXT, LONGTEXT, NVARCHAR(MAX), ...);
//           payload the lower-case hex MD5 of its UTF-8 bytes
//
// Length prefixes make "ab"+"c" and "a"+"bc" differ; tags make 42 and "42" differ. Long text
// is represented by its digest so that an incremental run can have the source database
// compute it (md5() in PostgreSQL, MD5() in MySQL) instead of reading every note; MD5 serves
// here only to detect change under the keyed hash, not as a secret.
import { createHash } from 'node:crypto';

/**
 * Serialises `row`'s values of `fields` (in the given order).
 * @param longText - fields serialised by digest (tag h)
 * @param digested - true when the row's long-text values are already MD5 hex digests (read from the database)
 */
export function serialiseRow(row: Record<string, unknown>, fields: readonly string[], longText: ReadonlySet<string> = new Set(), digested = false): string {
  let out = '';
  for (const field of fields) {
    const value = row[field];
    const [tag, payload] = value !== null && value !== undefined && longText.has(field)
      ? ['h', digested ? String(value).toLowerCase() : createHash('md5').update(typeof value === 'string' ? value : String(value), 'utf8').digest('hex')]
      : typedValue(value);
    out += `${field}:${tag}${Buffer.byteLength(payload, 'utf8')}:${payload};`;
  }
  return out;
}

/**
 * A value's tag and payload (see the format above, except `h`): N, s, n, b, d, x, and other
 * objects as their JSON under s. Shared with the scrubber digest, whose identifier values
 * are typed the same way.
 */
export function typedValue(value: unknown): [tag: string, payload: string] {
  if (value === null || value === undefined) return ['N', ''];
  if (typeof value === 'string') return ['s', value];
  if (typeof value === 'number' || typeof value === 'bigint') return ['n', String(value)];
  if (typeof value === 'boolean') return ['b', value ? '1' : '0'];
  if (value instanceof Date) return ['d', Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()];
  if (Buffer.isBuffer(value)) return ['x', value.toString('hex')];
  return ['s', JSON.stringify(value)];
}
