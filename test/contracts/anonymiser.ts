// The contract every Anonymiser must keep, run by each anonymiser plugin's tests (a third-party
// plugin imports runAnonymiserContract and runs it with its own samples). Part of it is what the
// distribution plugin's anonymisation step relies on when a rule names an anonymiser: handed a
// file (kind "file": a path to read, a path to write in a folder that exists), it writes exactly
// one file there, never changes the original, returns counts and the destination it was given,
// and gives the same bytes for the same input and policy (the step keeps a copy and sends it
// again after a crash only if it still hashes the same); it refuses what it cannot anonymise
// with a ValidationError (which the step does not retry) and leaves no file behind; and no
// identifier the sample names survives in what it writes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError, type Anonymiser, type FileRecordDestination, type FileRecordSource, type RecordDestination, type RecordSource } from '../../core/api.js';

/** A file an anonymiser is handed, with the policy of the rule that hands it. */
export interface AnonymiserSampleFile {
  /** The name as received, e.g. `P1001_letter.txt`. */
  name: string;
  /** As distribution sniffs it: `text/plain`, `application/pdf`, ... */
  mimeType: string;
  content: Buffer;
  policy: Record<string, unknown>;
}

/** What a plugin's test hands the contract. */
export interface AnonymiserContractSubject {
  anonymiser: Anonymiser;
  /** Files it must anonymise, each with the identifiers (case-insensitive) that must not be in its output. */
  accepted: Array<AnonymiserSampleFile & { mustNotContain: string[] }>;
  /** Files it must refuse (a format it cannot rewrite, a patient it cannot place). */
  refused: AnonymiserSampleFile[];
  cleanup?(): Promise<void>;
}

/** How a plugin's test suite hands the contract an anonymiser and its samples. */
export interface AnonymiserContractOptions {
  /** Shown in the suite's title. */
  name: string;
  make(): Promise<AnonymiserContractSubject>;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Runs the contract as a `describe` block. */
export function runAnonymiserContract(options: AnonymiserContractOptions): void {
  describe(`Anonymiser contract: ${options.name}`, () => {
    let subject: AnonymiserContractSubject;
    let dir: string;
    let n = 0;
    before(async () => {
      subject = await options.make();
      dir = mkdtempSync(join(tmpdir(), 'anonymiser-contract-'));
    });
    after(async () => {
      await subject?.cleanup?.();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** The source and destination distribution would hand it, in a folder of their own. */
    const handOver = (sample: AnonymiserSampleFile): { source: FileRecordSource; destination: FileRecordDestination; folder: string } => {
      const folder = join(dir, String(++n));
      const out = join(folder, 'out');
      mkdirSync(out, { recursive: true });
      const path = join(folder, sample.name);
      writeFileSync(path, sample.content, { mode: 0o440 });
      return {
        folder: out,
        source: { kind: 'file', description: `distributed file "${sample.name}"`, path, name: sample.name, mimeType: sample.mimeType, size: sample.content.length, sha256: sha256(sample.content) },
        destination: { kind: 'file', description: `anonymised copy of "${sample.name}"`, path: join(out, `.${sample.name}.partial`), name: sample.name },
      };
    };

    it('has a name to be named by', () => {
      assert.equal(typeof subject.anonymiser.name, 'string');
      assert.ok(subject.anonymiser.name.length > 0);
    });

    it('writes one file for each accepted file, leaves the original alone, and reports what it did', async () => {
      assert.ok(subject.accepted.length > 0, 'the subject names at least one file it accepts');
      for (const sample of subject.accepted) {
        const { source, destination, folder } = handOver(sample);
        const result = await subject.anonymiser.anonymise(source, sample.policy, destination);
        assert.deepEqual(readdirSync(folder), [`.${sample.name}.partial`], `${sample.name}: exactly one file, at the destination path`);
        assert.equal(sha256(readFileSync(source.path)), source.sha256, `${sample.name}: the original is unchanged`);
        assert.equal(result.destination, destination, 'the result names the destination it was given');
        assert.ok(Number.isInteger(result.recordsRead) && result.recordsRead >= 0, 'recordsRead is a count');
        assert.ok(Number.isInteger(result.recordsWritten) && result.recordsWritten >= 0 && result.recordsWritten <= Math.max(result.recordsRead, 1), 'recordsWritten is a count, no more than were read');
      }
    });

    it('leaves none of the identifiers a sample names in what it writes', async () => {
      for (const sample of subject.accepted) {
        const { source, destination } = handOver(sample);
        const result = await subject.anonymiser.anonymise(source, sample.policy, destination);
        const written = readFileSync(destination.path, 'utf8').toLowerCase();
        for (const identifier of sample.mustNotContain) assert.ok(!written.includes(identifier.toLowerCase()), `${sample.name}: "${identifier}" survived`);
        // The name it is sent under leaves too: the anonymiser's, or the received one.
        const sentName = (result.name ?? sample.name).toLowerCase();
        for (const identifier of sample.mustNotContain) assert.ok(!sentName.includes(identifier.toLowerCase()), `${sample.name}: "${identifier}" survived in the name it is sent under ("${result.name ?? sample.name}")`);
        if (result.name !== undefined) assert.ok(result.name.length > 0 && !/[/\\\x00-\x1f]/.test(result.name) && result.name !== '.' && result.name !== '..', `${sample.name}: "${result.name}" is a plain file name`);
      }
    });

    it('gives the same bytes for the same file and policy (a kept copy stays valid across a retry)', async () => {
      for (const sample of subject.accepted) {
        const first = handOver(sample);
        const second = handOver(sample);
        await subject.anonymiser.anonymise(first.source, sample.policy, first.destination);
        await subject.anonymiser.anonymise(second.source, sample.policy, second.destination);
        assert.equal(sha256(readFileSync(first.destination.path)), sha256(readFileSync(second.destination.path)), `${sample.name}: repeatable`);
      }
    });

    it('refuses what it cannot anonymise with a ValidationError and a reason, writing nothing', async () => {
      for (const sample of subject.refused) {
        const { source, destination, folder } = handOver(sample);
        await assert.rejects(subject.anonymiser.anonymise(source, sample.policy, destination), (error: unknown) => {
          assert.ok(error instanceof ValidationError, `${sample.name}: a ValidationError (distribution does not retry those), not ${String(error)}`);
          assert.ok((error as Error).message.length > 20, 'the refusal says why');
          return true;
        });
        assert.deepEqual(readdirSync(folder), [], `${sample.name}: nothing written`);
        assert.equal(sha256(readFileSync(source.path)), source.sha256, `${sample.name}: the original is unchanged`);
      }
    });

    it('refuses a source or destination of a kind it does not take, writing nothing', async () => {
      const sample = subject.accepted[0]!;
      const { source, destination, folder } = handOver(sample);
      const pigeon: RecordSource = { kind: 'carrier-pigeon', description: 'a note tied to a bird' };
      const nowhere: RecordDestination = { kind: 'carrier-pigeon', description: 'a bird' };
      await assert.rejects(subject.anonymiser.anonymise(pigeon, sample.policy, destination), ValidationError);
      await assert.rejects(subject.anonymiser.anonymise(source, sample.policy, nowhere), ValidationError);
      assert.deepEqual(readdirSync(folder), []);
    });
  });
}
