// Scrubbing on demand: the anonymise_scrub action (sysadmins only, POST only, audited with
// counts and never the text or identifiers) and `platform anonymise scrub` reading stdin, on
// SQLite and PostgreSQL. The requests are shaped, and the expected answers taken, from CRATE's
// own tests of its scrub API: crate_anon/crateweb/anonymise_api/tests.py
// (ucam-department-of-psychiatry/crate), where that file's Faker values are replaced by fixed ones.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, writeTestConfig, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { runCli } from '../../helpers/run-cli.js';
import { AuditLogId } from '../../../core/api.js';

for (const kind of databaseKinds()) {
  describe(`anonymise_scrub (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['anonymiser-crate'] });
      f = await createApiFixtures(t);
    });
    after(async () => {
      await t?.close();
    });
    const scrub = async (input: Record<string, unknown>): Promise<Record<string, string>> => {
      const { status, body } = await t.call('anonymise_scrub', input, { token: f.tokens.sysadmin });
      assert.equal(status, 200, JSON.stringify(body));
      return (body.result as { anonymised: Record<string, string> }).anonymised;
    };

    test('scrubs as CRATE\'s scrub API does (its test cases)', async () => {
      // test_patient_non_numeric_phrases_replaced: the phrase goes, the lone "5" (a dose) stays.
      assert.deepEqual(await scrub({ patient: { non_numeric_phrases: ['5 High Street', '5'] }, text: { test: 'Address is 5 High Street haloperidol 5 mg' } }), { test: 'Address is [__PPP__] haloperidol 5 mg' });
      // test_patient_date_replaced: a date written "%d %b %Y".
      const dated = await scrub({ patient: { dates: ['03 Apr 1975'] }, text: { test: '03 Apr 1975 Seen in clinic.' } });
      assert.equal(dated.test, '[__PPP__] Seen in clinic.');
      // test_patient_words_replaced
      const words = (await scrub({ patient: { words: ['one two three'] }, text: { test: 'one fish two fish three' } })).test!;
      assert.equal(words.split('[__PPP__]').length - 1, 3);
      // test_patient_replacement_text, test_denylist_replacement_text
      assert.deepEqual(await scrub({ patient: { words: ['secret'] }, replace_patient_info_with: '[REDACTED]', text: { test: 'secret' } }), { test: '[REDACTED]' });
      assert.deepEqual(await scrub({ denylist: { words: ['secret'] }, replace_nonspecific_info_with: '[REDACTED]', text: { test: 'secret' } }), { test: '[REDACTED]' });
      // test_min_string_length_to_scrub_with: "Craig" (5 letters) stays at 6.
      assert.deepEqual(await scrub({ min_string_length_to_scrub_with: 6, third_party: { words: ['Craig Buchanan'] }, text: { test: 'Craig Buchanan' } }), { test: 'Craig [__TTT__]' });
      // test_scrub_string_suffixes, test_allowlist_words
      assert.deepEqual(await scrub({ scrub_string_suffixes: ['s'], third_party: { words: ['secret'] }, text: { test: 'secrets' } }), { test: '[__TTT__]' });
      assert.deepEqual(await scrub({ third_party: { words: ['secret', 'private', 'confidential'] }, allowlist: { words: ['secret'] }, text: { test: 'secret private confidential' } }), { test: 'secret [__TTT__] [__TTT__]' });
      // test_scrub_all_uk_postcodes, test_scrub_all_email_addresses
      assert.deepEqual(await scrub({ scrub_all_uk_postcodes: true, scrub_all_email_addresses: true, text: { a: 'Lives at CB2 0QQ', b: 'mail r&d@somewhere.nhs.uk' } }), { a: 'Lives at [~~~]', b: 'mail r&[~~~]' });
    });

    test('scrubs several texts with one scrubber, with our own recall (international phone, soft breaks, addresses)', async () => {
      const out = await scrub({
        patient: { words: ['Katarzyna Nowak'], numbers: ['0114 496 0158'], addresses: ['12 Beechcroft Gardens, Sheffield S10 2XY'], dates: ['1945-01-08'] },
        text: { one: 'Kata-\nrzyna called from +44 114 496 0158.', two: 'DOB08/01/1945, walked along Beechcroft Gardens.' },
      });
      assert.deepEqual(out, { one: '[__PPP__] called from [__PPP__].', two: 'DOB[__PPP__], walked along [__PPP__].' });
    });

    test('only sysadmins may scrub, only by POST, and every call is audited without the text or identifiers', async () => {
      const input = { patient: { words: ['Bartholomew'] }, text: { x: 'Bartholomew was seen.' } };
      for (const role of ['anonymous', 'member', 'editor', 'admin'] as const) {
        const { status } = await t.call('anonymise_scrub', input, { token: f.tokens[role] });
        assert.ok(status === 401 || status === 403, `${role}: ${status}`);
      }
      const get = await t.call('anonymise_scrub', { text: 'x' }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.equal(get.status, 400);
      assert.match(JSON.stringify(get.body), /send it as POST/);
      await scrub(input);
      const events = await t.host.services.get(AuditLogId).list({ action: 'anonymise.scrub' });
      assert.ok(events.length >= 1);
      assert.ok(events.some((e) => JSON.stringify(e.details) === JSON.stringify({ texts: 1, characters: 21, identifiers: 1 })), JSON.stringify(events.map((e) => e.details)));
      assert.ok(!JSON.stringify(events).includes('Bartholomew'), 'the trail holds no text and no identifier');
    });

    test('every value is bounded, and a bad request is a 400 naming the field, never quoting it', async () => {
      const bad = async (input: Record<string, unknown>, field: RegExp): Promise<void> => {
        const { status, body } = await t.call('anonymise_scrub', input, { token: f.tokens.sysadmin });
        assert.equal(status, 400, JSON.stringify(body));
        assert.match(JSON.stringify(body), field);
        assert.ok(!JSON.stringify(body).includes('Nowak'));
      };
      await bad({ patient: { words: ['Nowak'] } }, /text/);
      await bad({ text: { a: 'Nowak' }, patient: { surnames: ['Nowak'] } }, /surnames/);
      await bad({ text: { a: 'Nowak' }, patient: { dates: ['Nowak'] } }, /not a date/);
      await bad({ text: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`t${i}`, 'Nowak'])) }, /text/);
      await bad({ text: { a: 'Nowak' }, patient: { words: Array.from({ length: 1001 }, () => 'Nowak') } }, /words/);
    });
  });
}

describe('platform anonymise scrub', () => {
  let t: TestHost;
  let dir: string;
  let platformIni: string;
  before(async () => {
    t = await startTestHost('sqlite', { pluginNames: ['anonymiser-crate'] });
    platformIni = writeTestConfig(t.db, ['anonymiser-crate']);
    dir = mkdtempSync(join(tmpdir(), 'anon-scrub-cli-'));
  });
  after(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('scrubs stdin for the identifiers in a file and prints the text', async () => {
    writeFileSync(join(dir, 'ids.json'), JSON.stringify({ patient: { words: ['Katarzyna Nowak'], numbers: ['0114 496 0158'] }, third_party: { words: ['Jan Kowalski'] } }));
    const run = await runCli(['--config', platformIni, 'anonymise', 'scrub', '--identifiers', join(dir, 'ids.json')], {}, 'NOWAK, Katarzyna (tel. +44 114 496 0158) came with Jan Kowalski.\n');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '[__PPP__], [__PPP__] (tel. [__PPP__]) came with [__TTT__] [__TTT__].\n');
  });

  test('refuses identifiers that are not a JSON object of settings, naming the problem', async () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ patient: { colours: ['blue'] } }));
    const bad = await runCli(['--config', platformIni, 'anonymise', 'scrub', '--identifiers', join(dir, 'bad.json')], {}, 'text');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /\/patient must NOT have additional properties/);
    const missing = await runCli(['--config', platformIni, 'anonymise', 'scrub'], {}, 'text');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--identifiers is required/);
  });
});
