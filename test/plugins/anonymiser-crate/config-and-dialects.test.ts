// anon.ini validation (secrets only from files or the environment, every problem at once)
// and the dialect-specific SQL, SQL Server's included, checked without a server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAnonConfig } from '../../../plugins/anonymiser-crate/anon-config.js';
import { destinationType, indexStatement, pagedSelect, quoteIdentifier } from '../../../plugins/anonymiser-crate/sql-dialect.js';
import { describeUrl, dialectOf } from '../../../plugins/anonymiser-crate/database-connection.js';
import { ValidationError } from '../../../core/errors.js';

function withDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'anon-config-test-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const good = ['[anonymise]', 'data_dictionary = dd.tsv', 'destination_url = sqlite:dest.sqlite', 'secret_map_url_env = SECRET_URL', 'patient_key_file = p.key', 'master_key_env = MKEY', 'change_key_file = c.key', 'scrub_all_dates = true', 'blur_dates_format = %b %Y', 'scrub_order = nonspecific patient thirdparty', '[source:main]', 'url_file = src.url', '[hash:deid]', 'hash_method = HMAC_SHA512', 'key_file = h.key'].join('\n');

test('a good config resolves secrets from files and the environment', () => {
  withDir((dir) => {
    for (const [f, v] of [['p.key', 'pk\n'], ['c.key', 'ck'], ['h.key', 'hk'], ['src.url', 'postgresql://u:pw@db/x\n']]) writeFileSync(join(dir, f!), v!);
    const config = parseAnonConfig(good, dir, { SECRET_URL: 'sqlite:secret.sqlite', MKEY: 'mk' });
    assert.equal(config.patientKey, 'pk');
    assert.equal(config.masterKey, 'mk');
    assert.equal(config.sources.main, 'postgresql://u:pw@db/x');
    assert.deepEqual(config.hashSections.deid, { method: 'HMAC_SHA512', key: 'hk' });
    assert.equal(config.dataDictionary, join(dir, 'dd.tsv'));
    assert.equal(config.scrubber.nonspecific.blurDatesFormat, '%b %Y');
    assert.deepEqual(config.scrubber.order, ['nonspecific', 'patient', 'thirdparty']);
    assert.equal(config.hashMethod, 'HMAC_SHA256');
  });
});

test('keys written in the config, passwords in URLs and other problems are all reported, without the secret', () => {
  withDir((dir) => {
    const bad = ['[anonymise]', 'destination_url = postgresql://admin:hunter2@db/x', 'patient_key = plain-secret', 'change_key_env = NOPE', 'workers = zero', 'hash_method = SHA1', 'destination_compression = zstd', 'colour = blue', '[source:main]', 'url = sqlite:a', '[weird]'].join('\n');
    let error: ValidationError | undefined;
    try {
      parseAnonConfig(bad, dir, {});
    } catch (e) {
      error = e as ValidationError;
    }
    assert.ok(error instanceof ValidationError);
    const message = error.message;
    for (const expected of [/data_dictionary: missing/, /destination_url: the URL holds a password; move it to destination_url_file/, /patient_key: keys may not be written in the config/, /change_key_env: the environment variable NOPE is not set/, /workers must be a whole number/, /hash_method must be one of/, /destination_compression must be lz4 or default, not "zstd"/, /unknown key "colour"/, /unknown section \[weird\]/, /secret_map_url: missing/, /master_key: missing/]) {
      assert.match(message, expected);
    }
    assert.doesNotMatch(message, /hunter2|plain-secret/);
  });
});

test('extra regexes must compile and may not capture', () => {
  withDir((dir) => {
    for (const [f, v] of [['p.key', 'pk'], ['c.key', 'ck'], ['h.key', 'hk'], ['src.url', 'sqlite:s'], ['extra.txt', 'ok-\\d+\n(capturing)\n[unclosed\n']]) writeFileSync(join(dir, f!), v!);
    assert.throws(() => parseAnonConfig(`${good.replace('[source:main]', 'extra_regexes_file = extra.txt\n[source:main]')}`, dir, { SECRET_URL: 'sqlite:s', MKEY: 'mk' }), (e: Error) => /extra regex 2: use non-capturing/.test(e.message) && /extra regex 3 is not a valid/.test(e.message) && !/extra regex 1/.test(e.message));
  });
});

test('dialects: quoting, types, indexes and keyset pages, SQL Server included', () => {
  assert.equal(dialectOf('mariadb://root@h/db'), 'mysql');
  assert.equal(dialectOf('sqlserver://h/db'), 'mssql');
  assert.equal(dialectOf('oracle://h'), undefined);
  assert.equal(describeUrl('postgresql://u:secret@db.example:5432/x'), 'postgresql://db.example:5432/x');
  assert.equal(quoteIdentifier('mssql', 'note'), '[note]');
  assert.equal(quoteIdentifier('mysql', 'note'), '`note`');
  assert.equal(destinationType('mssql', 'TEXT'), 'NVARCHAR(MAX)');
  assert.equal(destinationType('mssql', 'varchar(50)'), 'NVARCHAR(50)');
  assert.equal(destinationType('postgres', 'DATETIME'), 'TIMESTAMP');
  assert.equal(destinationType('mysql', 'TEXT'), 'LONGTEXT');
  assert.equal(indexStatement('postgres', 'note', 'note_text', 'F', 'TEXT', undefined), `CREATE INDEX "fx_note_note_text" ON "note" USING GIN (to_tsvector('english', COALESCE("note_text", '')))`);
  assert.equal(indexStatement('mysql', 'note', 'note_text', 'F', 'TEXT', undefined), 'CREATE FULLTEXT INDEX `fx_note_note_text` ON `note` (`note_text`)');
  assert.equal(indexStatement('mysql', 'note', 'title', 'I', 'TEXT', 100), 'CREATE INDEX `ix_note_title` ON `note` (`title`(100))');
  assert.equal(indexStatement('mssql', 'note', 'rid', 'U', 'VARCHAR(64)', undefined), 'CREATE UNIQUE INDEX [ux_note_rid] ON [note] ([rid])');
  assert.equal(indexStatement('mssql', 'note', 'note_text', 'F', 'TEXT', undefined), undefined);
  assert.equal(indexStatement('sqlite', 'note', 'note_text', 'F', 'TEXT', undefined), undefined);
  assert.equal(pagedSelect('mssql', 'note', ['[a]', '[b]'], 'a', 10, ['[a] > :after']), 'SELECT TOP (10) [a], [b] FROM [note] WHERE [a] > :after ORDER BY [a]');
  assert.equal(pagedSelect('postgres', 'note', ['md5("a") AS "a"'], 'a', 10, []), 'SELECT md5("a") AS "a" FROM "note" ORDER BY "a" LIMIT 10');
});
