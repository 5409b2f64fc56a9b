// Stand-ins, in test code only, for actions other work provides: search facets on
// package_search (CKAN's `search_facets` for `facet.field`) and `rtdc_event_sample`. They
// follow the agreed shapes so the pages can be tested now; remove them once the real
// actions are on the main line.
import type { ActionDefinition, PluginDefinition } from '../../../core/api.js';
import { definePlugin, Actions, DatasetServiceId, NotFoundError } from '../../../core/api.js';

interface Found { count: number; results: Array<{ organization?: { name: string; title?: string } | null; tags?: Array<{ name: string }>; license_id?: string | null; resources?: Array<Record<string, unknown> & { format?: string }> }> }

/** package_search wrapped: answers `search_facets` for organization, tags, license_id, res_format and res_extras_KEY. */
const facetedSearch: ActionDefinition = {
  name: 'package_search',
  kind: 'read',
  help: 'Stand-in: package_search with search_facets.',
  chain: true,
  async run(input, ctx, next) {
    const fields: string[] = typeof input['facet.field'] === 'string' ? (JSON.parse(input['facet.field']) as string[]) : [];
    const answer = (await next!(input, ctx)) as Found & Record<string, unknown>;
    if (!fields.length) return answer;
    const all = (await next!({ ...input, rows: 1000, start: 0 }, ctx)) as Found;
    const facets: Record<string, { title: string; items: Array<{ name: string; display_name: string; count: number }> }> = {};
    for (const field of fields) {
      const counts = new Map<string, { display: string; count: number }>();
      const add = (name: string | undefined | null, display?: string): void => {
        if (!name) return;
        const entry = counts.get(name) ?? { display: display ?? name, count: 0 };
        entry.count++;
        counts.set(name, entry);
      };
      for (const d of all.results) {
        if (field === 'organization') add(d.organization?.name, d.organization?.title);
        if (field === 'tags') for (const t of d.tags ?? []) add(t.name);
        if (field === 'license_id') add(d.license_id);
        if (field === 'res_format') for (const f of new Set((d.resources ?? []).map((r) => r.format))) add(f);
        if (field.startsWith('res_extras_')) for (const v of new Set((d.resources ?? []).map((r) => r[field.slice('res_extras_'.length)]))) if (v !== undefined && v !== null) add(String(v));
      }
      facets[field] = { title: field, items: [...counts].map(([name, { display, count }]) => ({ name, display_name: display, count })).sort((a, b) => b.count - a.count) };
    }
    return { ...answer, search_facets: facets };
  },
};

/** rtdc_event_sample from the stored statistics: evenly spread, deterministic values between each feature's min and max. */
const eventSample: ActionDefinition = {
  name: 'rtdc_event_sample',
  kind: 'read',
  help: 'Stand-in: an event sample made from the stored statistics.',
  async run(input, ctx) {
    const { resource } = await ctx.services.get(DatasetServiceId).showResource(String(input.id), ctx);
    const stats = resource.metadata['dc:statistics'] as Record<string, { count: number; min?: number; max?: number }> | undefined;
    if (!stats) throw new NotFoundError('no event sample for this resource');
    const features = (input.features as string[] | undefined) ?? ['area_um', 'deform'];
    const total = Math.max(...Object.values(stats).map((s) => s.count));
    const count = Math.min(total, Number(input.limit ?? 5000));
    const events: Record<string, number[]> = {};
    features.forEach((f, k) => {
      const s = stats[f];
      if (!s) return;
      const lo = s.min ?? 0;
      const hi = s.max ?? 1;
      events[f] = Array.from({ length: count }, (_, i) => lo + ((hi - lo) * ((i * (k + 3)) % (count + 1))) / Math.max(1, count));
    });
    return { resource_id: input.id, total_events: total, features, count, events };
  },
};

/** The stand-in plugin. */
export const standIns: PluginDefinition = definePlugin({
  name: 'web-test-stand-ins',
  version: '0.0.0',
  register(ctx) {
    ctx.contribute(Actions, facetedSearch);
    ctx.contribute(Actions, eventSample);
  },
});
