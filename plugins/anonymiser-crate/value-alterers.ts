// The alter_method steps that transform one value: truncate_date (to the first of its month,
// as CRATE), html_unescape, html_untag, hash=SECTION, text extraction and scrub. A step
// returns SKIP_ROW when extraction failed and the field says skip_if_extract_fails.
import type { AlterMethod } from './alter-method.js';
import type { KeyedHasher } from './keyed-hasher.js';
import { bytesToText, fileToText } from './text-extraction.js';
import { dateParts } from './scrub-regex-elements.js';

/** Returned instead of a value when the row must not be written. */
export const SKIP_ROW: unique symbol = Symbol('skip row');

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', pound: '£', euro: '€', copy: '©', reg: '®', ndash: '–', mdash: '—', hellip: '…', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”' };

/** Decodes HTML character references (named, decimal and hex). */
export function htmlUnescape(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** Removes tags, scripts and styles; block-level tags become line breaks. */
export function htmlUntag(text: string): string {
  return text
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(br|\/p|\/div|\/li|\/tr|\/h\d)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, '');
}

/** Truncates a date to the first of its month; other values pass unchanged. */
export function truncateDate(value: unknown): unknown {
  const parts = dateParts(value);
  if (!parts) return value;
  const iso = `${String(parts.year).padStart(4, '0')}-${String(parts.month).padStart(2, '0')}-01`;
  return value instanceof Date ? new Date(`${iso}T00:00:00Z`) : iso;
}

/** What the steps need besides the value. */
export interface AlterContext {
  scrub(text: string): string;
  hasher(section: string): KeyedHasher;
  /** The row, for binary_to_text=EXTFIELD. */
  row: Record<string, unknown>;
  extractionTimeoutMs: number;
}

/** Applies `methods` to `value` in order. */
export async function alterValue(value: unknown, methods: readonly AlterMethod[], ctx: AlterContext): Promise<unknown> {
  let current = value;
  for (const method of methods) {
    if (current === null || current === undefined) return current;
    switch (method.kind) {
      case 'scrub': current = ctx.scrub(typeof current === 'string' ? current : String(current)); break;
      case 'truncate_date': current = truncateDate(current); break;
      case 'html_unescape': current = htmlUnescape(String(current)); break;
      case 'html_untag': current = htmlUntag(String(current)); break;
      case 'hash': current = ctx.hasher(method.section).hash(Buffer.isBuffer(current) ? current : String(current)); break;
      case 'binary_to_text':
      case 'filename_to_text':
        try {
          current = method.kind === 'binary_to_text'
            ? await bytesToText(Buffer.isBuffer(current) ? current : Buffer.from(String(current)), String(ctx.row[method.extensionField] ?? ''), ctx.extractionTimeoutMs)
            : await fileToText(String(current), ctx.extractionTimeoutMs);
        } catch {
          // As CRATE: a document that yields no text is skipped when asked, else written as NULL.
          if (method.skipIfExtractFails) return SKIP_ROW;
          return null;
        }
        break;
    }
  }
  return current;
}
