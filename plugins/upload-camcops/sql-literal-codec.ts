// CamCOPS's SQL-style literals, as tablets send them in `values`, `record<i>`, `pkvalues`,
// `datevalues` and `dbdata`, and as the server sends them back in query-style replies:
// NULL, integers, floats, 'text' (with '' for a quote and \\ \n \r escapes), X'hex' and
// 64'base64' blobs. Dates travel as quoted ISO-8601 text.

/** One decoded value. Integers and floats are both JS numbers; blobs are Buffers. */
export type LiteralValue = null | number | string | Buffer;

/** A literal that cannot be decoded (or a value that cannot be encoded). */
export class LiteralError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LiteralError';
  }
}

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const HEX = /^[0-9A-Fa-f]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Escapes backslash, newline and carriage return as CamCOPS's escape_newlines does. */
export function escapeNewlines(text: string): string {
  return text.replace(/[\\\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : '\\r'));
}

/** Reverses {@link escapeNewlines}; a backslash before any other character stays as it is. */
export function unescapeNewlines(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i === text.length - 1) {
      out += c;
      continue;
    }
    const next = text[i + 1]!;
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === 'r') out += '\r';
    else {
      out += c;
      continue;
    }
    i++;
  }
  return out;
}

/** Encodes one value as a literal. @throws LiteralError for NaN and infinities. */
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
 * Decodes one literal (surrounding whitespace ignored).
 * @throws LiteralError saying what is wrong, without repeating text content.
 */
export function decodeLiteral(raw: string): LiteralValue {
  const text = raw.trim();
  if (text === 'NULL') return null;
  if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) return decodeQuoted(text.slice(1, -1));
  if (/^[Xx]'/.test(text)) {
    if (!text.endsWith("'") || text.length < 3) throw new LiteralError('a hex blob must look like X\'0A1B\'');
    const hex = text.slice(2, -1);
    if (!HEX.test(hex) || hex.length % 2) throw new LiteralError('a hex blob must hold an even number of hex digits');
    return Buffer.from(hex, 'hex');
  }
  if (text.startsWith("64'")) {
    if (!text.endsWith("'") || text.length < 4) throw new LiteralError("a base64 blob must look like 64'aGk='");
    const b64 = text.slice(3, -1);
    if (!BASE64.test(b64)) throw new LiteralError('a base64 blob holds characters or padding that are not base64');
    return Buffer.from(b64, 'base64');
  }
  if (INTEGER.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new LiteralError(`integer ${text.length > 24 ? `${text.slice(0, 24)}...` : text} is too large`);
    return n;
  }
  if (FLOAT.test(text)) {
    const n = Number(text);
    if (!Number.isFinite(n)) throw new LiteralError('float is out of range');
    return n;
  }
  if (text === '') throw new LiteralError('empty value (send NULL for no value)');
  throw new LiteralError(`not a literal (expected NULL, a number, 'text', X'hex' or 64'base64'; got ${describeToken(text)})`);
}

/** A description of a bad token that does not echo content (it may be patient data). */
function describeToken(text: string): string {
  if (text.startsWith("'")) return 'text with an unbalanced quote';
  return `an unquoted token of ${text.length} character(s)`;
}

function decodeQuoted(inner: string): string {
  // A lone quote inside means the literal was not escaped properly.
  let unquoted = '';
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === "'") {
      if (inner[i + 1] !== "'") throw new LiteralError("a quote inside text must be doubled ('')");
      unquoted += "'";
      i++;
    } else unquoted += c;
  }
  return unescapeNewlines(unquoted);
}

/**
 * Splits comma-separated literals on commas outside quotes and decodes each. An empty
 * string is an empty list.
 * @throws LiteralError naming the (0-based) position of the bad item.
 */
export function decodeLiteralList(csv: string): LiteralValue[] {
  if (csv.trim() === '') return [];
  const items: string[] = [];
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv.charCodeAt(i);
    if (c === 39 /* ' */) inQuote = !inQuote; // '' toggles twice and so stays inside
    else if (c === 44 /* , */ && !inQuote) {
      items.push(csv.slice(start, i));
      start = i + 1;
    }
  }
  if (inQuote) throw new LiteralError(`item ${items.length}: text with an unbalanced quote`);
  items.push(csv.slice(start));
  return items.map((item, index) => {
    try {
      return decodeLiteral(item);
    } catch (error) {
      throw new LiteralError(`item ${index}: ${(error as Error).message}`);
    }
  });
}
