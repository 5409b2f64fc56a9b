// Recall on the forms identifiers take in real clinical text, and the ordinary words that must
// survive: phone numbers written internationally for a national number (and the reverse),
// words broken by a hyphen, soft hyphen or zero-width character at or away from a line break,
// identifiers glued to a label (HTML table cells untagged, forms copied as text), and address
// components (a street without its house number, the town, the postcode district) with streets
// and towns named after ordinary words left alone where those words are used as words.
//
// The date lists are CRATE's own: crate_anon/anonymise/tests/anonregex_tests.py
// (test_generic_date; ucam-department-of-psychiatry/crate), which records which strings its
// generic date expression must and must not take, with and without word boundaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildScrubber, defaultScrubberOptions, type IdentifierValue, type ScrubberOptions } from '../../../plugins/anonymiser-crate/patient-scrubber.js';
import { htmlUntag } from '../../../plugins/anonymiser-crate/value-alterers.js';
import { effectiveScrubMethod } from '../../../plugins/anonymiser-crate/anon-config.js';

const scrub = (patient: IdentifierValue[], text: string, tune: (o: ScrubberOptions) => void = () => undefined, third: IdentifierValue[] = []): string => {
  const options = defaultScrubberOptions();
  tune(options);
  return buildScrubber(patient, third, options).scrub(text);
};

test('a national phone number is found in its international forms, across separators and line breaks', () => {
  const p: IdentifierValue[] = [{ value: '0114 496 0158', method: 'phrase_unless_numeric' }];
  const forms = ['0114 496 0158', '+44 114 496 0158', '+44 (0)114 496 0158', '+44 (0) 114 496 0158', '0044 114 496 0158', '+441144960158', '+44-114-496-0158',
    '+44 114 496\n0158', '+44 114\r\n496 0158', '0114 - 496 - 0158', '+44 0114 496 0158', '(0114) 496 0158', '+353 114 496 0158'];
  for (const form of forms) assert.doesNotMatch(scrub(p, `call ${form} today`), /\d{3}/, form);
  // A different subscriber number, or the same digits inside a longer number, stays.
  for (const other of ['+44 114 496 0159', '201144960158', '011449601587']) assert.equal(scrub(p, `call ${other}`), `call ${other}`, other);
});

test('an international phone number is found in its national forms, whatever the country code length', () => {
  for (const [stored, written] of [['+44 114 496 0158', '0114 496 0158'], ['0044 114 496 0158', '(0114) 4960158'], ['+353 1 234 5678', '01 234 5678'], ['+1 212 555 0123', '212-555-0123']] as const) {
    assert.equal(scrub([{ value: stored, method: 'number' }], `tel ${written}.`), 'tel [__PPP__].', `${stored} as ${written}`);
  }
});

test('words broken by a hyphen, a soft hyphen or a zero-width character, with or without a line break', () => {
  const p: IdentifierValue[] = [{ value: 'Katarzyna Nowak', method: 'words' }];
  for (const broken of ['Kata-\nrzyna', 'Kata-\r\nrzyna', 'Kata- \n  rzyna', 'Kata-rzyna', 'Kata\u00adrzyna', 'Kata\u00ad\nrzyna', 'Kata\u200brzyna', 'Now\u200bak', 'No\u2060wak', 'Kata\u2010rzyna', 'KATA-\nRZYNA’s']) {
    assert.equal(scrub(p, `seen ${broken} today`), 'seen [__PPP__] today', JSON.stringify(broken));
  }
  // Hyphenated ordinary words and double-barrelled names keep their parts apart.
  assert.equal(scrub(p, 'follow-up with self-harm plan; Nowak-Smith and Smith-Nowak'), 'follow-up with self-harm plan; [__PPP__]-Smith and Smith-[__PPP__]');
  // A fold never joins a word into something it is not: "Nowa-\nkowski" is not Nowak.
  assert.equal(scrub(p, 'Nowa-\nkowski'), 'Nowa-\nkowski');
});

test('dates and numbers glued to a label are still found (no word boundary is needed next to letters)', () => {
  const p: IdentifierValue[] = [{ value: '1945-01-08', method: 'date' }, { value: '943 476 5919', method: 'number' }];
  assert.equal(scrub(p, 'DOB08/01/1945; NHS9434765919; born 8th January 1945AD'), 'DOB[__PPP__]; NHS[__PPP__]; born [__PPP__]AD');
  // CRATE's own example of a glued label: "x y z DOB23.07.48 questionnaire".
  assert.equal(scrub([{ value: '1948-07-23', method: 'date' }], 'x y z DOB23.07.48 questionnaire'), 'x y z DOB[__PPP__] questionnaire');
  // Digits still bound a date: another day or year is not this one.
  assert.equal(scrub(p, '108/01/1945 and 08/01/19451'), '108/01/1945 and 08/01/19451');
});

test('html_untag separates cells and blocks as a browser does, joins inline tags and decodes references', () => {
  assert.equal(htmlUntag('<table><tr><td>DOB</td><td>08/01/1945</td></tr><tr><th>Name</th><td><b>Kat</b>arzyna Now&#97;k</td></tr></table>'), '\n\nDOB\t08/01/1945\t\n\nName\tKatarzyna Nowak\t\n\n');
  assert.equal(htmlUntag('<p>Seen by<br>Dr <span class="x">Smith</span></p><div>Chlo&eacute; &amp; <i>Jo</i></div>'), '\nSeen by\nDr Smith\n\nChloé & Jo\n');
  assert.equal(htmlUntag('a<!-- note -->b <a title="x > y">link</a> <script>alert(1)</script>c'), 'ab link c');
  const p: IdentifierValue[] = [{ value: '1945-01-08', method: 'date' }, { value: 'Katarzyna Nowak', method: 'words' }];
  assert.equal(scrub(p, htmlUntag('<td>DOB</td><td>08/01/1945</td><td>Kata&shy;rzyna <b>NOW</b>AK</td>')), 'DOB\t[__PPP__]\t[__PPP__] [__PPP__]\t');
});

test('address components: the street without its number, abbreviated kinds, the town and the postcode district', () => {
  const p: IdentifierValue[] = [{ value: '12 Beechcroft Gardens, Sheffield S10 2XY', method: 'address' }];
  const cases: Array<[string, string]> = [
    ['walked along Beechcroft Gardens', 'walked along [__PPP__]'],
    ['lives on Beechcroft Gdns. now', 'lives on [__PPP__] now'],
    ['moved to Sheffield', 'moved to [__PPP__]'],
    ['12 Beechcroft Gardens, Sheffield, S10 2XY', '[__PPP__]'],
    ['Sheffield (S10 2XY)', '[__PPP__] ([__PPP__])'],
    ['postcode s102xy, district S10', 'postcode [__PPP__], district [__PPP__]'],
    ['the Beechcroft estate', 'the [__PPP__] estate'],
  ];
  for (const [text, expected] of cases) assert.equal(scrub(p, text), expected, text);
  // Not components: the street kind alone, the house number alone.
  assert.equal(scrub(p, 'Gardens and 12 apples'), 'Gardens and 12 apples');
});

test('decoy safety: streets and towns named after ordinary words are scrubbed only where written as names', () => {
  const p: IdentifierValue[] = [{ value: 'Flat 3, 7 Hope Street, Mill Lane, Reading RG1 8EQ', method: 'address' }];
  assert.equal(scrub(p, 'there is hope; reading at the mill; along the street'), 'there is hope; reading at the mill; along the street');
  assert.equal(scrub(p, 'now at Hope Street, near MILL LANE, in Reading; Hope street'), 'now at [__PPP__], near [__PPP__], in [__PPP__]; [__PPP__]');
  // The allowlist guards the operator's own words the same way.
  const q: IdentifierValue[] = [{ value: '4 Tansley Close, Matlock', method: 'address' }];
  assert.equal(scrub(q, 'matlock and Matlock', (o) => (o.allowlist = new Set(['matlock']))), 'matlock and [__PPP__]');
});

test('address components are on by default for address fields written phrase or words', () => {
  const fields = ['*address*'];
  assert.equal(effectiveScrubMethod({ srcField: 'home_address', scrubMethod: 'phrase' }, fields), 'address');
  assert.equal(effectiveScrubMethod({ srcField: 'ADDRESS_LINE_1', scrubMethod: 'words' }, fields), 'address');
  assert.equal(effectiveScrubMethod({ srcField: 'email_address', scrubMethod: 'code' }, fields), 'code');
  assert.equal(effectiveScrubMethod({ srcField: 'surname', scrubMethod: 'words' }, fields), 'words');
  assert.equal(effectiveScrubMethod({ srcField: 'home_address', scrubMethod: 'phrase' }, []), 'phrase');
});

// CRATE: crate_anon/anonymise/tests/anonregex_tests.py, test_generic_date.
const CRATE_VALID = ['2/11/73', '02/11/1973', '2/1/73', '02/01/73', '31/1/1973', '02/1/1973', '31.1.2011', '31-1-2001', '29/2/1973', '29/02/1976', '03/06/2010', '12/6/90',
  '02/24/1975', '06/19/66', '03.31.1991', '2.29.2003', '02-29-55', '03-13-55', '03-13-1955', '12\\24\\1974', '12\\30\\1974', '1\\31\\1974', '03/31/2001', '01/21/2001', '12/13/2001',
  '12/12/1978', '6/6/78', '06/6/1978', '6/06/1978', '13 11 2001', '11 13 2001', '11 13 01', '13 11 01', '1 1 01', '1 1 2001', '76/02/02', '1976/02/29', '1976/2/13', '76/09/31',
  '19741213', '19750101', '12/1/10', '12/01/00', '12/01/0000', '01/01/2039', '01/01/39', '12/31/21/', '12/10/2016  8:26:00.39', '31/12/1921.10:55', '1/12/19\n74',
  '01/12/19\n74/13/1946', '31/12/20\n08:13', '2/12-73', '2 Sep 1990', '2nd Sep 1990', '2 September 1990', '02 September 90', '2-Sep-90', '1990-Sep-02', 'Sep 2 1990',
  'Sep 2nd 1990', '1st Sep 90', '1st Sept 2000', 'blah   for some name  dob   7.3.04  but thing', 'x] |D.O.B. |24/02/1973   | |Detail',
  // suboptimal_but_accepted
  '74/2/29', '1nd Sep 90'];
// valid_only_without_word_boundaries: dates with letters glued on, which we take (no word boundary is needed next to letters).
const CRATE_GLUED = ['31/12/1921AD', 'wfuwdf12/11/74iuhwf', 'fwefew13/11/1974', '01/12/1974vdwdfwe', '01/01/99werwer', 'x y z DOB23.07.48 questionnaire'];
// not_currently_valid_perhaps_should_be + invalid. Left out: "1xx Sep 2000", whose "Sep 2000" we
// scrub as a month with its year (CRATE has no month-year form).
const CRATE_INVALID = ['12/01/660', '01/01/10000', '12321301/01/99', '00/01/2100', '31/31/2001', '101/12/1974', '0/1/2001', '1/0/2001', '01/0/2001', '0101/2001', '01/131/2001',
  '56/56/56', '00/00/0000', '0/0/1999', '12/01/0', '12/10/-100', '12/32/45', '20/12/194', '12:13:56', '13:12:01', '1:12:01PM', '1:12:01 AM', '1st Spt 2000',
  'The cat sat on the mat.He started haloperidol 5mg x7/week in 2009.', 'x / y z DOB 0804013'];

test('scrub_all_dates takes what CRATE\'s generic date expression takes, glued dates included, and leaves what it leaves', () => {
  const allDates = (o: ScrubberOptions): void => {
    o.nonspecific.allDates = true;
  };
  for (const x of [...CRATE_VALID, ...CRATE_GLUED]) assert.notEqual(scrub([], x, allDates), x, `should be found as a date: ${JSON.stringify(x)}`);
  for (const x of CRATE_INVALID) assert.equal(scrub([], x, allDates), x, `should not be found as a date: ${JSON.stringify(x)}`);
  assert.equal(scrub([], 'x y z DOB23.07.48 questionnaire', allDates), 'x y z DOB[~~~] questionnaire');
  assert.equal(scrub([], 'seen Omar 2021, then March 2021', allDates), 'seen Omar 2021, then [~~~]');
});
