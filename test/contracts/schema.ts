// The contract every Schema must keep, run by each schema plugin's tests (a third-party plugin
// imports runSchemaContract from the package's `testing` entry and hands it its own samples). It
// holds a schema to what the Schema interface's JSDoc promises core: normalising is stable and
// leaves its input alone; validation answers with field messages (never by throwing) and the same
// answer twice; inspection reads a stored file without changing it, answers `undefined` for files
// it does not check, says why a bad file is bad, gives metadata that survives JSON (it is stored
// as JSON), and stops when the job's signal says so; `jsonSchema` knows its types and no others.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { chmodSync, createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionContext, DatasetRecord, DatasetValidationInput, ResourceInspection, ResourceRecord, Schema, StoredFile } from '../../core/api.js';

/** A file for `inspectResource`: its resource name and bytes (or a path to read them from). */
export interface SchemaSampleFile {
  name: string;
  content: Buffer | { path: string };
}

/** What a schema's test hands the contract. */
export interface SchemaContractSubject {
  schema: Schema;
  /** Dataset inputs `validateDataset` must accept (answer `{}`). */
  validDatasets?: DatasetValidationInput[];
  /** Dataset inputs it must refuse, with the fields its messages must name. */
  invalidDatasets?: Array<{ input: DatasetValidationInput; fields: string[] }>;
  /** Files `inspectResource` must find valid. */
  validFiles?: SchemaSampleFile[];
  /** Files it must find invalid. */
  invalidFiles?: SchemaSampleFile[];
  /** Files it does not check (it must answer `undefined`). */
  ignoredFiles?: SchemaSampleFile[];
  /** Dataset types `jsonSchema` knows. */
  types?: string[];
  /** The action context `validateDataset` gets; defaults to one whose services cannot be used. */
  context?: ActionContext;
  cleanup?(): Promise<void>;
}

/** How a schema's test suite hands the contract its subject. */
export interface SchemaContractOptions {
  /** Shown in the suite's title. */
  name: string;
  make(): Promise<SchemaContractSubject>;
}

/** A dataset with every field core fills, for building samples; `change` overrides any of them. */
export function sampleDataset(change: Partial<DatasetRecord> = {}): DatasetRecord {
  const now = new Date('2026-01-02T03:04:05Z');
  return { id: randomUUID(), name: 'sample', title: 'Sample', notes: '', type: 'dataset', ownerOrgId: randomUUID(), private: false, state: 'draft', licenseId: undefined, tags: [], extras: {}, creatorUserId: undefined, createdAt: now, modifiedAt: now, ...change };
}

/** A resource with every field core fills; `change` overrides any of them. */
export function sampleResource(change: Partial<ResourceRecord> = {}): ResourceRecord {
  const now = new Date('2026-01-02T03:04:05Z');
  return { id: randomUUID(), datasetId: randomUUID(), name: 'file.bin', format: '', description: '', url: '', size: undefined, sha256: undefined, depot: 'fs', location: undefined, state: 'validating', metadata: {}, position: 0, createdAt: now, modifiedAt: now, ...change };
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Registers the contract suite (a node:test `describe`) for one schema. */
export function runSchemaContract(options: SchemaContractOptions): void {
  describe(`Schema contract: ${options.name}`, () => {
    let subject: SchemaContractSubject;
    let dir: string;
    before(async () => {
      subject = await options.make();
      dir = mkdtempSync(join(tmpdir(), 'schema-contract-'));
    });
    after(async () => {
      await subject?.cleanup?.();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const context = (action: string): ActionContext =>
      subject.context ?? ({
        action, address: '', requestId: randomUUID(), transaction: undefined, emit: () => undefined,
        actor: { kind: 'anonymous' },
        services: { get: () => { throw new Error('this schema reached for a core service in validateDataset; pass `context` to the contract if it needs one'); } },
      } as unknown as ActionContext);

    /** The input as core hands it to `validateDataset`: normalised first (core normalises before any schema validates). */
    const prepared = (input: DatasetValidationInput): DatasetValidationInput => {
      const normalize = subject.schema.normalizeDataset?.bind(subject.schema);
      return normalize ? { ...input, dataset: normalize(structuredClone(input.dataset)), ...(input.previous ? { previous: normalize(structuredClone(input.previous)) } : {}) } : input;
    };

    /** The sample as a stored file: a read-only copy, so a schema that writes to it fails. */
    function stored(sample: SchemaSampleFile): { resource: ResourceRecord; file: StoredFile; path: string } {
      const path = join(dir, `${randomUUID()}-${sample.name}`);
      writeFileSync(path, Buffer.isBuffer(sample.content) ? sample.content : readFileSync(sample.content.path));
      chmodSync(path, 0o440);
      const size = readFileSync(path).length;
      return { resource: sampleResource({ name: sample.name, size, sha256: sha256(path), location: path }), path, file: { path, open: async () => createReadStream(path) } };
    }

    async function inspect(sample: SchemaSampleFile, signal = new AbortController().signal): Promise<ResourceInspection | undefined> {
      assert.ok(subject.schema.inspectResource, 'the schema inspects files');
      const { resource, file, path } = stored(sample);
      const before = sha256(path);
      const result = await subject.schema.inspectResource(resource, file, signal);
      assert.equal(sha256(path), before, `${sample.name}: the stored file is unchanged`);
      return result;
    }

    it('has a name', () => {
      assert.equal(typeof subject.schema.name, 'string');
      assert.ok(subject.schema.name.length > 0);
    });

    it('normalises to a fixed point, without changing the dataset it was given', (t) => {
      const normalize = subject.schema.normalizeDataset?.bind(subject.schema);
      if (!normalize) return t.skip('this schema does not normalise');
      for (const { dataset } of [...(subject.validDatasets ?? []), ...(subject.invalidDatasets ?? []).map((s) => s.input)]) {
        const copy = structuredClone(dataset);
        const once = normalize(dataset);
        assert.deepEqual(dataset, copy, 'the input is left as it was');
        assert.deepEqual(normalize(structuredClone(once)), once, 'normalising again changes nothing');
      }
    });

    it('accepts valid datasets with no messages', async (t) => {
      if (!subject.schema.validateDataset) return t.skip('this schema does not validate datasets');
      assert.ok((subject.validDatasets ?? []).length > 0, 'the subject names at least one valid dataset');
      for (const input of subject.validDatasets ?? []) assert.deepEqual({ ...(await subject.schema.validateDataset(prepared(input), context(input.action))) }, {}, `${input.dataset.name} (${input.action})`);
    });

    it('answers invalid datasets with messages for the fields at fault, the same every time, without throwing', async (t) => {
      if (!subject.schema.validateDataset) return t.skip('this schema does not validate datasets');
      assert.ok((subject.invalidDatasets ?? []).length > 0, 'the subject names at least one invalid dataset');
      for (const { input, fields } of subject.invalidDatasets ?? []) {
        const errors = await subject.schema.validateDataset(prepared(input), context(input.action));
        for (const field of fields) assert.ok((errors[field]?.length ?? 0) > 0, `${input.dataset.name}: a message for "${field}" in ${JSON.stringify(errors)}`);
        for (const [field, messages] of Object.entries(errors)) {
          assert.ok(Array.isArray(messages) && messages.length > 0, `${field}: a list of messages`);
          for (const message of messages) assert.ok(typeof message === 'string' && message.trim().length > 0, `${field}: messages are text`);
        }
        assert.deepEqual(await subject.schema.validateDataset(prepared(input), context(input.action)), errors, 'the same answer twice');
      }
    });

    it('finds valid files valid, with metadata that survives JSON', async (t) => {
      if (!subject.validFiles?.length) return t.skip('no valid sample files (a third-party schema should name some)');
      for (const sample of subject.validFiles) {
        const result = await inspect(sample);
        assert.ok(result, `${sample.name}: checked`);
        assert.deepEqual(result.problems, [], `${sample.name}: no problems`);
        assert.deepEqual(JSON.parse(JSON.stringify(result.metadata)), result.metadata, `${sample.name}: metadata is JSON (no NaN, Infinity, bigint, Date or undefined)`);
      }
    });

    it('finds invalid files invalid, and says why', async (t) => {
      if (!subject.invalidFiles?.length) return t.skip('no invalid sample files');
      for (const sample of subject.invalidFiles) {
        const result = await inspect(sample);
        assert.ok(result, `${sample.name}: checked`);
        assert.ok(result.problems.length > 0, `${sample.name}: at least one problem`);
        for (const problem of result.problems) assert.ok(typeof problem === 'string' && problem.trim().length > 10, `${sample.name}: "${problem}" says what is wrong`);
        assert.deepEqual(JSON.parse(JSON.stringify(result.metadata)), result.metadata, `${sample.name}: metadata is JSON`);
      }
    });

    it('answers undefined for files it does not check', async (t) => {
      if (!subject.schema.inspectResource) return t.skip('this schema does not inspect files');
      if (!subject.ignoredFiles?.length) return t.skip('no sample files outside its formats');
      for (const sample of subject.ignoredFiles) assert.equal(await inspect(sample), undefined, sample.name);
    });

    it('stops when the job is cancelled, without calling a file valid', async (t) => {
      const sample = subject.validFiles?.[0];
      if (!sample) return t.skip('no valid sample files');
      const controller = new AbortController();
      controller.abort(new Error('the job was cancelled'));
      const outcome = await inspect(sample, controller.signal).then((result) => result, (error: unknown) => error);
      assert.ok(!(outcome && typeof outcome === 'object' && 'problems' in outcome && (outcome as ResourceInspection).problems.length === 0), 'a cancelled inspection did not call the file valid');
    });

    it('gives a JSON Schema for each of its dataset types, and none for an unknown type', (t) => {
      const jsonSchema = subject.schema.jsonSchema?.bind(subject.schema);
      if (!jsonSchema) return t.skip('this schema describes no dataset types');
      for (const type of subject.types ?? []) {
        const found = jsonSchema(type);
        assert.ok(found && typeof found === 'object', `type ${type}`);
        assert.deepEqual(JSON.parse(JSON.stringify(found)), found, `type ${type}: plain JSON`);
      }
      assert.equal(jsonSchema(`no-such-type-${randomUUID()}`), undefined);
    });
  });
}
