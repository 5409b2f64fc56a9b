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
    let tag: string;
    let payload: string;
    if (value === null || value === undefined) [tag, payload] = ['N', ''];
    else if (longText.has(field)) [tag, payload] = ['h', digested ? String(value).toLowerCase() : createHash('md5').update(typeof value === 'string' ? value : String(value), 'utf8').digest('hex')];
    else if (typeof value === 'string') [tag, payload] = ['s', value];
    else if (typeof value === 'number' || typeof value === 'bigint') [tag, payload] = ['n', String(value)];
    else if (typeof value === 'boolean') [tag, payload] = ['b', value ? '1' : '0'];
    else if (value instanceof Date) [tag, payload] = ['d', Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()];
    else if (Buffer.isBuffer(value)) [tag, payload] = ['x', value.toString('hex')];
    else [tag, payload] = ['s', JSON.stringify(value)];
    out += `${field}:${tag}${Buffer.byteLength(payload, 'utf8')}:${payload};`;
  }
  return out;
}
