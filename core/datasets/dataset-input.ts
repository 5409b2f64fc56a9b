// Turns CKAN-style package and resource dicts from clients into checked values, reporting
// every problem at once as field errors.
import { addFieldError, type FieldErrors } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import { slugProblem } from '../util/names.js';
import { fileNameProblem } from '../util/file-names.js';

/** Fields core itself understands on a dataset. */
export const CORE_DATASET_FIELDS = [
  'id', 'name', 'title', 'notes', 'type', 'owner_org', 'private', 'state', 'license_id', 'tags', 'extras', 'resources',
] as const;
/** Fields core returns but ignores on input (CKAN clients send whole dicts back). */
export const READ_ONLY_DATASET_FIELDS = [
  'metadata_created', 'metadata_modified', 'creator_user_id', 'organization', 'num_resources', 'num_tags',
] as const;

/** Fields core understands on a resource. */
export const CORE_RESOURCE_FIELDS = ['id', 'package_id', 'name', 'format', 'description', 'url', 'position'] as const;
export const READ_ONLY_RESOURCE_FIELDS = [
  'size', 'sha256', 'state', 'created', 'last_modified', 'depot', 'location', 'metadata',
  // CKAN's own resource fields, which its clients send back with the rest of a dict.
  'url_type', 'mimetype', 'hash', 'metadata_modified',
] as const;

export const MAX_TITLE = 300;
export const MAX_NOTES = 100_000;
export const MAX_TAGS = 100;
const TAG = /^[\p{L}\p{N} _.-]{1,100}$/u;

/** Extras appear at the top level of a package dict, so they may not take core's names. */
const RESERVED_EXTRA_KEYS = new Set<string>([...CORE_DATASET_FIELDS, ...READ_ONLY_DATASET_FIELDS]);
/** Keys that would reach an object's prototype instead of becoming data. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Dataset fields after checking (undefined = not given). */
export interface DatasetInput {
  name?: string;
  title?: string;
  notes?: string;
  type?: string;
  ownerOrg?: string;
  private?: boolean;
  state?: 'draft' | 'active';
  licenseId?: string | null;
  tags?: string[];
  extras?: Record<string, unknown>;
}

/** Resource fields after checking. */
export interface ResourceInput {
  name?: string;
  format?: string;
  description?: string;
  url?: string;
}

function add(fields: FieldErrors, key: string, message: string): void {
  addFieldError(fields, key, message);
}

function stringField(raw: Record<string, unknown>, key: string, fields: FieldErrors, max: number): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    add(fields, key, `must be a string, not ${value === null ? 'null' : typeof value}`);
    return undefined;
  }
  if (value.length > max) add(fields, key, `is ${value.length} characters long; the limit is ${max}`);
  return value;
}

/**
 * Checks a package dict. `extraFields` are the fields the dataset type's schema declares
 * (they go to `extras`); any other field is an error with a did-you-mean. `schemaFields`
 * (those the schema declares, when `extraFields` also holds a dataset's free extras) take
 * their top-level value over the `extras` list's.
 */
export function parseDatasetInput(raw: Record<string, unknown>, extraFields: ReadonlySet<string>, fields: FieldErrors, schemaFields: ReadonlySet<string> = extraFields): DatasetInput {
  const out: DatasetInput = {};
  const known = new Set<string>([...CORE_DATASET_FIELDS, ...READ_ONLY_DATASET_FIELDS, ...extraFields]);
  const extras: Record<string, unknown> = {};
  // With an `extras` list, free extras come from the list alone (CKAN's default type), so a
  // key dropped from the list is dropped even though a shown dict still has it at the top level.
  const listed = Array.isArray(raw.extras);
  for (const [key, value] of Object.entries(raw)) {
    if (extraFields.has(key) && !(CORE_DATASET_FIELDS as readonly string[]).includes(key)) {
      if (!listed || schemaFields.has(key)) extras[key] = value;
    }
    else if (!known.has(key)) add(fields, key, `unknown field${didYouMean(key, known)}`);
  }
  const name = stringField(raw, 'name', fields, 100);
  if (name !== undefined) {
    const problem = slugProblem(name);
    if (problem) add(fields, 'name', problem);
    out.name = name;
  }
  out.title = stringField(raw, 'title', fields, MAX_TITLE);
  out.notes = stringField(raw, 'notes', fields, MAX_NOTES);
  const type = stringField(raw, 'type', fields, 100);
  if (type !== undefined) {
    if (slugProblem(type)) add(fields, 'type', `"${type}" is not a dataset type name`);
    out.type = type;
  }
  out.ownerOrg = stringField(raw, 'owner_org', fields, 100);
  if (raw.private !== undefined) {
    if (typeof raw.private === 'boolean') out.private = raw.private;
    else if (raw.private === 'true' || raw.private === 'false') out.private = raw.private === 'true';
    else add(fields, 'private', 'must be true or false');
  }
  if (raw.state !== undefined) {
    if (raw.state === 'draft' || raw.state === 'active') out.state = raw.state;
    else add(fields, 'state', `must be "draft" or "active", not ${JSON.stringify(raw.state)}`);
  }
  if (raw.license_id !== undefined) {
    if (raw.license_id === null || raw.license_id === '') out.licenseId = null;
    else out.licenseId = stringField(raw, 'license_id', fields, 100);
  }
  if (raw.tags !== undefined) out.tags = parseTags(raw.tags, fields);
  if (raw.extras !== undefined) {
    if (!Array.isArray(raw.extras)) add(fields, 'extras', 'must be a list of {"key": ..., "value": ...}');
    else {
      for (const [i, item] of raw.extras.entries()) {
        const entry = item as { key?: unknown; value?: unknown } | null;
        if (!entry || typeof entry.key !== 'string' || !entry.key) add(fields, 'extras', `item ${i} needs a "key" string`);
        else if (entry.key.length > 100) add(fields, 'extras', `item ${i}: the key is ${entry.key.length} characters long; the limit is 100`);
        else if (RESERVED_EXTRA_KEYS.has(entry.key)) add(fields, 'extras', `item ${i}: "${entry.key}" is a core field; set it directly, not as an extra`);
        else if (FORBIDDEN_KEYS.has(entry.key)) add(fields, 'extras', `item ${i}: "${entry.key}" cannot be used as a key; choose another name`);
        // A dict from package_show carries each extra twice (top level and list). A type's
        // own fields are edited at the top level (ckanext-scheming), free extras in the list
        // (CKAN's default type): each form wins for its kind of key.
        else if (!(schemaFields.has(entry.key) && raw[entry.key] !== undefined)) extras[entry.key] = entry.value;
      }
    }
  }
  if (Object.keys(extras).length) out.extras = extras;
  return out;
}

function parseTags(raw: unknown, fields: FieldErrors): string[] | undefined {
  if (!Array.isArray(raw)) {
    add(fields, 'tags', 'must be a list of tags, as strings or {"name": ...}');
    return undefined;
  }
  if (raw.length > MAX_TAGS) add(fields, 'tags', `has ${raw.length} tags; the limit is ${MAX_TAGS}`);
  const tags: string[] = [];
  for (const item of raw) {
    const name = typeof item === 'string' ? item : (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || !TAG.test(name)) add(fields, 'tags', `tag ${JSON.stringify(name)} must be 1 to 100 letters, digits, spaces, - _ or .`);
    else if (!tags.includes(name)) tags.push(name);
  }
  return tags;
}

/** Checks a resource dict; unknown fields are errors. */
export function parseResourceInput(raw: Record<string, unknown>, fields: FieldErrors): ResourceInput {
  const known = new Set<string>([...CORE_RESOURCE_FIELDS, ...READ_ONLY_RESOURCE_FIELDS]);
  for (const key of Object.keys(raw)) if (!known.has(key)) add(fields, key, `unknown field${didYouMean(key, known)}`);
  const out: ResourceInput = {};
  const name = stringField(raw, 'name', fields, 255);
  if (name !== undefined) {
    // The name is the file name of downloads: the same rules as for tus uploads.
    const problem = name.trim() ? fileNameProblem(name) : 'must not be empty';
    if (problem) add(fields, 'name', problem);
    out.name = name;
  }
  out.format = stringField(raw, 'format', fields, 100);
  out.description = stringField(raw, 'description', fields, MAX_NOTES);
  const url = stringField(raw, 'url', fields, 2000);
  if (url !== undefined && url !== '') {
    try {
      const parsed = new URL(url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') add(fields, 'url', 'must be an http or https URL');
    } catch {
      add(fields, 'url', `"${url.slice(0, 100)}" is not a URL`);
    }
  }
  out.url = url;
  return out;
}

/** Words for search: lowercase letters and digits, split on everything else. */
export function searchWords(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0);
}

/** The text package_search matches `q` against. */
export function searchText(dataset: { name: string; title: string; notes: string; tags: string[] }): string {
  return searchWords([dataset.name, dataset.title, dataset.notes, ...dataset.tags].join(' ')).join(' ');
}
