// The contract every FileCheck must keep, run by each implementation's tests (a third-party
// plugin imports runFileCheckContract from the package's `testing` entry). It holds a check to
// the FileCheck JSDoc: `appliesTo` decides from the file's description alone and the same way
// every time; `check` answers `ok` for good files and a refusal with a reason for bad ones,
// never changes the file, and stops when its signal is aborted (a job's time limit or shutdown)
// by rejecting, never by passing a file it did not check.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CheckedFile, FileCheck } from '../../core/api.js';

/** A file a check is handed: its name as received, sniffed type and bytes. */
export interface FileCheckSample {
  name: string;
  mimeType: string;
  content: Buffer;
}

/** What a check's test hands the contract. */
export interface FileCheckContractSubject {
  check: FileCheck;
  /** Files it applies to and passes. */
  passed: FileCheckSample[];
  /** Files it applies to and refuses. */
  refused: FileCheckSample[];
  /** Files it does not apply to. */
  ignored: FileCheckSample[];
  cleanup?(): Promise<void>;
}

/** How a check's test suite hands the contract its subject. */
export interface FileCheckContractOptions {
  /** Shown in the suite's title. */
  name: string;
  make(): Promise<FileCheckContractSubject>;
}

/** Registers the contract suite (a node:test `describe`) for one file check. */
export function runFileCheckContract(options: FileCheckContractOptions): void {
  describe(`FileCheck contract: ${options.name}`, () => {
    let subject: FileCheckContractSubject;
    let dir: string;
    before(async () => {
      subject = await options.make();
      dir = mkdtempSync(join(tmpdir(), 'file-check-contract-'));
    });
    after(async () => {
      await subject?.cleanup?.();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** The sample as distribution hands it: a read-only file in a folder of its own. */
    function handed(sample: FileCheckSample): CheckedFile {
      const folder = mkdtempSync(join(dir, 'file-'));
      const path = join(folder, sample.name);
      writeFileSync(path, sample.content, { flag: 'wx' });
      chmodSync(path, 0o440);
      return { name: sample.name, path, mimeType: sample.mimeType, size: sample.content.length, sha256: createHash('sha256').update(sample.content).digest('hex') };
    }

    async function run(sample: FileCheckSample, signal = new AbortController().signal): Promise<Awaited<ReturnType<FileCheck['check']>>> {
      const file = handed(sample);
      const result = await subject.check.check(file, signal);
      assert.equal(createHash('sha256').update(readFileSync(file.path)).digest('hex'), file.sha256, `${sample.name}: the file is unchanged`);
      return result;
    }

    it('has a name to be named by in refusals', () => {
      assert.match(subject.check.name, /^[a-z0-9][a-z0-9._-]*$/);
    });

    it('applies to the files it checks and not to others, the same way every time', () => {
      for (const sample of [...subject.passed, ...subject.refused]) {
        const file = handed(sample);
        assert.equal(subject.check.appliesTo(file), true, `${sample.name} (${sample.mimeType})`);
        assert.equal(subject.check.appliesTo(file), true, `${sample.name}: again`);
      }
      for (const sample of subject.ignored) assert.equal(subject.check.appliesTo(handed(sample)), false, `${sample.name} (${sample.mimeType})`);
    });

    it('passes good files, leaving them unchanged', async () => {
      assert.ok(subject.passed.length > 0, 'the subject names at least one file that passes');
      for (const sample of subject.passed) assert.equal((await run(sample)).ok, true, sample.name);
    });

    it('refuses bad files with a reason, leaving them unchanged', async () => {
      assert.ok(subject.refused.length > 0, 'the subject names at least one file it refuses');
      for (const sample of subject.refused) {
        const result = await run(sample);
        assert.equal(result.ok, false, sample.name);
        if (!result.ok) assert.ok(result.reason.trim().length > 10, `${sample.name}: "${result.reason}" says why`);
      }
    });

    it('gives the same answer for the same file', async () => {
      for (const sample of [...subject.passed, ...subject.refused]) assert.deepEqual(await run(sample), await run(sample), sample.name);
    });

    it('stops when its signal is aborted, without passing the file', async () => {
      const sample = subject.passed[0];
      assert.ok(sample, 'the subject names a file that passes');
      const controller = new AbortController();
      controller.abort(new Error('the job ran out of time'));
      const outcome = await run(sample, controller.signal).then((result) => result, (error: unknown) => ({ rejected: error }));
      assert.ok(!('ok' in outcome && outcome.ok), 'an aborted check did not pass the file');
    });
  });
}
