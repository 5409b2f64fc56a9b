// The scrubber of one patient: every identifier the records hold about the patient and third
// parties, plus the non-specific patterns, compiled into ONE regular expression with a
// capturing group per kind of replacement. Scrubbing a text is then a single left-to-right
// pass, whatever the number of identifiers. Where two kinds could match at one position, the
// configured order decides (patient, third party, non-specific by default). It scans the
// lower-cased text without the `u` and `i` flags (several times faster in V8; see
// scanningTwin) and replacements are cut from the original. Text whose lower-case form has
// another length (a few characters such as "İ") is scanned case-insensitively instead.
import { createHash } from 'node:crypto';
import type { ScrubMethod } from './data-dictionary.js';
import { codeElement, dateElement, DIGIT_END, DIGIT_START, escapeRegex, looksNumeric, numberElement, phraseElement, scanningTwin, splitWords, WORD_END, WORD_START } from './scrub-regex-elements.js';
import { trieRegex } from './regex-trie.js';
import { addressElements, writtenAsName } from './address-elements.js';
import { typedValue } from './row-serialisation.js';
import { ANY_DATE, formatBlurredDate, nonspecificElements, parseLooseDate, type NonspecificOptions } from './nonspecific-patterns.js';

/** One value that identifies, and how to look for it. */
export interface IdentifierValue {
  value: unknown;
  method: ScrubMethod;
}

/** Which group of the combined expression a replacement comes from. */
export type ScrubKind = 'patient' | 'thirdparty' | 'nonspecific';

/** How scrubbers are built; the same for every patient of a run. */
export interface ScrubberOptions {
  replacePatient: string;
  replaceThirdParty: string;
  replaceNonspecific: string;
  /** Suffixes a word may carry and still be scrubbed (plural, possessive). */
  suffixes: string[];
  /** Words (and numbers) shorter than this are not scrubbed as words. */
  minWordLength: number;
  /** Lower-case words never scrubbed as single words. */
  allowlist: ReadonlySet<string>;
  nonspecific: NonspecificOptions;
  /** Priority where matches start at the same place. */
  order: ScrubKind[];
}

/** Default options: CRATE's replacements, plural and possessive suffixes, no non-specific scrubbing. */
export function defaultScrubberOptions(): ScrubberOptions {
  return {
    replacePatient: '[__PPP__]', replaceThirdParty: '[__TTT__]', replaceNonspecific: '[~~~]',
    suffixes: ['s', "'s", '’s', "'", '’'], minWordLength: 2, allowlist: new Set(),
    nonspecific: { allDates: false, blurDatesFormat: undefined, numbersOfDigits: 0, ukPostcodes: false, emails: false, extraRegexes: [], denylist: [] },
    order: ['patient', 'thirdparty', 'nonspecific'],
  };
}

/**
 * Version of the scrubbing code (patterns, word splitting, matching rules). It enters every
 * patient's scrubber digest, so raising it when a change to this code would scrub differently
 * makes the next incremental run redo every patient.
 */
export const SCRUBBER_VERSION = 3;

/**
 * A fingerprint of everything in `options` that shapes a scrubber (replacements, suffixes,
 * minimum word length, allowlist, non-specific scrubbing, order), with SCRUBBER_VERSION;
 * computed once per run and passed to {@link identifierDigest}.
 */
export function scrubberFingerprint(options: ScrubberOptions): string {
  // Keys sorted and sets as sorted lists, so that equal settings always give equal text.
  const canonical = (value: unknown): unknown => {
    if (value instanceof Set) return [...value].map(String).sort();
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
    return value === undefined ? null : value;
  };
  return createHash('sha256').update(JSON.stringify([SCRUBBER_VERSION, canonical(options)])).digest('hex');
}

/** One identifier value as typed text (tags as the row serialisation's: N, s, n, b, d, x). */
function typedIdentifier(value: unknown): string {
  const [tag, payload] = typedValue(value);
  return `${tag}${payload.length}:${payload}`;
}

/**
 * A patient's scrubber digest, from the identifier values themselves rather than the compiled
 * expression: the sorted list of `group method typed-value` entries (group `patient` or
 * `thirdparty`), with the run's {@link scrubberFingerprint}. It changes whenever an identifier
 * value, its method or group, or the scrubbing settings or code version change, and not when
 * the same values come in another order; building it needs no expression. (Changes that would
 * leave the expression alike, such as a duplicate value, also change it: the patient is redone,
 * which is safe.)
 * @param fingerprint - scrubberFingerprint(options) of the run
 * @returns lower-case hex SHA-256 (to be keyed with the change key before it is stored)
 */
export function identifierDigest(patient: readonly IdentifierValue[], thirdParty: readonly IdentifierValue[], fingerprint: string): string {
  const entries: string[] = [];
  for (const v of patient) entries.push(`patient ${v.method} ${typedIdentifier(v.value)}`);
  for (const v of thirdParty) entries.push(`thirdparty ${v.method} ${typedIdentifier(v.value)}`);
  entries.sort();
  return createHash('sha256').update(JSON.stringify([fingerprint, entries])).digest('hex');
}

/** A compiled scrubber. */
export interface Scrubber {
  /** Replaces every identifier in `text`. */
  scrub(text: string): string;
  /** The combined pattern (for tests and diagnostics; it holds identifiers: never log it). */
  readonly source: string;
  /** A digest of everything the scrubber looks for; it changes iff the scrubber would. */
  readonly digest: string;
  /** True when the patient contributed no identifier at all. */
  readonly empty: boolean;
}

/** Regex elements of one kind: words go into a trie; phrases and codes are word-bounded bodies; numbers and dates digit-bounded ones; ordinary-word address components guarded ones. */
class ElementSet {
  readonly words = new Set<string>();
  readonly wordBounded = new Set<string>();
  readonly digitBounded = new Set<string>();
  /** Dates, digit-bounded too, but tried before words (see pattern). */
  readonly dates = new Set<string>();
  readonly guarded = new Set<string>();

  add(value: unknown, method: ScrubMethod, options: ScrubberOptions): void {
    if (value === null || value === undefined) return;
    if (method === 'date') {
      // Digit-bounded, not word-bounded: "DOB08/01/1945" (a label glued to the date, as
      // untagged tables and copied forms give it) is still the date.
      const element = dateElement(value);
      if (element) this.dates.add(element);
      return;
    }
    const text = value instanceof Date ? value.toISOString().slice(0, 10) : Buffer.isBuffer(value) ? '' : String(value);
    if (!text.trim()) return;
    const asNumber = (): void => {
      const element = numberElement(text, options.minWordLength);
      if (element) this.digitBounded.add(element);
    };
    const asPhrase = (): void => {
      const element = phraseElement(text);
      if (element) this.wordBounded.add(element);
    };
    switch (method) {
      case 'words':
        for (const word of splitWords(text)) {
          const lower = word.toLowerCase();
          if ([...lower].length < options.minWordLength || options.allowlist.has(lower)) continue;
          if (/^\p{N}+$/u.test(lower)) {
            const element = numberElement(lower, options.minWordLength);
            if (element) this.digitBounded.add(element);
          } else this.words.add(lower);
        }
        break;
      case 'phrase':
        asPhrase();
        break;
      case 'phrase_unless_numeric':
        if (looksNumeric(text)) asNumber();
        else asPhrase();
        break;
      case 'number':
        asNumber();
        break;
      case 'code': {
        const element = codeElement(text);
        if (element) this.wordBounded.add(element);
        break;
      }
      case 'address': {
        const { plain, guarded } = addressElements(text, options);
        for (const body of plain) this.wordBounded.add(body);
        for (const body of guarded) this.guarded.add(body);
        break;
      }
    }
  }

  get size(): number {
    return this.words.size + this.wordBounded.size + this.digitBounded.size + this.dates.size + this.guarded.size;
  }

  /**
   * One group-free alternation: dates first, then one pair of word boundaries around all
   * word-like bodies, then one pair of digit boundaries around all numbers. Dates come before
   * words because a written date may begin with a word that is also a name: "May 17, 1933" of
   * a patient called May would otherwise lose "May" to the name and keep "17, 1933". Numbers
   * come after words, so that a code beginning with digits ("12AB34") goes whole.
   */
  pattern(suffixes: readonly string[]): string | undefined {
    const bodies = byLength(this.wordBounded);
    const trie = trieRegex(this.words);
    if (trie) {
      const suffix = suffixes.length ? `(?:${[...suffixes].sort((a, b) => b.length - a.length).map(escapeRegex).join('|')})?` : '';
      // Phrases, codes and dates come first: "John Smith" should go as one, not as two.
      bodies.push(`${trie}${suffix}`);
    }
    const parts: string[] = [];
    if (this.dates.size) parts.push(`${DIGIT_START}(?:${byLength(this.dates).join('|')})${DIGIT_END}`);
    if (bodies.length) parts.push(`${WORD_START}(?:${bodies.join('|')})${WORD_END}`);
    if (this.digitBounded.size) parts.push(`${DIGIT_START}(?:${byLength(this.digitBounded).join('|')})${DIGIT_END}`);
    return parts.length ? parts.join('|') : undefined;
  }

  /** The guarded bodies, word-bounded, or undefined. */
  guardedPattern(): string | undefined {
    return this.guarded.size ? `${WORD_START}(?:${byLength(this.guarded).join('|')})${WORD_END}` : undefined;
  }
}

/** Longest first (then alphabetical, so that equal sets give equal expressions). */
function byLength(set: ReadonlySet<string>): string[] {
  return [...set].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
}

const UNICODE_WORD_CHAR = /[\p{L}\p{M}\p{N}_]/u;

/** True when the character at `index` is outside ASCII and a letter, mark or digit. */
function nonAsciiWordChar(text: string, index: number): boolean {
  return text.charCodeAt(index) > 127 && UNICODE_WORD_CHAR.test(text[index]!);
}

/** Letters a soft break can sit between (Latin, Greek, Cyrillic). */
const BREAK_LETTER = 'A-Za-z\\u00c0-\\u024f\\u0370-\\u04ff';
/**
 * Soft breaks inside a word, as hard-wrapped, scanned and pasted text has them: a soft hyphen
 * or zero-width character (with or without a line break after it), or a hyphen between letters
 * with or without a line break ("Kata-\nrzyna", "Kata-rzyna").
 */
// Each alternative starts with its break character (the letter before a hyphen is a lookbehind
// after it): V8 then skips along the text looking for those few characters, ten times faster
// than testing a lookbehind at every position.
const SOFT_BREAK = new RegExp(`[\\u00ad\\u200b-\\u200d\\u2060\\ufeff]+(?:\\r?\\n)?|[-\\u2010\\u2011](?<=[${BREAK_LETTER}].)[ \\t]*(?:\\r?\\n[ \\t]*)?(?=[${BREAK_LETTER}])`, 'g');
/** How far around a soft break the text is scanned again with the break removed (then widened to white space). */
const BREAK_WINDOW = 120;

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0xa0;
}

/** One replacement: [start, end) of the original text and the group that matched. */
interface Span {
  start: number;
  end: number;
  group: number;
}

/**
 * Builds the scrubber of one patient.
 * @param patient - the patient's own identifiers
 * @param thirdParty - identifiers of relatives, carers and (by thirdparty_xref_pid) other patients
 */
export function buildScrubber(patient: readonly IdentifierValue[], thirdParty: readonly IdentifierValue[], options: ScrubberOptions): Scrubber {
  const sets: Record<'patient' | 'thirdparty', ElementSet> = { patient: new ElementSet(), thirdparty: new ElementSet() };
  for (const v of patient) sets.patient.add(v.value, v.method, options);
  for (const v of thirdParty) sets.thirdparty.add(v.value, v.method, options);
  const groups: Array<{ kind: ScrubKind | 'date'; source: string; guarded: boolean }> = [];
  const nonspecific = nonspecificElements(options.nonspecific);
  for (const kind of options.order) {
    if (kind === 'nonspecific') {
      if (options.nonspecific.allDates) groups.push({ kind: 'date', source: ANY_DATE, guarded: false });
      if (nonspecific.length) groups.push({ kind, source: nonspecific.join('|'), guarded: false });
    } else {
      const source = sets[kind].pattern(options.suffixes);
      if (source) groups.push({ kind, source, guarded: false });
    }
  }
  // Guarded components come after every other group: when one matches, nothing else matched at
  // that place, so a guarded match refused for its case loses nothing.
  for (const kind of options.order) {
    if (kind === 'nonspecific') continue;
    const source = sets[kind].guardedPattern();
    if (source) groups.push({ kind, source, guarded: true });
  }
  const source = groups.map((g) => `(${g.source})`).join('|');
  const extras = options.nonspecific.extraRegexes;
  // Hashed on first use only: patients' digests come from their identifier values
  // (identifierDigest), so most scrubbers never need this one.
  let digest: string | undefined;
  const digestOf = (): string => (digest ??= createHash('sha256')
    .update(JSON.stringify([source, extras, options.replacePatient, options.replaceThirdParty, options.replaceNonspecific, options.nonspecific.blurDatesFormat ?? '']))
    .digest('hex'));
  const empty = sets.patient.size === 0;
  const extraRegex = extras.length ? new RegExp(extras.map((e) => `(?:${e})`).join('|'), 'giu') : undefined;
  const applyExtras = (text: string): string => (extraRegex ? text.replace(extraRegex, options.replaceNonspecific) : text);
  if (!groups.length) return { scrub: applyExtras, source, get digest() { return digestOf(); }, empty };
  // Compiled on first use: a scrubber whose patient has no text to scrub is never compiled.
  let regex: RegExp | undefined;
  let exact: RegExp | undefined;
  let caseless: RegExp | undefined;
  let exactCaseless: RegExp | undefined;
  const kinds = groups.map((g) => g.kind);
  const guarded = groups.map((g) => g.guarded);
  // Where spans of two groups overlap (only after a soft break was folded), the kind first in
  // scrub_order wins.
  const rank = kinds.map((k) => options.order.indexOf(k === 'date' ? 'nonspecific' : k));
  const groupOf = (match: RegExpExecArray): number => {
    for (let i = 0; i < groups.length; i++) if (match[i + 1] !== undefined) return i;
    return groups.length - 1;
  };
  const replacementOf = (group: number, original: string): string => {
    switch (kinds[group]!) {
      case 'patient': return options.replacePatient;
      case 'thirdparty': return options.replaceThirdParty;
      case 'nonspecific': return options.replaceNonspecific;
      case 'date': {
        const format = options.nonspecific.blurDatesFormat;
        const parsed = format ? parseLooseDate(original) : undefined;
        return parsed && format ? formatBlurredDate(parsed, format) : options.replaceNonspecific;
      }
    }
  };
  /**
   * Finds the matches in `haystack` (the lower-cased `original`, in the same places; or
   * `original` itself when `caseInsensitive`), and hands each accepted one to `emit`.
   */
  const scan = (haystack: string, original: string, caseInsensitive: boolean, emit: (start: number, end: number, group: number) => void): void => {
    const re = caseInsensitive ? (caseless ??= new RegExp(scanningTwin(source), 'gi')) : (regex ??= new RegExp(scanningTwin(source), 'g'));
    re.lastIndex = 0;
    for (let m = re.exec(haystack); m; m = re.exec(haystack)) {
      const start = m.index;
      let end = start + m[0].length;
      if ((start > 0 && nonAsciiWordChar(haystack, start - 1)) || (end < haystack.length && nonAsciiWordChar(haystack, end))) {
        // A non-ASCII letter or digit next to the match: decide with the exact expression at
        // this position (a shorter or longer alternative may be the right one).
        const check = caseInsensitive ? (exactCaseless ??= new RegExp(source, 'iuy')) : (exact ??= new RegExp(source, 'uy'));
        check.lastIndex = start;
        const confirmed = check.exec(haystack);
        if (!confirmed) {
          re.lastIndex = start + 1;
          continue;
        }
        m = confirmed;
        end = start + m[0].length;
        re.lastIndex = end;
      }
      if (end === start) {
        re.lastIndex = start + 1;
        continue;
      }
      const group = groupOf(m);
      if (guarded[group] && !writtenAsName(original.slice(start, end), options)) {
        re.lastIndex = start + 1;
        continue;
      }
      emit(start, end, group);
    }
  };
  /** Matches that cross a soft break: each window around breaks is scanned with the breaks removed. */
  const acrossBreaks = (text: string, breaks: ReadonlyArray<readonly [number, number]>, spans: Span[]): void => {
    const windows: Array<[number, number, Array<readonly [number, number]>]> = [];
    for (const b of breaks) {
      let from = Math.max(0, b[0] - BREAK_WINDOW);
      while (from > 0 && !isSpace(text.charCodeAt(from - 1))) from--;
      let to = Math.min(text.length, b[1] + BREAK_WINDOW);
      while (to < text.length && !isSpace(text.charCodeAt(to))) to++;
      const last = windows[windows.length - 1];
      if (last && from <= last[1]) {
        last[1] = Math.max(last[1], to);
        last[2].push(b);
      } else windows.push([from, to, [b]]);
    }
    for (const [from, to, inside] of windows) {
      // The window without its breaks; a folded index k lies `removed` characters (those of
      // the breaks before it) further on in the text.
      let folded = '';
      const foldedAt: number[] = [];
      const removed: number[] = [];
      let at = from;
      for (const [b0, b1] of inside) {
        folded += text.slice(at, b0);
        foldedAt.push(folded.length);
        removed.push(b1 - b0);
        at = b1;
      }
      folded += text.slice(at, to);
      const origin = (k: number): number => {
        let o = from + k;
        for (let j = 0; j < foldedAt.length && foldedAt[j]! <= k; j++) o += removed[j]!;
        return o;
      };
      const lower = folded.toLowerCase();
      const sameLength = lower.length === folded.length;
      scan(sameLength ? lower : folded, folded, !sameLength, (start, end, group) => {
        if (foldedAt.some((f) => start < f && f < end)) spans.push({ start: origin(start), end: origin(end - 1) + 1, group });
      });
    }
  };
  return {
    scrub(text: string): string {
      const lower = text.toLowerCase();
      // Text whose lower-case form has another length (a few characters such as "İ") is
      // scanned case-insensitively instead, so that places stay the same.
      const sameLength = lower.length === text.length;
      const haystack = sameLength ? lower : text;
      SOFT_BREAK.lastIndex = 0;
      const firstBreak = SOFT_BREAK.exec(text);
      if (!firstBreak) {
        let out = '';
        let last = 0;
        scan(haystack, text, !sameLength, (start, end, group) => {
          out += text.slice(last, start) + replacementOf(group, text.slice(start, end));
          last = end;
        });
        return applyExtras(last === 0 ? text : out + text.slice(last));
      }
      const breaks: Array<readonly [number, number]> = [];
      for (let b: RegExpExecArray | null = firstBreak; b; b = SOFT_BREAK.exec(text)) breaks.push([b.index, b.index + b[0].length]);
      const spans: Span[] = [];
      scan(haystack, text, !sameLength, (start, end, group) => spans.push({ start, end, group }));
      acrossBreaks(text, breaks, spans);
      spans.sort((a, b) => a.start - b.start || b.end - a.end);
      let out = '';
      let last = 0;
      for (let i = 0; i < spans.length;) {
        const merged = { ...spans[i]! };
        for (i++; i < spans.length && spans[i]!.start < merged.end; i++) {
          merged.end = Math.max(merged.end, spans[i]!.end);
          if (rank[spans[i]!.group]! < rank[merged.group]!) merged.group = spans[i]!.group;
        }
        out += text.slice(last, merged.start) + replacementOf(merged.group, text.slice(merged.start, merged.end));
        last = merged.end;
      }
      return applyExtras(last === 0 ? text : out + text.slice(last));
    },
    source,
    get digest() {
      return digestOf();
    },
    empty,
  };
}
