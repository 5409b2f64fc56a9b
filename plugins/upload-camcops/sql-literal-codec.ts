// CamCOPS's SQL-style literals, as tablets send them in `values`, `record<i>`, `pkvalues`,
// `datevalues`, `move_off_tablet_values` and `dbdata`, and as the server sends them back in
// query-style replies: NULL, integers, floats, 'text' (with '' for a quote and \\ \n \r
// escapes), X'hex' and 64'base64' blobs.
//
// Decoding follows the reference server exactly (camcops_server/cc_modules/cc_convert.py,
// decode_single_value and decode_values, with cardinal_pythonlib's gen_items_from_sql_csv):
// it never refuses an item. What is not NULL, a blob, quoted text or a number is taken as
// the text it is, which is how real tablets' unquoted ISO dates in `datevalues` arrive, and an
// empty item is NULL, which is how a NULL `_move_off_tablet` arrives. Whether a value suits
// its column is decided afterwards, against the table's declared types.

/** One decoded value. Integers and floats are both JS numbers; blobs are Buffers. */
export type LiteralValue = null | number | string | Buffer;

/** A value that cannot be encoded. */
export class LiteralError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LiteralError';
  }
}

// Python's int() and float() on a stripped item (ASCII digits; underscores between digits).
const PY_INT = /^[+-]?\d+(?:_\d+)*$/;
const PY_FLOAT = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
// cardinal_pythonlib.convert REGEX_HEX_XFORMAT and REGEX_BASE64_64FORMAT: an upper-case X,
// one or more hex pairs; 64' then base64 whose padding bits are zero.
const HEX_XFORMAT = /^X'(?:[a-fA-F0-9][a-fA-F0-9])+'$/;
const MAY_BE_BLOB = /^\s*(?:X|6\s*4)\s*'/;
const BASE64_64FORMAT = /^64'(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=|[A-Za-z0-9+/][AQgw]==)?'$/;

/** Escapes backslash, newline and carriage return as CamCOPS's escape_newlines does. */
export function escapeNewlines(text: string): string {
  return text.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * Reverses {@link escapeNewlines} as cardinal_pythonlib's unescape_newlines does: `\n` and
 * `\r` become newline and carriage return, a backslash before any other character is
 * dropped, and so is a trailing lone backslash.
 */
export function unescapeNewlines(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  let inEscape = false;
  for (const c of text) {
    if (inEscape) {
      out += c === 'n' ? '\n' : c === 'r' ? '\r' : c;
      inEscape = false;
    } else if (c === '\\') inEscape = true;
    else out += c;
  }
  return out;
}

/** Encodes one value as a literal (as the reference's encode_single_value). @throws LiteralError for NaN and infinities. */
export function encodeLiteral(value: LiteralValue | boolean | undefined): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new LiteralError(`${value} cannot be sent as a literal`);
    // A whole number beyond 2^53 is a float here: write it as one, so it decodes as one.
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) return value.toExponential();
    return String(value);
  }
  if (Buffer.isBuffer(value)) return `64'${value.toString('base64')}'`;
  return `'${escapeNewlines(value).replace(/'/g, "''")}'`;
}

/** Encodes a list of values as comma-separated literals. */
export function encodeLiteralList(values: ReadonlyArray<LiteralValue>): string {
  return values.map((v) => encodeLiteral(v)).join(',');
}

/**
 * Decodes one item as the reference's decode_single_value does; never refuses.
 * - empty, or `NULL` in any case: null;
 * - `X'hex'` or `64'base64'` (whitespace inside ignored): a blob;
 * - `'text'`: the text, with `''` read as a quote and newlines unescaped;
 * - what Python's int() or float() reads: a number. Integers beyond 2^53 and
 *   inf/nan, which JavaScript numbers cannot hold exactly, stay text, so that a numeric
 *   column refuses them rather than storing a different number;
 * - anything else: the item itself, as text (unquoted ISO dates, for example).
 */
export function decodeLiteral(item: string): LiteralValue {
  if (!item) return null;
  if (item.length <= 4 && item.toUpperCase() === 'NULL') return null;
  // Only an item that can be a blob is copied without its whitespace (items can be large).
  if (MAY_BE_BLOB.test(item)) {
    const compact = item.replace(/\s/g, '');
    if (HEX_XFORMAT.test(compact)) return Buffer.from(compact.slice(2, -1), 'hex');
    if (BASE64_64FORMAT.test(compact)) return Buffer.from(compact.slice(3, -1), 'base64');
  }
  if (item.length >= 2 && item.startsWith("'") && item.endsWith("'")) return unescapeNewlines(item.slice(1, -1).replace(/''/g, "'"));
  const bare = item.trim();
  if (PY_INT.test(bare)) {
    const n = Number(bare.replace(/_/g, ''));
    return Number.isSafeInteger(n) ? n : item;
  }
  if (PY_FLOAT.test(bare)) {
    const n = Number(bare.replace(/_/g, ''));
    return Number.isFinite(n) ? n : item;
  }
  return item;
}

/**
 * Splits comma-separated items as cardinal_pythonlib's gen_items_from_sql_csv does: on
 * commas outside single quotes (`''` inside quotes is a quote), each item stripped of
 * surrounding whitespace, quotes kept. An empty string has no items; an unbalanced quote
 * runs to the end.
 */
export function splitLiteralList(csv: string): string[] {
  if (!csv) return [];
  const items: string[] = [];
  let start = 0;
  let inQuotes = false;
  for (let pos = 0; pos < csv.length; pos++) {
    const c = csv.charCodeAt(pos);
    if (!inQuotes) {
      if (c === 44 /* , */) {
        items.push(csv.slice(start, pos).trim());
        start = pos + 1;
      } else if (c === 39 /* ' */) inQuotes = true;
    } else if (c === 39) {
      if (pos < csv.length - 1 && csv.charCodeAt(pos + 1) === 39) pos++;
      else inQuotes = false;
    }
  }
  items.push(csv.slice(start).trim());
  return items;
}

/** Splits and decodes a list as the reference's decode_values does; never refuses. */
export function decodeLiteralList(csv: string): LiteralValue[] {
  return splitLiteralList(csv).map(decodeLiteral);
}
