// The Schema contribution of schema-json: validates the fields of typed datasets against
// their JSON Schemas (every problem at once), applies the dc type's rules (licences,
// resource names, activation), and the lifecycle rules of DCOR: resources only on drafts;
// once active only the licence (to a less restrictive one), private-to-public and the
// description may change; never back to draft.
import type { ErrorObject } from 'ajv/dist/2020.js';
import { fieldErrors, type DatasetRecord, type DatasetValidationInput, type FieldErrors, type ResourceRecord, type Schema } from '../../core/api.js';
import { normaliseDoi, normaliseReference } from './doi-normaliser.js';
import { validatorOf } from './dataset-type-validators.js';

const RESOURCE_NAME = /^[A-Za-z0-9.,\-_+()[\]]+$/;

/** Rules that can be configured. */
export interface SchemaRules {
  /** Allowed licences, most restrictive first. */
  licenses: string[];
  /** Allowed resource file extensions (lowercase, without the dot). */
  extensions: string[];
  /** Enforce the lifecycle rules. */
  lifecycle: boolean;
}

function add(errors: FieldErrors, field: string, message: string): void {
  (errors[field] ??= []).push(message);
}

function ajvMessage(error: ErrorObject): { field: string; message: string } {
  const path = error.instancePath.replace(/^\//, '').split('/')[0] ?? '';
  if (error.keyword === 'required') return { field: (error.params as { missingProperty: string }).missingProperty, message: 'Missing value' };
  if (error.keyword === 'minItems') return { field: path, message: `give at least ${(error.params as { limit: number }).limit}` };
  if (error.keyword === 'pattern' && path === 'doi') return { field: path, message: 'is not a DOI; use the form 10.1234/abcd' };
  if (error.keyword === 'format') return { field: path, message: `item ${error.instancePath.split('/')[2] ?? ''} is not a URL or DOI`.trim() };
  return { field: path || 'extras', message: error.message ?? 'is invalid' };
}

/** Validates typed datasets. */
export class JsonDatasetSchema implements Schema {
  readonly name = 'json';
  constructor(
    private readonly types: ReadonlyMap<string, object>,
    private readonly rules: SchemaRules,
  ) {}

  jsonSchema(datasetType: string): object | undefined {
    return this.types.get(datasetType);
  }

  /** The dataset type names this plugin knows. */
  typeNames(): string[] {
    return [...this.types.keys()];
  }

  normalizeDataset(dataset: DatasetRecord): DatasetRecord {
    if (dataset.type !== 'dc') return dataset;
    const extras = { ...dataset.extras };
    if (typeof extras.doi === 'string') extras.doi = normaliseDoi(extras.doi);
    if (Array.isArray(extras.references)) extras.references = extras.references.map((r) => (typeof r === 'string' ? normaliseReference(r) : r));
    if (Array.isArray(extras.authors)) extras.authors = extras.authors.map((a) => (typeof a === 'string' ? a.trim() : a));
    return { ...dataset, extras };
  }

  validateDataset({ dataset, previous, resources, action }: DatasetValidationInput): FieldErrors {
    const schema = this.types.get(dataset.type);
    if (!schema) return {};
    const validate = validatorOf(schema);
    const errors: FieldErrors = fieldErrors();
    if (!validate(dataset.extras)) for (const e of validate.errors ?? []) {
      const { field, message } = ajvMessage(e);
      if (!errors[field]?.includes(message)) add(errors, field, message);
    }
    if (dataset.type === 'dc') {
      this.checkLicense(dataset, errors);
      this.checkResources(resources, errors);
      this.checkActivation(dataset, resources, errors);
    }
    if (this.rules.lifecycle && previous) this.checkLifecycle(dataset, previous, action, errors);
    return errors;
  }

  private checkLicense(dataset: DatasetRecord, errors: FieldErrors): void {
    if (!dataset.licenseId) add(errors, 'license_id', `Missing value; choose one of ${this.rules.licenses.join(', ')}`);
    else if (!this.rules.licenses.includes(dataset.licenseId)) add(errors, 'license_id', `"${dataset.licenseId}" is not allowed; choose one of ${this.rules.licenses.join(', ')}`);
  }

  private checkResources(resources: ResourceRecord[], errors: FieldErrors): void {
    const seen = new Set<string>();
    for (const r of resources) {
      if (!RESOURCE_NAME.test(r.name)) add(errors, 'resources', `resource name "${r.name}" contains characters other than letters, digits and . , - _ + ( ) [ ]`);
      const extension = r.name.includes('.') ? r.name.slice(r.name.lastIndexOf('.') + 1).toLowerCase() : '';
      if (!this.rules.extensions.includes(extension)) add(errors, 'resources', `resource "${r.name}" has ${extension ? `the extension ".${extension}"` : 'no extension'}, which is not allowed; use one of ${this.rules.extensions.map((e) => `.${e}`).join(' ')}`);
      if (seen.has(r.name)) add(errors, 'resources', `resource name "${r.name}" is used twice in this dataset`);
      seen.add(r.name);
    }
  }

  private checkActivation(dataset: DatasetRecord, resources: ResourceRecord[], errors: FieldErrors): void {
    if (dataset.state !== 'active') return;
    if (!resources.length) add(errors, 'state', 'a dataset needs at least one resource to be active; create it as a draft (state "draft") and upload first');
    for (const r of resources) {
      if (r.name.toLowerCase().endsWith('.rtdc') && r.state !== 'active') add(errors, 'state', `RT-DC resource "${r.name}" has not passed its check (it is ${r.state}); the dataset can be activated once it has`);
      else if (r.state === 'uploading' || r.state === 'invalid') add(errors, 'state', `resource "${r.name}" is ${r.state}`);
    }
  }

  private checkLifecycle(dataset: DatasetRecord, previous: DatasetRecord, action: string, errors: FieldErrors): void {
    if (action === 'resource_create' && previous.state !== 'draft') add(errors, 'resources', `resources can be added only to draft datasets; "${previous.name}" is ${previous.state}`);
    if (previous.state !== 'active') return;
    if (/^resource_(update|patch|delete)$/.test(action)) add(errors, 'resources', 'the resources of an active dataset cannot change');
    if (dataset.state === 'draft') add(errors, 'state', 'an active dataset cannot go back to draft');
    const frozen: Array<[keyof DatasetRecord, string]> = [['name', 'name'], ['title', 'title'], ['ownerOrgId', 'owner_org'], ['tags', 'tags'], ['extras', 'extras']];
    for (const [key, field] of frozen) {
      if (JSON.stringify(dataset[key]) === JSON.stringify(previous[key])) continue;
      if (key === 'extras') {
        for (const name of new Set([...Object.keys(dataset.extras), ...Object.keys(previous.extras)])) {
          if (JSON.stringify(dataset.extras[name]) !== JSON.stringify(previous.extras[name])) add(errors, name, 'cannot change once the dataset is active');
        }
      } else add(errors, field, 'cannot change once the dataset is active');
    }
    if (previous.private === false && dataset.private === true) add(errors, 'private', 'an active public dataset cannot become private');
    if (dataset.licenseId !== previous.licenseId) {
      const rank = (id: string | undefined): number => (id ? this.rules.licenses.indexOf(id) : -1);
      if (rank(dataset.licenseId) <= rank(previous.licenseId)) add(errors, 'license_id', `an active dataset's licence may only change to a less restrictive one than ${previous.licenseId ?? 'none'} (later in: ${this.rules.licenses.join(', ')})`);
    }
  }
}
