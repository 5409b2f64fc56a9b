// The alter_method steps that transform one value: truncate_date (to the first of its month,
// as CRATE), html_unescape, html_untag, hash=SECTION, text extraction and scrub. A step
// returns SKIP_ROW when extraction failed and the field says skip_if_extract_fails.
import type { AlterMethod } from './alter-method.js';
import type { KeyedHasher } from './keyed-hasher.js';
import { bytesToText, fileToText } from './text-extraction.js';
import { dateParts } from './scrub-regex-elements.js';

/** Returned instead of a value when the row must not be written. */
export const SKIP_ROW: unique symbol = Symbol('skip row');

/** HTML 4's Latin-1 entities, for U+00A0 to U+00FF in order (names are case-sensitive: Eacute, eacute). */
const LATIN1_ENTITIES = ('nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo ' +
  'frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml ' +
  'times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ' +
  'ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml').split(' ');
const NAMED_ENTITIES: Record<string, string> = {
  ...Object.fromEntries(LATIN1_ENTITIES.map((name, i) => [name, String.fromCharCode(0xa0 + i)])),
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", euro: '€', ndash: '–', mdash: '—', hellip: '…', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”',
  ensp: '\u2002', emsp: '\u2003', thinsp: '\u2009', zwnj: '\u200c', zwj: '\u200d', ZeroWidthSpace: '\u200b', NewLine: '\n', Tab: '\t',
  OElig: 'Œ', oelig: 'œ', Scaron: 'Š', scaron: 'š', Yuml: 'Ÿ', Zcaron: 'Ž', zcaron: 'ž',
};

/** Decodes HTML character references (named, decimal and hex; a named one without its ";" too where HTML allows it). */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[A-Za-z][A-Za-z0-9]*);?/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    if (!whole.endsWith(';')) {
      // Without ";" a browser decodes only the old entities (amp, lt, the Latin-1 ones).
      const legacy = NAMED_ENTITIES[ref] !== undefined && (LATIN1_ENTITIES.includes(ref) || ['amp', 'lt', 'gt', 'quot'].includes(ref));
      return legacy ? NAMED_ENTITIES[ref]! : whole;
    }
    return NAMED_ENTITIES[ref] ?? NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/**
 * Elements a browser renders on lines of their own (HTML's block and table-structure elements):
 * their tags become line breaks, so that text on both sides stays apart. Every other element
 * (b, i, span, a, font, ...) is inline and its tags vanish, as they do on screen: `<b>Kat</b>arzyna`
 * is one word.
 */
const BLOCK_ELEMENTS = new Set(['address', 'article', 'aside', 'blockquote', 'body', 'br', 'caption', 'center', 'dd', 'details', 'dialog', 'dir', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'frameset', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'head', 'header', 'hgroup', 'hr', 'html', 'legend', 'li',
  'listing', 'main', 'menu', 'nav', 'ol', 'optgroup', 'option', 'p', 'plaintext', 'pre', 'section', 'summary', 'table', 'tbody', 'tfoot', 'thead', 'title', 'tr', 'ul', 'xmp']);
/** Table cells: a browser's text puts a tab after each, so a label cell and its value cell stay apart. */
const CELL_ELEMENTS = new Set(['td', 'th']);
/**
 * In one pass: a script, style or template element with its content, a start or end tag
 * (attributes may hold quoted ">"), a comment, a doctype or a processing instruction.
 */
const TAG = /<(script|style|template)\b[\s\S]*?<\/\1\s*>|<(\/?)([A-Za-z][A-Za-z0-9:-]*)(?:[^>"']|"[^"]*"|'[^']*')*>|<!--[\s\S]*?(?:-->|$)|<![^>]*>|<\?[^>]*>/gi;

/**
 * HTML to the text a browser shows: scripts, styles and comments removed, block and table
 * elements separated by line breaks and cells by tabs (so `<td>DOB</td><td>08/01/1945</td>` gives
 * `DOB\t08/01/1945\t`, not `DOB08/01/1945`), inline tags removed without a trace, and
 * character references decoded (`Now&#97;k` is "Nowak" on screen).
 */
export function htmlUntag(text: string): string {
  if (!text.includes('<')) return htmlUnescape(text);
  const untagged = text.replace(TAG, (_tag, hidden: string | undefined, closing: string | undefined, name: string | undefined) => {
    if (hidden !== undefined || name === undefined) return '';
    const lower = name.toLowerCase();
    if (CELL_ELEMENTS.has(lower)) return closing ? '\t' : '';
    return BLOCK_ELEMENTS.has(lower) ? '\n' : '';
  });
  return htmlUnescape(untagged);
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
