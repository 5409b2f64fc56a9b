// Replies in CamCOPS's text format: one `key:value` line per item, newlines in values
// escaped; query-style replies as nfields, fields, nrecords and record0..N-1.
import { encodeLiteralList, escapeNewlines, type LiteralValue } from './sql-literal-codec.js';

/** The items of a reply, in the order they are written. */
export type ReplyItems = Record<string, string | number>;

/** Formats reply items as CamCOPS's `key:value\n` text. */
export function formatReply(items: ReplyItems): string {
  return Object.entries(items)
    .map(([key, value]) => `${key}:${escapeNewlines(String(value))}\n`)
    .join('');
}

/** A query-style reply: field names and rows of literal-encoded values. */
export function selectReply(fields: readonly string[], rows: ReadonlyArray<ReadonlyArray<LiteralValue>>): ReplyItems {
  const reply: ReplyItems = { nfields: fields.length, fields: fields.join(','), nrecords: rows.length };
  rows.forEach((row, i) => {
    reply[`record${i}`] = encodeLiteralList(row);
  });
  return reply;
}

/** Parses a reply back into items (for tests and tools); later keys win. */
export function parseReply(text: string): Record<string, string> {
  const items: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line) continue;
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    items[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return items;
}
