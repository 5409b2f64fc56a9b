// Keyed hashes (checked against RFC 4231's HMAC test vector), the canonical row serialisation
// that incremental runs hash, and the value alterers (dates, HTML, hashing, text extraction).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyedHasher } from '../../../plugins/anonymiser-crate/keyed-hasher.js';
import { serialiseRow } from '../../../plugins/anonymiser-crate/row-serialisation.js';
import { alterValue, htmlUnescape, htmlUntag, SKIP_ROW, truncateDate, type AlterContext } from '../../../plugins/anonymiser-crate/value-alterers.js';
import { parseAlterMethods } from '../../../plugins/anonymiser-crate/alter-method.js';
import { fileToText } from '../../../plugins/anonymiser-crate/text-extraction.js';

test('HMAC-SHA256 matches RFC 4231 test case 2; MD5 and SHA512 have their lengths; keys matter', () => {
  const h = new KeyedHasher('HMAC_SHA256', 'Jefe');
  assert.equal(h.hash('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.equal(new KeyedHasher('HMAC_SHA512', 'Jefe').hash('what do ya want for nothing?').slice(0, 16), '164b7a7bfcf819e2');
  assert.equal(new KeyedHasher('HMAC_MD5', 'k').hash('x').length, 32);
  assert.equal(h.hash(42), h.hash('42'));
  assert.notEqual(h.hash('42'), new KeyedHasher('HMAC_SHA256', 'other').hash('42'));
  assert.throws(() => new KeyedHasher('HMAC_SHA256', ''), /must not be empty/);
});

test('keyed hashes equal createHmac for every method, long and non-ASCII keys, text, numbers and bytes', () => {
  const algorithms = { HMAC_SHA256: 'sha256', HMAC_MD5: 'md5', HMAC_SHA512: 'sha512' } as const;
  const keys = ['k', 'clé secrète', 'x'.repeat(64), 'y'.repeat(200)];
  const values: Array<string | number | Buffer> = ['', 'what do ya want for nothing?', 'Zoë ☃ 𝄞', 'z'.repeat(5000), 42, Buffer.from([0, 255, 7])];
  for (const [method, algorithm] of Object.entries(algorithms)) {
    for (const key of keys) {
      const h = new KeyedHasher(method as keyof typeof algorithms, key);
      for (const value of values) {
        const expected = createHmac(algorithm, key).update(Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8')).digest('hex');
        assert.equal(h.hash(value), expected, `${method}, key of ${key.length} characters, value ${String(value).slice(0, 20)}`);
        assert.equal(h.hash(value), expected, 'the same again');
      }
    }
  }
});

test('the row serialisation changes when any covered field changes, and only then', () => {
  const fields = ['id', 'pid', 'name', 'note', 'born', 'doc', 'flag'];
  const row = { id: 1, pid: 7, name: 'Ann', note: 'text', born: new Date('2000-01-02T00:00:00Z'), doc: Buffer.from([1, 2]), flag: true, ignored: 'x' };
  const base = serialiseRow(row, fields);
  assert.equal(base, 'id:n1:1;pid:n1:7;name:s3:Ann;note:s4:text;born:d24:2000-01-02T00:00:00.000Z;doc:x4:0102;flag:b1:1;');
  const changes: Array<[string, unknown]> = [['id', 2], ['pid', '7'], ['name', 'Anne'], ['note', null], ['born', new Date('2000-01-03T00:00:00Z')], ['doc', Buffer.from([1, 3])], ['flag', false]];
  for (const [field, value] of changes) assert.notEqual(serialiseRow({ ...row, [field]: value }, fields), base, `changing ${field}`);
  assert.equal(serialiseRow({ ...row, ignored: 'changed' }, fields), base, 'fields outside the list do not count');
  // Length prefixes keep neighbouring fields apart.
  assert.notEqual(serialiseRow({ a: 'ab', b: 'c' }, ['a', 'b']), serialiseRow({ a: 'a', b: 'bc' }, ['a', 'b']));
  assert.notEqual(serialiseRow({ a: '' }, ['a']), serialiseRow({ a: null }, ['a']));
});

test('long text is serialised by its MD5, whether computed here or read from the database', () => {
  const long = new Set(['note']);
  const md5 = createHash('md5').update('Zoë’s note', 'utf8').digest('hex');
  assert.equal(serialiseRow({ id: 1, note: 'Zoë’s note' }, ['id', 'note'], long), `id:n1:1;note:h32:${md5};`);
  assert.equal(serialiseRow({ id: 1, note: md5.toUpperCase() }, ['id', 'note'], long, true), serialiseRow({ id: 1, note: 'Zoë’s note' }, ['id', 'note'], long));
  assert.notEqual(serialiseRow({ note: 'Zoë’s note.' }, ['note'], long), serialiseRow({ note: 'Zoë’s note' }, ['note'], long));
  assert.equal(serialiseRow({ note: null }, ['note'], long, true), 'note:N0:;');
});

test('truncate_date, html_unescape and html_untag', () => {
  assert.equal(truncateDate('1985-03-17'), '1985-03-01');
  assert.deepEqual(truncateDate(new Date('1985-03-17T10:00:00Z')), new Date('1985-03-01T00:00:00Z'));
  assert.equal(truncateDate('not a date'), 'not a date');
  assert.equal(htmlUnescape('a &amp; b &lt;c&gt; &#233;&#x41; &unknown;'), 'a & b <c> éA &unknown;');
  assert.equal(htmlUntag('<p>Hi <b>Ann</b></p><script>x()</script><br/>bye'), '\nHi Ann\n\nbye');
});

test('alter methods run in order; hash uses its section; failed extraction skips the row only when asked', async () => {
  const ctx: AlterContext = { scrub: (t) => t.replace(/Ann/g, 'X'), hasher: () => new KeyedHasher('HMAC_SHA256', 'Jefe'), row: {}, extractionTimeoutMs: 10_000 };
  const steps = parseAlterMethods('html_untag, html_unescape, scrub');
  assert.deepEqual(steps.problems, []);
  assert.equal(await alterValue('<i>Ann &amp; co</i>', steps.methods, ctx), 'X & co');
  assert.equal(await alterValue('what do ya want for nothing?', parseAlterMethods('hash=deid').methods, ctx), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.equal(await alterValue('/no/such/file.pdf', parseAlterMethods('filename_to_text,skip_if_extract_fails').methods, ctx), SKIP_ROW);
  assert.equal(await alterValue('/no/such/file.pdf', parseAlterMethods('filename_to_text').methods, ctx), null);
  assert.equal(await alterValue(null, steps.methods, ctx), null);
  assert.match(parseAlterMethods('scrub,filename_to_text').problems[0]!, /must come first/);
  assert.match(parseAlterMethods('skip_if_extract_fails').problems[0]!, /modifies binary_to_text or filename_to_text/);
});

test('text comes out of RTF (unrtf) and bytes with a file-name field (binary_to_text), then is scrubbed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'anon-extract-test-'));
  try {
    const rtf = '{\\rtf1\\ansi{\\fonttbl\\f0\\fswiss Helvetica;}\\f0\\pard Letter about Ann Example.\\par}';
    writeFileSync(join(dir, 'letter.rtf'), rtf);
    assert.match(await fileToText(join(dir, 'letter.rtf'), 10_000), /Letter about Ann Example\./);
    const ctx: AlterContext = { scrub: (t) => t.replace(/Ann/g, '[__PPP__]'), hasher: () => { throw new Error('unused'); }, row: { filename: 'letter.rtf' }, extractionTimeoutMs: 10_000 };
    const out = await alterValue(Buffer.from(rtf), parseAlterMethods('binary_to_text=filename,scrub').methods, ctx);
    assert.match(String(out), /Letter about \[__PPP__\] Example\./);
    const unknown = await alterValue(Buffer.from('x'), parseAlterMethods('binary_to_text=filename,skip_if_extract_fails').methods, { ...ctx, row: { filename: 'thing.xyz' } });
    assert.equal(unknown, SKIP_ROW);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
