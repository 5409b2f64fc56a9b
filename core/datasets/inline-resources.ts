// Resources given inside a package dict (package_create, package_update, package_patch), as
// ckanapi and harvesters send them: link resources are created, changed or dropped with the
// dataset in one transaction; files still arrive through resource_create or an upload
// protocol. This file turns the given list into a plan; DatasetService applies it.
import { randomUUID } from 'node:crypto';
import type { FieldErrors } from '../errors.js';
import type { ResourceRecord } from './dataset-types.js';
import { parseResourceInput } from './dataset-input.js';

/** The most resources one package dict may carry. */
export const MAX_INLINE_RESOURCES = 1000;

/** What a package dict's `resources` asks for. */
export interface InlineResourcePlan {
  /** Every resource the dataset has afterwards, in the order given. */
  after: ResourceRecord[];
  created: ResourceRecord[];
  updated: Array<{ previous: ResourceRecord; resource: ResourceRecord }>;
  deleted: ResourceRecord[];
}

function add(fields: FieldErrors, message: string): void {
  (fields.resources ??= []).push(message);
}

/** A file name for a link resource given without one: the last part of its URL's path. */
function nameFromUrl(url: string): string {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).at(-1);
    return last ? decodeURIComponent(last).slice(0, 255) : new URL(url).hostname;
  } catch {
    return 'link';
  }
}

/** CKAN's default: the URL's extension, upper case. */
export function guessFormat(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toUpperCase() : '';
}

/**
 * Plans the resources of a package dict against the dataset's current ones (none for
 * package_create). A given item with the `id` of a current resource keeps it, with the
 * fields given changed; an item without `id` is a new link resource and needs a `url`; a
 * current resource not in the list is deleted, as CKAN's package_update does.
 * Problems go to `fields.resources`, one message per item.
 */
export function planInlineResources(given: unknown, current: readonly ResourceRecord[], datasetId: string, now: Date, fields: FieldErrors): InlineResourcePlan {
  const plan: InlineResourcePlan = { after: [], created: [], updated: [], deleted: [] };
  if (!Array.isArray(given)) {
    add(fields, 'must be a list of resource dicts');
    return plan;
  }
  if (given.length > MAX_INLINE_RESOURCES) {
    add(fields, `has ${given.length} resources; the limit is ${MAX_INLINE_RESOURCES}`);
    return plan;
  }
  const byId = new Map(current.map((r) => [r.id, r]));
  const kept = new Set<string>();
  given.forEach((item, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) return add(fields, `item ${i} must be a resource dict`);
    const raw = item as Record<string, unknown>;
    const itemFields: FieldErrors = {};
    const previous = typeof raw.id === 'string' ? byId.get(raw.id) : undefined;
    // package_id inside a package dict is ignored, as CKAN does: the resource goes to this dataset.
    const { package_id: _packageId, url_type: urlType, ...given } = raw;
    // A dict from package_show also shows the metadata schema checks extracted; it comes back as it went.
    const rest = previous ? Object.fromEntries(Object.entries(given).filter(([key]) => !(key in previous.metadata))) : given;
    const input = parseResourceInput(rest, itemFields);
    for (const [field, messages] of Object.entries(itemFields)) add(fields, `item ${i}: ${field} ${messages.join('; ')}`);
    const position = plan.after.length;
    if (previous) {
      if (kept.has(previous.id)) return add(fields, `item ${i}: resource ${previous.id} is listed twice`);
      kept.add(previous.id);
      // An upload's URL is ours (our download route): only link resources take a new one.
      if (input.url !== undefined && input.url !== previous.url && previous.depot) return add(fields, `item ${i}: the url of an uploaded file cannot change; upload a new file with resource_update`);
      const resource: ResourceRecord = {
        ...previous, name: input.name ?? previous.name, format: input.format ?? previous.format, description: input.description ?? previous.description,
        url: previous.depot ? previous.url : (input.url ?? previous.url), position,
      };
      const changed = (['name', 'format', 'description', 'url', 'position'] as const).some((key) => resource[key] !== previous[key]);
      plan.after.push(changed ? { ...resource, modifiedAt: now } : previous);
      if (changed) plan.updated.push({ previous, resource: { ...resource, modifiedAt: now } });
      return;
    }
    if (raw.id !== undefined && raw.id !== '') return add(fields, `item ${i}: resource "${String(raw.id).slice(0, 100)}" is not one of this dataset's; leave out "id" to add a new resource`);
    if (urlType === 'upload' || !input.url) {
      return add(fields, `item ${i}: a new resource here must be a link (give its "url"); upload files with resource_create (multipart "upload") or an upload protocol`);
    }
    const name = input.name ?? nameFromUrl(input.url);
    const resource: ResourceRecord = {
      id: randomUUID(), datasetId, name, format: input.format ?? guessFormat(name), description: input.description ?? '', url: input.url,
      size: undefined, sha256: undefined, depot: undefined, location: undefined, state: 'active', metadata: {}, position, createdAt: now, modifiedAt: now,
    };
    plan.after.push(resource);
    plan.created.push(resource);
  });
  plan.deleted = current.filter((r) => !kept.has(r.id));
  return plan;
}
