// package_* actions: datasets through the CKAN-style API.
import type { ActionContext, ActionDefinition } from '../plugins/hooks/actions.js';
import { DatasetServiceId, OrganizationServiceId, DatabaseId, PermissionServiceId, PlatformConfigId, ReadCacheId } from '../services/service-ids.js';
import { requireAllowed } from './require-allowed.js';
import { DatasetSearch, facetResourceKeys, parseSearchQuery, type SearchQuery } from '../datasets/dataset-search.js';
import { datasetDict, type OrganizationSummary } from '../datasets/dataset-view.js';
import type { DatasetRecord, ResourceRecord } from '../datasets/dataset-types.js';
import { NotFoundError, ValidationError } from '../errors.js';

const idInput = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', minLength: 1, maxLength: 100 } } } as const;

async function organizationOf(ctx: ActionContext, id: string): Promise<OrganizationSummary | undefined> {
  const org = await ctx.services.get(OrganizationServiceId).find(id, ctx.transaction);
  return org ? { id: org.id, name: org.name, title: org.title } : undefined;
}

async function dictOf(ctx: ActionContext, dataset: DatasetRecord, resources?: ResourceRecord[]): Promise<Record<string, unknown>> {
  const list = resources ?? (await ctx.services.get(DatasetServiceId).resourcesOf(dataset.id, ctx.transaction));
  return datasetDict(dataset, list, await organizationOf(ctx, dataset.ownerOrgId));
}

function requireId(input: Record<string, unknown>): string {
  const key = input.id !== undefined ? 'id' : 'name';
  const id = input[key];
  if (id === undefined || id === '') throw new ValidationError('dataset is invalid', { id: ['Missing value'] });
  if (typeof id !== 'string') throw new ValidationError('dataset is invalid', { [key]: [`must be a string (the dataset's name or id), not ${id === null ? 'null' : Array.isArray(id) ? 'a list' : typeof id}`] });
  return id;
}

/** A whole number given as JSON or as a query string, within bounds. */
const count = (max: number) => ({ type: ['integer', 'string'], minimum: 0, maximum: max, pattern: '^\\d{1,9}$' }) as const;

/** The dataset actions. */
export function packageActions(): ActionDefinition[] {
  return [
    {
      name: 'package_show',
      kind: 'read',
      help: 'Returns a dataset with its resources. Parameters: id (name or id).',
      inputSchema: idInput,
      // Public active datasets look the same to everyone: they are kept in the read cache as
      // JSON text, which the HTTP API sends as it is (no object kept on the heap, nothing
      // serialised twice).
      readJson: async (input, ctx) => (await showDataset(input.id as string, ctx)).text,
      run: async (input, ctx) => {
        const shown = await showDataset(input.id as string, ctx);
        return shown.dict ?? (JSON.parse(shown.text) as Record<string, unknown>);
      },
    },
    {
      name: 'package_list',
      kind: 'read',
      help: 'Returns the names of public active datasets. Parameters: limit, offset.',
      inputSchema: { type: 'object', additionalProperties: false, properties: { limit: count(100_000_000), offset: count(100_000_000) } },
      run: async (input, ctx) => {
        await requireAllowed(ctx, input);
        const limit = Math.min(Number(input.limit ?? 1000), 1000);
        const offset = Number(input.offset ?? 0);
        const rows = await ctx.services.get(DatabaseId).models.Dataset.findAll({ where: { state: 'active', private: false }, attributes: ['name'], order: [['name', 'ASC']], limit, offset });
        return rows.map((r) => r.get({ plain: true }).name);
      },
    },
    {
      name: 'package_search',
      kind: 'read',
      help: 'Searches datasets. Parameters: q (words in name, title, notes, tags), fq (field:value terms), rows, start, sort, facet.field (JSON list), facet.limit, facet.mincount. Returns count, results, facets and search_facets.',
      run: async (input, ctx) => {
        await requireAllowed(ctx, input);
        const query = parseSearchQuery(input, facetResourceKeys(ctx.services.get(PlatformConfigId).string('search', 'facet_resource_keys') ?? ''));
        // Anonymous searches see public data only: the same answer for every anonymous caller.
        const cache = ctx.actor.kind === 'anonymous' ? ctx.services.get(ReadCacheId) : undefined;
        const key = `search:${JSON.stringify(query)}`;
        return cache ? cache.load(key, () => searchDatasets(query, ctx)) : searchDatasets(query, ctx);
      },
    },
    {
      name: 'package_create',
      kind: 'write',
      help: 'Creates a dataset. Required: name, owner_org. Optional: title, notes, type, private, state (draft|active), license_id, tags, extras, resources (links, with url), and the fields of the dataset type.',
      run: async (input, ctx) => dictOf(ctx, await ctx.services.get(DatasetServiceId).create(input, ctx), input.resources === undefined ? [] : undefined),
    },
    {
      name: 'package_update',
      kind: 'write',
      help: 'Replaces a dataset\'s fields (fields not given are reset). Required: id.',
      run: async (input, ctx) => {
        const { id: _id, ...rest } = input;
        return dictOf(ctx, await ctx.services.get(DatasetServiceId).update(requireId(input), withoutName(rest, input), true, ctx));
      },
    },
    {
      name: 'package_patch',
      kind: 'write',
      help: 'Changes only the given fields of a dataset. Required: id.',
      run: async (input, ctx) => {
        const { id: _id, ...rest } = input;
        return dictOf(ctx, await ctx.services.get(DatasetServiceId).update(requireId(input), withoutName(rest, input), false, ctx));
      },
    },
    {
      name: 'package_delete',
      kind: 'write',
      help: 'Marks a dataset deleted. Required: id.',
      inputSchema: idInput,
      run: async (input, ctx) => {
        await ctx.services.get(DatasetServiceId).delete(input.id as string, ctx);
        return null;
      },
    },
  ];
}

/** When `id` is given, a `name` in the input is a rename; when only `name` is given it identifies the dataset. */
function withoutName(rest: Record<string, unknown>, input: Record<string, unknown>): Record<string, unknown> {
  if (input.id === undefined) {
    const { name: _name, ...others } = rest;
    return others;
  }
  return rest;
}

/** Runs a search and builds the CKAN answer (count, sort, results with resources and organisations). */
async function searchDatasets(query: SearchQuery, ctx: ActionContext): Promise<Record<string, unknown>> {
  const service = ctx.services.get(DatasetServiceId);
  const search = new DatasetSearch(ctx.services.get(DatabaseId), ctx.services.get(OrganizationServiceId), ctx.services.get(ReadCacheId), (id) => service.readRowById(id));
  const { count, datasets, facets } = await search.search(query, ctx.actor, ctx.transaction);
  return {
    count,
    sort: query.sort,
    facets: facets.facets,
    results: datasets.map(({ dataset, resources, organization }) => datasetDict(dataset, resources, organization)),
    search_facets: facets.search_facets,
  };
}

/** A public active dataset's package dict as JSON text, as the read cache keeps it. */
interface CachedShow {
  text: string;
  id: string;
  ownerOrg: string;
}

/**
 * package_show's answer as JSON text, from the read cache or else from the database (and then
 * with the dict it was made from); public active datasets are stored in the cache, under the
 * name or id asked for (clients mostly use one of them, and each key costs its bytes).
 */
async function showDataset(id: string, ctx: ActionContext): Promise<{ text: string; dict?: Record<string, unknown> }> {
  const cached = await cachedShow(id, ctx);
  if (cached) return { text: cached.text };
  const cache = ctx.services.get(ReadCacheId);
  const generation = cache.current();
  const { dataset, resources, organization } = await ctx.services.get(DatasetServiceId).show(id, ctx);
  const dict = datasetDict(dataset, resources, organization);
  const text = JSON.stringify(dict);
  if (!dataset.private && dataset.state === 'active') {
    const entry: CachedShow = { text, id: dataset.id, ownerOrg: dataset.ownerOrgId };
    cache.set(`show:${id}`, entry, generation, { datasetId: dataset.id, bytes: text.length });
  }
  return { text, dict };
}

/**
 * The cached package_show answer for a name or id, if any and if the caller may have it:
 * only public active datasets are cached, so core's rule passes; policies still decide.
 * @throws NotFoundError when a policy denies it (as for a dataset that does not exist)
 */
async function cachedShow(id: string, ctx: ActionContext): Promise<CachedShow | undefined> {
  const cached = ctx.services.get(ReadCacheId).get<CachedShow>(`show:${id}`);
  if (!cached) return undefined;
  const target = { organizationId: cached.ownerOrg, datasetId: cached.id, datasetState: 'active', datasetPrivate: false };
  if (!(await ctx.services.get(PermissionServiceId).allows({ actor: ctx.actor, action: ctx.action, target, input: {} }, 'visible'))) {
    throw new NotFoundError(`dataset "${id}" not found`);
  }
  return cached;
}
