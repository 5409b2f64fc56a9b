// A local-folder destination writes only inside its folder: a sent name or a routing rule's
// folder holding `..`, a separator or an absolute path is refused (not retried), and nothing
// is written outside.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalFolderTarget } from '../../../plugins/distribution/local-folder-target.js';
import { DeliveryError, type OutgoingFile } from '../../../plugins/distribution/delivery-target.js';

function file(name: string): OutgoingFile {
  const bytes = Buffer.from('result\n');
  return { name, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), open: () => Readable.from([bytes]) };
}

describe('local folder destination keeps to its folder', () => {
  let base: string;
  let root: string;
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'folder-escape-'));
    root = join(base, 'dest');
    mkdirSync(root);
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('refuses names and folders that lead out of it, writing nothing anywhere', async () => {
    const target = new LocalFolderTarget('lab', root);
    const signal = new AbortController().signal;
    const attempts: Array<[string, string]> = [
      ['', '../escaped.txt'], ['', '..'], ['', '/etc/escaped.txt'], ['', 'a/../../escaped.txt'], ['', 'sub\\..\\..\\escaped.txt'],
      ['../..', 'escaped.txt'], ['ok/../..', 'escaped.txt'], ['', 'nul\u0000.txt'],
    ];
    for (const [folder, name] of attempts) {
      await assert.rejects(target.send(file(name), folder, signal), (error: unknown) => error instanceof DeliveryError && !error.retryable && /would leave its folder/.test(error.message), `${folder} + ${name}`);
    }
    assert.deepEqual(readdirSync(root), []);
    assert.deepEqual(readdirSync(base), ['dest']);
    assert.equal(existsSync('/etc/escaped.txt'), false);
  });

  it('still delivers ordinary names into sub-folders', async () => {
    const target = new LocalFolderTarget('lab', root);
    const copy = await target.send(file('report 1.pdf'), 'clinic/2026', new AbortController().signal);
    assert.equal(copy.location, 'clinic/2026/report 1.pdf');
    assert.ok(existsSync(join(root, 'clinic', '2026', 'report 1.pdf')));
  });
});
