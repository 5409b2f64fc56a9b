// Regular-expression fragments for one identifier value, by scrub method (CRATE's words,
// phrase, number, code and date), with Unicode-aware boundaries: JavaScript's \b only knows
// ASCII, so "Zoë" would end at "ö" there. Fragments are written for lower-cased text. A
// scrubber's expression is exact with the `u` flag (boundaries by \p{...} classes); it scans
// with a twin WITHOUT `u` whose boundaries are ASCII-only, because V8 runs that one several
// times faster, and re-checks with the exact expression only the rare matches that touch a
// non-ASCII letter or digit. Fragments contain no capturing groups, so any number of them can
// be joined into one alternation.

/** A letter, mark, digit or underscore. */
export const WORD_CHAR = '[\\p{L}\\p{M}\\p{N}_]';
/** A digit of any script. */
export const DIGIT_CHAR = '\\p{N}';
/** Not preceded by a word character. */
export const WORD_START = `(?<!${WORD_CHAR})`;
/** Not followed by a word character. */
export const WORD_END = `(?!${WORD_CHAR})`;
/** Not preceded by a digit. */
export const DIGIT_START = `(?<!${DIGIT_CHAR})`;
/** Not followed by a digit. */
export const DIGIT_END = `(?!${DIGIT_CHAR})`;
/**
 * One separator character: anything but an ASCII letter or digit and the blocks of letters
 * of other scripts, so white space of any kind, ASCII punctuation, the Latin-1 and general
 * punctuation blocks (no-break space, dashes, curly quotes) and CJK punctuation all separate.
 * Short on purpose: it occurs many times in every phrase, number and date, and the length of
 * a per-patient expression is what compiling it costs.
 */
const SEPARATOR = '[^a-z0-9\\u00aa\\u00b5\\u00ba\\u00c0-\\u1fff\\u2070-\\u2dff\\u3040-\\ufe2f\\ufe70-\\ufefe\\uff10-\\uffef]';
/**
 * The expression a scrubber scans with, for use without the `u` flag: the twin checks
 * boundaries against ASCII only and lets every non-ASCII neighbour pass. The scrubber then
 * re-checks, with the exact expression anchored at that one position, each match that has a
 * non-ASCII letter or digit beside it. Both agree wherever the neighbours are ASCII.
 */
export function scanningTwin(exact: string): string {
  return exact
    .split(WORD_START).join('(?<![a-z0-9_])')
    .split(WORD_END).join('(?![a-z0-9_])')
    .split(DIGIT_START).join('(?<![0-9])')
    .split(DIGIT_END).join('(?![0-9])');
}

/** Separators between the words of a phrase: any run of them, line breaks included. */
export const PHRASE_SEPARATOR = `${SEPARATOR}+`;
/** Separators allowed between the digits of a number: at most a few (" - " and a line break, say). */
export const DIGIT_SEPARATOR = `${SEPARATOR}{0,4}`;
/** Separators inside a date. */
export const DATE_SEPARATOR = `${SEPARATOR}*`;

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/;

/** Escapes a literal for use inside a regular expression. */
export function escapeRegex(text: string): string {
  // Tested first: tries call this for every character, and most need no escaping.
  return REGEX_SPECIAL.test(text) ? text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') : text;
}

/** Splits text into words: runs of letters, marks, digits and apostrophes inside a word. */
export function splitWords(text: string): string[] {
  return text.match(/[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*/gu) ?? [];
}

/** The digits of a value such as "01223 245 678" or "(01223) 245-678". */
export function digitsOf(text: string): string {
  return (text.match(/\p{Nd}/gu) ?? []).join('');
}

/** True for values that are a number with separators (phrase_unless_numeric scrubs them as numbers). */
export function looksNumeric(text: string): boolean {
  return /\d/.test(text) && /^[\d\s().+\-/]+$/.test(text.trim());
}

// The element functions below return bodies without boundaries: the scrubber wraps all bodies
// of one kind in a single pair of boundary checks (word boundaries, or digit boundaries for
// numbers), which is much cheaper than a pair per identifier.

/** A phrase: its words in order, joined by any separator run (so line breaks inside names match). Word-bounded. */
export function phraseElement(value: string): string | undefined {
  const words = splitWords(value);
  if (!words.length) return undefined;
  return words.map((w) => escapeRegex(w.toLowerCase())).join(PHRASE_SEPARATOR);
}

/** Digits a number keeps after a trunk 0 or country code for those to be optional: shorter ones would match too much. */
const MIN_SUBSCRIBER_DIGITS = 6;
/** An international prefix as written: `+44`, `+ 44`, `0044`, `+353`. */
const INTERNATIONAL_PREFIX = `(?:\\+|00)${SEPARATOR}{0,2}[1-9]\\d{0,2}`;
/** A trunk prefix as written after a country code or alone: `0`, `(0)`. */
const TRUNK_PREFIX = '\\(?0\\)?';

function joinDigits(digits: string): string {
  return [...digits].join(DIGIT_SEPARATOR);
}

/**
 * The subscriber part of a phone number, with whatever may stand before it: a trunk 0 (`0114
 * 496 0158`), a country code with or without the trunk 0 (`+44 114 496 0158`, `0044 (0)114 496
 * 0158`, `+44 0114...`), or nothing.
 */
function subscriberNumber(rest: string): string {
  return `(?:${INTERNATIONAL_PREFIX}${DIGIT_SEPARATOR}(?:${TRUNK_PREFIX}${DIGIT_SEPARATOR})?|${TRUNK_PREFIX}${DIGIT_SEPARATOR})?${joinDigits(rest)}`;
}

/**
 * A number: its digits with up to four separators between each. Digit-bounded (not touching
 * other digits). A number written nationally with one trunk 0 (`0114 496 0158`) also matches
 * its international forms (`+44 114 496 0158`, `+44 (0)114...`, `0044 114...`); one stored
 * internationally (`+44 114 496 0158`) also matches its national forms, whatever the length of
 * the country code (1 to 3 digits).
 */
export function numberElement(value: string, minDigits = 1): string | undefined {
  const digits = digitsOf(value);
  if (digits.length < minDigits) return undefined;
  const trimmed = value.trim();
  if (/^(?:\+|00)/.test(trimmed)) {
    const national = digits.replace(/^00/, '');
    const alternatives = [joinDigits(national)];
    for (let cc = 1; cc <= 3; cc++) {
      // "+44 (0)114 ..." stored with its trunk 0: the subscriber part starts after it.
      const rest = national.slice(cc).replace(/^0/, '');
      if (rest.length >= MIN_SUBSCRIBER_DIGITS) alternatives.push(subscriberNumber(rest));
    }
    return `(?:${alternatives.join('|')})`;
  }
  if (digits[0] === '0' && digits[1] !== '0' && digits.length - 1 >= MIN_SUBSCRIBER_DIGITS) return subscriberNumber(digits.slice(1));
  return joinDigits(digits);
}

/** A code (postcode, hospital number): letters and digits in order, spaces ignored. Word-bounded. */
export function codeElement(value: string): string | undefined {
  const chars = [...value.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')];
  if (!chars.length) return undefined;
  return chars.map(escapeRegex).join('\\s*');
}

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** A month name's prefixes of at least three letters: `sep(?:t(?:e(?:m(?:b(?:e(?:r)?)?)?)?)?)?`. */
function monthNamePattern(month: number): string {
  const name = MONTHS[month - 1]!;
  let tail = '';
  for (let i = name.length - 1; i >= 3; i--) tail = `(?:${name[i]}${tail})?`;
  return name.slice(0, 3) + tail;
}

function ordinal(day: number): string {
  return `0?${day}(?:st|nd|rd|th)?`.replace(/^0\?(\d\d)/, '$1');
}

/** Parses a date value (Date, `YYYY-MM-DD...`) into its parts, or undefined. */
export function dateParts(value: unknown): { year: number; month: number; day: number } | undefined {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return { year: value.getUTCFullYear(), month: value.getUTCMonth() + 1, day: value.getUTCDate() };
  if (typeof value === 'string') {
    const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
    if (m) return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  }
  return undefined;
}

/**
 * A date in day-month-year, month-day-year and year-month-day orders; the month as a number
 * or a name of at least three letters; an ordinal day; a two- or four-digit year; any
 * separators. Word-bounded.
 */
export function dateElement(value: unknown): string | undefined {
  const parts = dateParts(value);
  if (!parts) return undefined;
  const { year, month, day } = parts;
  const d = ordinal(day);
  const m = `(?:${month < 10 ? `0?${month}` : month}|${monthNamePattern(month)})`;
  const yy = String(year % 100).padStart(2, '0');
  const y = `(?:${String(year).slice(0, 2)})?${yy}`;
  const sep = DATE_SEPARATOR;
  const sepOf = `${DATE_SEPARATOR}(?:of${PHRASE_SEPARATOR})?`;
  return `(?:${d}${sepOf}${m}${sep}${y}|${m}${sep}${d}${sep}${y}|${String(year)}${sep}${m}${sep}${d})`;
}
