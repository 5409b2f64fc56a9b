// The plugin's parts without a host: MIME sniffing, access-log formats, the remote folders
// CSV, routing rules and the rules file, archive names, and the pdf-identifier check.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sniffMimeType } from '../../../plugins/distribution/mime-sniffer.js';
import { logLineParser, parseTimeLocal } from '../../../plugins/distribution/access-log-format.js';
import { csvRecords, parseRemoteFolders } from '../../../plugins/distribution/remote-folders-csv.js';
import { Router, folderProblem } from '../../../plugins/distribution/routing-rules.js';
import { parseRules } from '../../../plugins/distribution/rules-file.js';
import { dayFolder, moveIntoFolder, numberedName } from '../../../plugins/distribution/archive-folder.js';
import { pdfIdentifierCheck } from '../../../plugins/distribution/pdf-identifier-check.js';
import { makePdf } from './test-pdf.js';

describe('MIME types from bytes', () => {
  it('knows signatures, text and binary, whatever the name says', () => {
    assert.equal(sniffMimeType(makePdf(['x'])), 'application/pdf');
    assert.equal(sniffMimeType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), 'image/png');
    assert.equal(sniffMimeType(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg');
    assert.equal(sniffMimeType(Buffer.from('PK\u0003\u0004rest', 'latin1')), 'application/zip');
    assert.equal(sniffMimeType(Buffer.from('name,value\nÄrger,1\n')), 'text/plain');
    assert.equal(sniffMimeType(Buffer.from([1, 2, 0, 3])), 'application/octet-stream');
    assert.equal(sniffMimeType(Buffer.alloc(0)), 'application/x-empty');
  });
});

describe('access-log formats', () => {
  it('reads nginx combined lines, with the time zone', () => {
    const parse = logLineParser('combined');
    const r = parseTimeLocal('23/Nov/2026:10:00:05 +0100');
    assert.equal(r?.toISOString(), '2026-11-23T09:00:05.000Z');
    const line = '10.1.2.3 - clinic [23/Nov/2026:10:00:05 +0100] "GET /results/bhs/BHS%201.pdf?x=1 HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11)"';
    assert.deepEqual(parse(line), { address: '10.1.2.3', user: 'clinic', at: new Date('2026-11-23T09:00:05Z'), method: 'GET', path: '/results/bhs/BHS 1.pdf', status: 200, userAgent: 'Mozilla/5.0 (X11)' });
    assert.equal(parse('garbage line'), undefined);
  });

  it('reads Apache combined lines (ident field) and common ones', () => {
    const apache = '192.0.2.7 - frank [10/Oct/2026:13:55:36 -0700] "GET /a/report.pdf HTTP/1.0" 200 2326 "http://example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"';
    assert.equal(logLineParser('combined')(apache)?.user, 'frank');
    assert.equal(logLineParser('combined')(apache)?.at?.toISOString(), '2026-10-10T20:55:36.000Z');
    assert.equal(logLineParser('common')('192.0.2.7 - - [10/Oct/2026:13:55:36 -0700] "GET /b.pdf HTTP/1.0" 404 0')?.status, 404);
  });

  it('reads a configured format, and refuses one that cannot name the file', () => {
    const parse = logLineParser('$time_iso8601 $remote_addr "$request_method $request_uri" $status');
    assert.deepEqual(parse('2026-11-23T09:00:05+00:00 10.0.0.9 "GET /x/y.pdf" 206'), { address: '10.0.0.9', user: undefined, at: new Date('2026-11-23T09:00:05Z'), method: 'GET', path: '/x/y.pdf', status: 206, userAgent: undefined });
    assert.throws(() => logLineParser('$remote_addr $status'), /has none of \$request, \$request_uri, \$uri/);
  });
});

describe('remote folders CSV', () => {
  it('keeps good rows and names bad ones by line, quotes and all', () => {
    assert.deepEqual(csvRecords('a,"b ""q""",c\r\n\r\n"multi\nline",2,3\n').map((r) => [r.line, r.fields]), [[1, ['a', 'b "q"', 'c']], [3, ['multi\nline', '2', '3']]]);
    const parsed = parseRemoteFolders('\uFEFFlabel,tag,folder,base\nbhs,A,a/b,web\nbhs,A,c,web\nb h s,B,b,web\nbhs,C,/abs,web\nbhs,D,d,ftp\n', new Set(['web']));
    assert.deepEqual(parsed.rows, [{ label: 'bhs', tag: 'A', folder: 'a/b', base: 'web' }]);
    assert.deepEqual(parsed.bad, [
      { line: 3, reason: 'label "bhs" and tag "A" already appear on line 2' },
      { line: 4, reason: 'label "b h s" must be 1-100 letters, digits and . _ -' },
      { line: 5, reason: 'folder "/abs" must be relative, with / between parts' },
      { line: 6, reason: 'base "ftp" is not a destination of the rules file (web)' },
    ]);
    assert.match(parseRemoteFolders('a,b\n1,2\n', new Set()).bad[0]!.reason, /the first line must name the columns label,tag,folder,base/);
  });

  it('refuses folders that climb out', () => {
    assert.equal(folderProblem('a/b'), undefined);
    assert.match(folderProblem('a/../b')!, /must not contain/);
  });
});

describe('routing', () => {
  const rows = new Map([['bhs\u0000BHS', { label: 'bhs', tag: 'BHS', folder: 'bhs', base: 'web' }], ['day\u000020261105', { label: 'day', tag: '20261105', folder: 'special-day', base: 'web' }]]);
  const lookup = async (label: string, tag: string) => rows.get(`${label}\u0000${tag}`);
  const { rules } = parseRules(JSON.stringify({
    destinations: { web: { kind: 'folder', path: '/srv/out' } },
    rules: [
      { label: 'bhs', pattern: '^(?<site>[A-Z]{3})\\d+', capture: 'site' },
      { label: 'day', router: 'by-day', pattern: '_(\\d{8})\\.pdf$', base: 'web', folder: 'days/{yyyy}/{mm}/{dd}' },
      { label: 'mime', router: 'by-mime', base: 'web', folder: 'types/{subtype}' },
    ],
  }), '/');
  const router = new Router(rules, lookup);
  const at = new Date('2026-01-02T03:04:05Z');

  it('takes the first rule that routes: table, then by day, then by MIME type', async () => {
    assert.deepEqual(await router.route({ name: 'BHS12_x.pdf', mimeType: 'application/pdf', receivedAt: at }), { route: { label: 'bhs', tag: 'BHS', base: 'web', folder: 'bhs' } });
    assert.deepEqual(await router.route({ name: 'XYZ12_20261106.pdf', mimeType: 'application/pdf', receivedAt: at }), { route: { label: 'day', tag: '20261106', base: 'web', folder: 'days/2026/11/06' } });
    assert.deepEqual(await router.route({ name: 'r_20261105.pdf', mimeType: 'application/pdf', receivedAt: at }), { route: { label: 'day', tag: '20261105', base: 'web', folder: 'special-day' } }, 'a table row overrides the template');
    assert.deepEqual(await router.route({ name: 'r_20261340.pdf', mimeType: 'image/png', receivedAt: at }), { route: { label: 'mime', tag: 'image/png', base: 'web', folder: 'types/png' } }, 'not a date: the next rule');
  });

  it('says why a file is unroutable', async () => {
    const only = new Router(rules.slice(0, 1), lookup);
    assert.deepEqual(await only.route({ name: 'QQQ1.pdf', mimeType: 'application/pdf', receivedAt: at }), { unroutable: 'rule "bhs" gave tag "QQQ", which has no row in the remote folders table' });
    assert.deepEqual(await only.route({ name: 'lower.pdf', mimeType: 'application/pdf', receivedAt: at }), { unroutable: 'no routing rule matches the name' });
    assert.deepEqual(await new Router([], lookup).route({ name: 'a.pdf', mimeType: 'application/pdf', receivedAt: at }), { unroutable: 'no routing rules are configured (rules_file)' });
  });

  it('takes a platform destination\'s credentials from a .dcor-access token with a password file, or a token file, not both', () => {
    const parsed = parseRules(JSON.stringify({ destinations: { p: { kind: 'platform', url: 'https://peer.example.org', dataset: 'inbox', access_token: 'lab.dcor-access', password_file: 'lab.password' } }, rules: [{ label: 'p', router: 'by-mime', base: 'p', folder: '' }] }), '/etc/dist', 'rules.json');
    assert.deepEqual(parsed.destinations.get('p'), { kind: 'platform', name: 'p', url: 'https://peer.example.org/', dataset: 'inbox', accessToken: { file: '/etc/dist/lab.dcor-access', passwordFile: '/etc/dist/lab.password' } });
    assert.throws(
      () => parseRules(JSON.stringify({ destinations: { both: { kind: 'platform', url: 'http://peer', dataset: 'inbox', access_token: 'a', password_file: 'p', token_file: 't' }, nopass: { kind: 'platform', url: 'http://peer', dataset: 'inbox', access_token: 'a' }, none: { kind: 'platform', url: 'http://peer', dataset: 'inbox' } }, rules: [] }), '/', 'rules.json'),
      (error: Error) => {
        assert.match(error.message, /destination "both": give either "access_token" \(with "password_file"\) or "token_file" \(and "cert_file"\), not both/);
        assert.match(error.message, /destination "nopass": "access_token" needs "password_file"/);
        assert.match(error.message, /destination "none" \(platform\) needs "access_token" \(a \.dcor-access file, with "password_file"\) or "token_file"/);
        return true;
      },
    );
  });

  it('lists every problem of a rules file at once, and refuses credentials in URLs', () => {
    assert.throws(
      () => parseRules(JSON.stringify({ destinations: { a: { kind: 'webdav', url: 'https://user:pw@example.org/' }, b: { kind: 'smtp' } }, rules: [{ label: 'x y' }, { label: 'ok', pattern: '(' }, { label: 'd', router: 'by-day', base: 'nowhere', folder: '../up' }] }), '/', 'rules.json'),
      (error: Error) => {
        assert.match(error.message, /destination "a": put no credentials in the url/);
        assert.match(error.message, /destination "a": an https destination needs "cert_file"/);
        assert.match(error.message, /destination "b": kind must be folder, webdav, dataset or platform/);
        assert.match(error.message, /rule 1: "label" must be/);
        assert.match(error.message, /rule 2: "pattern" is not a regular expression/);
        assert.match(error.message, /rule 3: "base" names destination "nowhere", which is not declared; rule 3: folder "\.\.\/up"/);
        assert.doesNotMatch(error.message, /pw@/, 'the password is not repeated');
        return true;
      },
    );
  });
});

describe('archive folders', () => {
  it('files by day, keeps names, and numbers collisions instead of overwriting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dist-archive-'));
    try {
      const day = dayFolder(join(dir, 'archive'), new Date('2026-11-05T23:59:59Z'));
      assert.equal(day, join(dir, 'archive', '2026', '11', '05'));
      assert.equal(numberedName('a.b.pdf', 3), 'a.b (3).pdf');
      for (const content of ['one', 'two', 'three']) {
        writeFileSync(join(dir, 'in.pdf'), content);
        await moveIntoFolder(join(dir, 'in.pdf'), day, 'r.pdf');
      }
      assert.deepEqual(readdirSync(day).sort(), ['r (2).pdf', 'r (3).pdf', 'r.pdf']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pdf-identifier check (pdftotext)', () => {
  it('finds the identifier from the name on any page, and says when it is not there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dist-pdf-'));
    try {
      const check = pdfIdentifierCheck(/^([A-Z]{3}\d+)/);
      const file = (name: string, bytes: Buffer) => {
        writeFileSync(join(dir, name), bytes);
        return { name, path: join(dir, name), mimeType: 'application/pdf', size: bytes.length, sha256: '' };
      };
      const signal = new AbortController().signal;
      assert.deepEqual(await check.check(file('ABC123_r.pdf', makePdf(['cover page', 'Patient ABC123', 'notes'])), signal), { ok: true, detail: 'identifier "ABC123" found on page 2' });
      assert.deepEqual(await check.check(file('ABC124_r.pdf', makePdf(['Patient ABC999'])), signal), { ok: false, reason: 'identifier "ABC124" from the file name appears on none of its 1 page(s) of text' });
      assert.deepEqual(await check.check(file('lower.pdf', makePdf(['x'])), signal), { ok: false, reason: 'the name "lower.pdf" holds no identifier (identifier_pattern ^([A-Z]{3}\\d+) does not match)' });
      const broken = await check.check(file('ABC125.pdf', Buffer.from('%PDF-1.4 truncated')), signal);
      assert.equal(broken.ok, false);
      assert.match((broken as { reason: string }).reason, /pdftotext could not read it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
