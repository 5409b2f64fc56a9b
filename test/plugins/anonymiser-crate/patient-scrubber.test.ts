// The scrubber: words, phrases, numbers, codes and dates of one patient and their third
// parties, Unicode-aware boundaries, allow/deny lists, non-specific patterns, replacements and
// order, all compiled into one expression.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildScrubber, defaultScrubberOptions, identifierDigest, scrubberFingerprint, SCRUBBER_VERSION, type IdentifierValue, type ScrubberOptions } from '../../../plugins/anonymiser-crate/patient-scrubber.js';
import { trieRegex } from '../../../plugins/anonymiser-crate/regex-trie.js';

const scrub = (patient: IdentifierValue[], text: string, tune: (o: ScrubberOptions) => void = () => undefined, third: IdentifierValue[] = []): string => {
  const options = defaultScrubberOptions();
  tune(options);
  return buildScrubber(patient, third, options).scrub(text);
};

test('words: any case, plurals and possessives, but not inside other words', () => {
  const p: IdentifierValue[] = [{ value: 'John Smith', method: 'words' }];
  assert.equal(scrub(p, "SMITH, john; Smith's notes; the Smiths; Johnson; blacksmith"), "[__PPP__], [__PPP__]; [__PPP__] notes; the [__PPP__]; Johnson; blacksmith");
});

test('boundaries are Unicode-aware: accented letters are letters, not boundaries', () => {
  const p: IdentifierValue[] = [{ value: 'Zoë Ó Briain', method: 'words' }, { value: 'Søren', method: 'words' }];
  assert.equal(scrub(p, 'Zoë met SØREN and Briain; Zoëlla and Søren’s dog, Briainé'), '[__PPP__] met [__PPP__] and [__PPP__]; Zoëlla and [__PPP__] dog, Briainé');
  // JavaScript's \b would have matched "Zo" inside "Zoë": we must not scrub partial words.
  assert.equal(scrub([{ value: 'Zo', method: 'words' }], 'Zoë'), 'Zoë');
});

test('phrases join words by any non-word run, line breaks included', () => {
  const p: IdentifierValue[] = [{ value: '12 Larkspur Road', method: 'phrase' }];
  assert.equal(scrub(p, 'at 12 Larkspur\nRoad, and 12, larkspur - ROAD; Larkspur alone'), 'at [__PPP__], and [__PPP__]; Larkspur alone');
});

test('numbers: any separators between digits, never touching other digits', () => {
  const p: IdentifierValue[] = [{ value: '943 476 5919', method: 'number' }];
  assert.equal(scrub(p, 'NHS 9434765919, 943-476-5919, (943) 476 5919; 19434765919 and 94347659190 differ'), 'NHS [__PPP__], [__PPP__], ([__PPP__]; 19434765919 and 94347659190 differ');
});

test('phrase_unless_numeric scrubs numbers as numbers and text as phrases', () => {
  const p: IdentifierValue[] = [{ value: '01223 245678', method: 'phrase_unless_numeric' }, { value: 'Flat 3, Mill Court', method: 'phrase_unless_numeric' }];
  assert.equal(scrub(p, 'call 01223-245-678 at Flat 3 Mill Court'), 'call [__PPP__] at [__PPP__]');
});

test('codes ignore spaces and case', () => {
  const p: IdentifierValue[] = [{ value: 'CB2 0QQ', method: 'code' }];
  assert.equal(scrub(p, 'CB2 0QQ, cb20qq, Cb2  0qQ; CB2 0QQX stays'), '[__PPP__], [__PPP__], [__PPP__]; CB2 0QQX stays');
});

test('dates in many orders, separators, month names, ordinals and two-digit years', () => {
  const p: IdentifierValue[] = [{ value: '1985-03-07', method: 'date' }];
  const forms = ['07/03/1985', '7/3/85', '7 March 1985', '7th of March 1985', 'March 7, 1985', 'Mar 7th 85', '1985-03-07', '19850307', '7-Mar-85', '07.03.85', '7th Marc 1985'];
  for (const form of forms) assert.equal(scrub(p, `born ${form}.`), 'born [__PPP__].', form);
  for (const other of ['08/03/1985', '7 April 1985', '17/03/1985', 'Ma 7 1985']) assert.equal(scrub(p, `born ${other}.`), `born ${other}.`, other);
});

test('a date that begins with the patient\'s name goes whole: May born in May', () => {
  // The dense benchmark's only leaks were of this form: "May 17, 1933" of a patient called May
  // lost "May" to the name and kept "17, 1933".
  const p: IdentifierValue[] = [{ value: 'May', method: 'words' }, { value: 'Nowak', method: 'words' }, { value: '1933-05-17', method: 'date' }];
  for (const form of ['May 17, 1933', 'May 17th 33', 'MAY 17 1933', 'may 17th, 1933']) assert.equal(scrub(p, `born ${form}.`), 'born [__PPP__].', form);
  // The name alone, and another date in May, still go as the name.
  assert.equal(scrub(p, 'May Nowak, seen May 18, 1933.'), '[__PPP__] [__PPP__], seen [__PPP__] 18, 1933.');
  // A code that begins with digits is not cut short by a number that is its start.
  assert.equal(scrub([{ value: '12', method: 'number' }, { value: '12AB34', method: 'code' }], 'ref 12AB34'), 'ref [__PPP__]');
});

test('third parties get their own replacement; patient wins where both match', () => {
  const out = scrub([{ value: 'Alice', method: 'words' }], 'Alice and Bob Jones and Alice', () => undefined, [{ value: 'Bob Jones', method: 'words' }, { value: 'Alice', method: 'words' }]);
  assert.equal(out, '[__PPP__] and [__TTT__] [__TTT__] and [__PPP__]');
});

test('the allowlist keeps common words; the denylist always scrubs; minimum length applies', () => {
  const p: IdentifierValue[] = [{ value: 'May Hope Li', method: 'words' }];
  assert.equal(scrub(p, 'May we hope? Li said', (o) => (o.allowlist = new Set(['may', 'hope']))), 'May we hope? [__PPP__] said');
  assert.equal(scrub(p, 'Li said', (o) => (o.minWordLength = 2)), '[__PPP__] said');
  assert.equal(scrub(p, 'Li said', (o) => (o.minWordLength = 3)), 'Li said');
  assert.equal(scrub([], 'Addenbrooke hospital', (o) => (o.nonspecific.denylist = ['Addenbrooke'])), '[~~~] hospital');
});

test('non-specific scrubbing: dates (or blurred), long numbers, postcodes, e-mails, extra expressions', () => {
  const text = 'Seen 07/03/2021 and 2021-04-09 and 3rd May 2020; ref 12345678 and 1234; PE12 3XY; a.b@nhs.net; code ZX-99';
  const out = scrub([], text, (o) => (o.nonspecific = { allDates: true, blurDatesFormat: undefined, numbersOfDigits: 5, ukPostcodes: true, emails: true, extraRegexes: ['ZX-\\d+'], denylist: [] }));
  assert.equal(out, 'Seen [~~~] and [~~~] and [~~~]; ref [~~~] and 1234; [~~~]; [~~~]; code [~~~]');
  const blurred = scrub([], 'Seen 07/03/2021 and 3rd May 2020.', (o) => ((o.nonspecific.allDates = true), (o.nonspecific.blurDatesFormat = '%b %Y')));
  assert.equal(blurred, 'Seen Mar 2021 and May 2020.');
});

test('replacements and order are configurable', () => {
  const p: IdentifierValue[] = [{ value: '2021-03-07', method: 'date' }];
  const options = (o: ScrubberOptions): void => {
    o.replacePatient = '<P>';
    o.replaceNonspecific = '<N>';
    o.nonspecific.allDates = true;
  };
  assert.equal(scrub(p, 'on 07/03/2021', options), 'on <P>');
  assert.equal(scrub(p, 'on 07/03/2021', (o) => (options(o), (o.order = ['nonspecific', 'patient', 'thirdparty']))), 'on <N>');
});

test('one combined expression, whose digest changes exactly when the identifiers do', () => {
  const o = defaultScrubberOptions();
  const a = buildScrubber([{ value: 'Ann Lee', method: 'words' }, { value: '1999-01-02', method: 'date' }], [{ value: 'Bo', method: 'words' }], o);
  const same = buildScrubber([{ value: 'Ann Lee', method: 'words' }, { value: '1999-01-02', method: 'date' }], [{ value: 'Bo', method: 'words' }], o);
  const changed = buildScrubber([{ value: 'Ann Leigh', method: 'words' }, { value: '1999-01-02', method: 'date' }], [{ value: 'Bo', method: 'words' }], o);
  assert.equal(a.digest, same.digest);
  assert.notEqual(a.digest, changed.digest);
  assert.equal(new RegExp(`${a.source}|`, 'u').exec('')!.length - 1, 2, 'one capturing group for the patient, one for third parties');
  assert.equal(buildScrubber([], [], o).empty, true);
});

test('the scrubber digest comes from the identifier values: any value, method or group changes it, order does not', () => {
  const fp = scrubberFingerprint(defaultScrubberOptions());
  const patient: IdentifierValue[] = [
    { value: 'Ann Lee', method: 'words' }, { value: 4857773456, method: 'number' }, { value: new Date('1999-01-02T00:00:00Z'), method: 'date' },
    { value: 'CB2 0QQ', method: 'code' }, { value: null, method: 'phrase' },
  ];
  const third: IdentifierValue[] = [{ value: 'Bo', method: 'words' }, { value: 'Smith', method: 'words' }];
  const base = identifierDigest(patient, third, fp);
  assert.match(base, /^[0-9a-f]{64}$/);
  // Rows (and so values) in another order: the same digest.
  assert.equal(identifierDigest([...patient].reverse(), [...third].reverse(), fp), base);
  assert.equal(identifierDigest(patient.map((v) => ({ ...v })), third.map((v) => ({ ...v })), fp), base);
  const variants: Array<[string, IdentifierValue[], IdentifierValue[]]> = [];
  patient.forEach((v, i) => {
    const changed = [...patient];
    changed[i] = { ...v, value: v.value === null ? '' : v.value instanceof Date ? new Date(v.value.getTime() + 86_400_000) : typeof v.value === 'number' ? v.value + 1 : `${String(v.value)}x` };
    variants.push([`patient value ${i}`, changed, third]);
  });
  third.forEach((v, i) => {
    const changed = [...third];
    changed[i] = { ...v, value: `${String(v.value)}y` };
    variants.push([`third-party value ${i}`, patient, changed]);
  });
  variants.push(['a method', [{ ...patient[0]!, method: 'phrase' }, ...patient.slice(1)], third]);
  variants.push(['a value moved from patient to third party', patient.slice(1), [patient[0]!, ...third]]);
  variants.push(['a value added', [...patient, { value: 'Annie', method: 'words' }], third]);
  variants.push(['a value removed', patient.slice(0, -1), third]);
  variants.push(['a number as text', [{ value: '4857773456', method: 'number' }, ...patient.filter((v) => v.method !== 'number')], third]);
  variants.push(['a duplicate value', [...patient, patient[0]!], third]);
  const seen = new Map<string, string>([[base, 'base']]);
  for (const [what, p, t] of variants) {
    const digest = identifierDigest(p, t, fp);
    assert.ok(!seen.has(digest), `${what} gives the same digest as ${seen.get(digest)}`);
    seen.set(digest, what);
  }
});

test('the scrubber digest changes with every scrubbing setting, not with equal settings built again', () => {
  const ids: IdentifierValue[] = [{ value: 'Ann Lee', method: 'words' }];
  const digestWith = (change: (o: ScrubberOptions) => void): string => {
    const o = defaultScrubberOptions();
    change(o);
    return identifierDigest(ids, [], scrubberFingerprint(o));
  };
  const base = digestWith(() => undefined);
  assert.equal(digestWith(() => undefined), base);
  assert.equal(digestWith((o) => (o.allowlist = new Set(['b', 'a']))), digestWith((o) => (o.allowlist = new Set(['a', 'b']))), 'a set in another order is the same setting');
  const changes: Array<[string, (o: ScrubberOptions) => void]> = [
    ['replacePatient', (o) => (o.replacePatient = '[P]')],
    ['replaceThirdParty', (o) => (o.replaceThirdParty = '[T]')],
    ['replaceNonspecific', (o) => (o.replaceNonspecific = '[N]')],
    ['suffixes', (o) => (o.suffixes = ['s'])],
    ['minWordLength', (o) => (o.minWordLength = 3)],
    ['allowlist', (o) => (o.allowlist = new Set(['lee']))],
    ['allDates', (o) => (o.nonspecific.allDates = true)],
    ['blurDatesFormat', (o) => (o.nonspecific.blurDatesFormat = '%Y')],
    ['numbersOfDigits', (o) => (o.nonspecific.numbersOfDigits = 6)],
    ['ukPostcodes', (o) => (o.nonspecific.ukPostcodes = true)],
    ['emails', (o) => (o.nonspecific.emails = true)],
    ['extraRegexes', (o) => (o.nonspecific.extraRegexes = ['abc'])],
    ['denylist', (o) => (o.nonspecific.denylist = ['word'])],
    ['order', (o) => (o.order = ['thirdparty', 'patient', 'nonspecific'])],
  ];
  const seen = new Map<string, string>([[base, 'defaults']]);
  for (const [what, change] of changes) {
    const digest = digestWith(change);
    assert.ok(!seen.has(digest), `changing ${what} gives the same digest as ${seen.get(digest)}`);
    seen.set(digest, what);
  }
  assert.equal(typeof SCRUBBER_VERSION, 'number');
});

test('trie regexes match exactly their words, longest first', () => {
  const source = trieRegex(['joan', 'joanna', 'john', 'jo'])!;
  const re = new RegExp(`^(?:${source})$`, 'u');
  for (const w of ['joan', 'joanna', 'john', 'jo']) assert.ok(re.test(w), w);
  for (const w of ['joa', 'johnn', 'j', 'joanne']) assert.ok(!re.test(w), w);
  assert.equal('joanna'.match(new RegExp(source, 'u'))![0], 'joanna');
});
