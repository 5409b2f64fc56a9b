// CSV (RFC 4180) of database rows for exports: NULL as an empty field, blobs as base64.

/** One CSV field. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = Buffer.isBuffer(value) ? value.toString('base64') : value instanceof Date ? value.toISOString() : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A whole CSV document with a header line; lines end with CRLF. */
export function csvDocument(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(row[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
