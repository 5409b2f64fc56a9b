// Address-component scrubbing (scrub method `address`): besides the whole address as a phrase
// (CRATE's `phrase`), each of its parts as people write them on their own: every line ("12
// Beechcroft Gardens", "Sheffield"), the street without its house number ("Beechcroft
// Gardens", also with the street kind abbreviated: "Beechcroft Gdns"), the street's own name
// ("Beechcroft"), the town, the postcode and its district ("S10"). A clinician writes "walked
// along Beechcroft Gardens", never the whole address line.
//
// Decoy safety: a component made only of ordinary words (a street named "Hope Street", a town
// called "Reading"; see common-words.ts and the allowlist) is returned as *guarded*: the
// scrubber takes it only where it is written with capitals, as a name is, so "there is hope"
// keeps its word. A street kind alone ("Road") and a district shorter than three characters
// ("S1", also a heart sound) are never components.
import { COMMON_PLACE_WORDS } from './common-words.js';
import { codeElement, escapeRegex, PHRASE_SEPARATOR, splitWords } from './scrub-regex-elements.js';

/** Street kinds and how they are abbreviated. */
const STREET_KINDS: Record<string, readonly string[]> = {
  road: ['rd'], street: ['st'], avenue: ['ave', 'av'], lane: ['ln'], close: ['cl'], crescent: ['cres', 'cresc'], drive: ['dr', 'drv'],
  court: ['ct'], place: ['pl'], terrace: ['terr', 'tce'], square: ['sq'], grove: ['gr', 'gro'], gardens: ['gdns', 'gdn'], park: ['pk'],
  way: [], walk: ['wlk'], mews: [], row: [], hill: [], view: [], rise: [], green: ['grn'], parade: ['pde'], boulevard: ['blvd'],
  gate: [], croft: [], fields: [], wharf: [], yard: ['yd'], vale: [], heights: ['hts'], chase: [], causeway: [], embankment: [],
};
const KIND_ABBREVIATIONS = new Map(Object.entries(STREET_KINDS).flatMap(([kind, short]) => short.map((s) => [s, kind] as const)));
/** A UK postcode anywhere in a value: outward code (area and district) and inward code. */
const POSTCODE = /(?<![\p{L}\p{N}])([A-Za-z]{1,2}\d[A-Za-z\d]?)\s*(\d[A-Za-z]{2})(?![\p{L}\p{N}])/u;
/** Words before a house number that are not part of the street: "Flat 3", "Unit 4B". */
const DWELLING = new Set(['flat', 'apartment', 'apt', 'unit', 'house', 'no', 'number', 'room', 'suite', 'block', 'floor']);

/** Word-bounded regular-expression bodies (lower case) of an address's components. */
export interface AddressElements {
  /** Scrubbed wherever they occur, in any case. */
  plain: string[];
  /** Made of ordinary words only: scrubbed only where each ordinary word starts with a capital. */
  guarded: string[];
}

/** What decides which components are ordinary. */
export interface AddressOptions {
  minWordLength: number;
  /** Lower-case words the operator never wants scrubbed alone; guarded here like ordinary words. */
  allowlist: ReadonlySet<string>;
}

/** A word of a component as a pattern: a street kind matches its abbreviations too (`gardens|gdns`, with an optional full stop). */
function wordPattern(word: string, isLast: boolean): string {
  const lower = word.toLowerCase();
  const kind = isLast ? (STREET_KINDS[lower] ? lower : KIND_ABBREVIATIONS.get(lower.replace(/\.$/, ''))) : undefined;
  if (!kind) return escapeRegex(lower);
  // An abbreviation may end with a full stop; the full word's stop ends the sentence.
  const forms = [kind, ...STREET_KINDS[kind]!.map((short) => `${escapeRegex(short)}\\.?`)].sort((a, b) => b.length - a.length);
  return `(?:${forms.join('|')})`;
}

function isKind(word: string): boolean {
  const lower = word.toLowerCase();
  return STREET_KINDS[lower] !== undefined || KIND_ABBREVIATIONS.has(lower);
}

/**
 * The components of `value` as regular-expression bodies for lower-cased text (without
 * boundaries: the scrubber adds them).
 */
export function addressElements(value: string, options: AddressOptions): AddressElements {
  const plain = new Set<string>();
  const guarded = new Set<string>();
  const ordinary = (w: string): boolean => COMMON_PLACE_WORDS.has(w.toLowerCase()) || options.allowlist.has(w.toLowerCase()) || isKind(w);
  const add = (words: readonly string[]): void => {
    const names = words.filter((w) => !isKind(w) || words.length === 1);
    if (!words.length || (words.length === 1 && isKind(words[0]!))) return;
    if (words.length === 1 && [...words[0]!].length < Math.max(3, options.minWordLength)) return;
    if (/^\p{N}+$/u.test(words.join(''))) return;
    const body = words.map((w, i) => wordPattern(w, i === words.length - 1 && words.length > 1)).join(PHRASE_SEPARATOR);
    (names.every(ordinary) ? guarded : plain).add(body);
  };
  let rest = value;
  const postcode = POSTCODE.exec(value);
  if (postcode) {
    const full = codeElement(`${postcode[1]}${postcode[2]}`);
    if (full) plain.add(full);
    const district = postcode[1]!;
    if (district.length >= 3) plain.add(codeElement(district)!);
    rest = value.slice(0, postcode.index) + ' , ' + value.slice(postcode.index + postcode[0].length);
  }
  const whole = splitWords(value);
  if (whole.length) plain.add(whole.map((w) => escapeRegex(w.toLowerCase())).join(PHRASE_SEPARATOR));
  for (const line of rest.split(/[,;\n\r]+/)) {
    const words = splitWords(line);
    if (!words.length) continue;
    // The line as written, then without the dwelling and house number that lead it.
    add(words);
    let start = 0;
    while (start < words.length && (DWELLING.has(words[start]!.toLowerCase()) || /^\p{N}+\p{L}?$/u.test(words[start]!))) start += 1;
    const street = words.slice(start);
    if (street.length !== words.length) add(street);
    // A street's own name, without its kind: "Beechcroft" of "Beechcroft Gardens".
    if (street.length > 1 && isKind(street[street.length - 1]!)) add(street.slice(0, -1));
  }
  return { plain: [...plain], guarded: [...guarded].filter((g) => !plain.has(g)) };
}

/**
 * True when `original` (the text a guarded component matched, in its own case) is written as a
 * name: each of its ordinary words starts with a capital letter.
 */
export function writtenAsName(original: string, options: AddressOptions): boolean {
  const words = splitWords(original);
  for (const word of words) {
    // "High street" is still a name; the kind's case says nothing.
    if (words.length > 1 && isKind(word)) continue;
    const lower = word.toLowerCase();
    if (!(COMMON_PLACE_WORDS.has(lower) || options.allowlist.has(lower) || isKind(word))) continue;
    const first = word[0]!;
    if (first === first.toLowerCase()) return false;
  }
  return true;
}
