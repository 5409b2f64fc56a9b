// Non-specific scrubbing: patterns that are identifying whoever the patient is (any date, long
// numbers, UK postcodes, e-mail addresses, a denylist, the operator's own expressions), and
// the blurring of a matched date to a coarser format such as month and year.
import { DIGIT_END, DIGIT_START, WORD_END, WORD_START } from './scrub-regex-elements.js';
import { trieRegex } from './regex-trie.js';

/** Which non-specific patterns apply. */
export interface NonspecificOptions {
  /** Scrub every date. */
  allDates: boolean;
  /** When set, dates are replaced by this format (`%Y`, `%m`, `%b`, `%B`) instead of the replacement text. */
  blurDatesFormat: string | undefined;
  /** Scrub runs of this many digits or more (0: off). */
  numbersOfDigits: number;
  ukPostcodes: boolean;
  emails: boolean;
  /** Extra regular expressions (JavaScript syntax, applied case-insensitively, no capturing groups needed). */
  extraRegexes: string[];
  /** Words always scrubbed. */
  denylist: string[];
}

const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH_ANY = `(?:${MONTH_NAMES.map((name) => {
  let tail = '';
  for (let i = name.length - 1; i >= 3; i--) tail = `(?:${name[i]}${tail})?`;
  return name.slice(0, 3) + tail;
}).join('|')})\\.?`;
/** A day of the month, 1 to 31, with an optional ordinal suffix (as CRATE's generic date). */
const DAY = '(?:0?[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)?';
/** A month as a number, 1 to 12, or a name. */
const MONTH = `(?:0?[1-9]|1[0-2]|${MONTH_ANY})`;
/** A two- or four-digit year. */
const YEAR = '(?:\\d{4}|\\d{2})';
/** One separator: anything but a letter, digit, line end or colon (CRATE's "active separator"; a colon would make times dates). */
const SEP = '[^\\w\\r\\n:]';

/**
 * Any date, as CRATE's generic date expression (anonregex.get_generic_date_regex_elements):
 * day-month-year, month-day-year and year-month-day with one separator between parts (07/03/1985,
 * 03.31.1991, 1976/2/13, 13 11 2001, 2-Sep-90), and YYYYMMDD; besides those, as people also
 * write them: "7th of March 1985", "March 7, 1985" and a month with its year ("March 1985").
 * Bounded by digits, not words, where the date starts or ends with a digit, so that a label
 * glued to it ("DOB23.07.48") does not hide it; a month name that starts a date still needs a
 * word boundary before it ("Omar 2021" is no date).
 */
export const ANY_DATE = `(?:${DIGIT_START}(?:${DAY}${SEP}${MONTH}${SEP}${YEAR}|${MONTH}${SEP}${DAY}${SEP}${YEAR}|${YEAR}${SEP}${MONTH}${SEP}${DAY}` +
  `|\\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\\d|3[01])|${DAY}\\s+(?:of\\s+)?${MONTH_ANY},?\\s+${YEAR})` +
  `|${WORD_START}(?:${MONTH_ANY}\\s+${DAY},?\\s+${YEAR}|${MONTH_ANY}\\s+\\d{4}))${DIGIT_END}`;
/** UK postcodes, with or without the space (lower case: scrubbers match lower-cased text). */
const UK_POSTCODE_BODY = '[a-z]{1,2}\\d[a-z\\d]?\\s*\\d[a-z]{2}';
/** E-mail addresses. */
export const EMAIL = '[a-z0-9._%+\\-\\u00c0-\\uffff]+@[a-z0-9\\-\\u00c0-\\uffff]+(?:\\.[a-z0-9\\-\\u00c0-\\uffff]+)*\\.[a-z]{2,}';

/**
 * Patterns other than dates and extra expressions (dates form a group of their own so that
 * they can be blurred; the operator's extra expressions run in a pass of their own, with the
 * `iu` flags, on the original text).
 */
export function nonspecificElements(options: NonspecificOptions): string[] {
  const elements: string[] = [];
  if (options.emails) elements.push(EMAIL);
  const wordBounded: string[] = [];
  if (options.ukPostcodes) wordBounded.push(UK_POSTCODE_BODY);
  const deny = trieRegex(options.denylist.map((w) => w.toLowerCase()));
  if (deny) wordBounded.push(deny);
  if (wordBounded.length) elements.push(`${WORD_START}(?:${wordBounded.join('|')})${WORD_END}`);
  if (options.numbersOfDigits > 0) elements.push(`${DIGIT_START}\\d{${options.numbersOfDigits},}${DIGIT_END}`);
  return elements;
}

/** Parses a date matched by {@link ANY_DATE} (numeric dates are read day first, as in the UK, unless the day-first month would not exist). */
export function parseLooseDate(text: string): { year: number; month: number; day: number | undefined } | undefined {
  const t = text.toLowerCase();
  let m = /^(\d{4})(\d{2})(\d{2})$/.exec(t) ?? /^(\d{4})[^\w:](\d{1,2})[^\w:](\d{1,2})(?:st|nd|rd|th)?$/.exec(t);
  if (m) return { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]) };
  m = /^(\d{1,2})(?:st|nd|rd|th)?[^\w:](\d{1,2})(?:st|nd|rd|th)?[^\w:](\d{2,4})$/.exec(t);
  if (m) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    return b > 12 ? { year: fullYear(m[3]!), month: a, day: b } : { year: fullYear(m[3]!), month: b, day: a };
  }
  const monthIndex = MONTH_NAMES.findIndex((name) => new RegExp(`(?:^|[^a-z])${name.slice(0, 3)}`).test(t));
  if (monthIndex < 0) return undefined;
  const numbers = (t.match(/\d+/g) ?? []).map((n) => n);
  const yearText = numbers.find((n) => n.length >= 3) ?? numbers[numbers.length - 1];
  if (!yearText) return undefined;
  const dayText = numbers.find((n) => n !== yearText && n.length <= 2);
  return { year: fullYear(yearText), month: monthIndex + 1, day: dayText === undefined ? undefined : Number(dayText) };
}

function fullYear(text: string): number {
  const n = Number(text);
  return text.length <= 2 ? (n > 30 ? 1900 + n : 2000 + n) : n;
}

/** Formats a date with `%Y`, `%m`, `%d`, `%b`, `%B`. */
export function formatBlurredDate(date: { year: number; month: number; day: number | undefined }, format: string): string {
  const name = MONTH_NAMES[date.month - 1] ?? '';
  return format.replace(/%([YmdbB%])/g, (_, code: string) => {
    switch (code) {
      case 'Y': return String(date.year);
      case 'm': return String(date.month).padStart(2, '0');
      case 'd': return date.day === undefined ? '' : String(date.day).padStart(2, '0');
      case 'b': return name.slice(0, 1).toUpperCase() + name.slice(1, 3);
      case 'B': return name.slice(0, 1).toUpperCase() + name.slice(1);
      default: return '%';
    }
  });
}
