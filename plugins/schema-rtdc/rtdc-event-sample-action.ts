// The `rtdc_event_sample` action: an even, deterministic sample of events of some scalar
// features of a checked RT-DC resource, for scatter plots. It answers from the sample the
// check stored (rtdc-sample-store.ts): no file is read and no process started. Permission is
// read access to the resource's dataset (resource_show's); answers are kept as text for a
// minute, keyed by the resource's file and state, so repeated plots cost one lookup.
import { ConflictError, DatasetServiceId, ValidationError, type ActionContext, type ActionDefinition } from '../../core/api.js';
import type { RtdcSampleStore } from './rtdc-sample-store.js';

/** Most events one answer may hold. */
export const MAX_SAMPLE = 20_000;
const DEFAULT_SAMPLE = 2000;
/** Answers kept, and for how long. */
const CACHE_ENTRIES = 256;
const CACHE_MS = 60_000;

/** The action's answer. */
export interface EventSampleAnswer {
  resource_id: string;
  total_events: number;
  features: string[];
  count: number;
  /** `events[feature][k]`: the k-th sampled event; null where the file holds NaN or ±Infinity. */
  events: Record<string, Array<number | null>>;
}

/**
 * The action.
 * @param store - the samples the checks stored
 */
export function eventSampleAction(store: RtdcSampleStore): ActionDefinition {
  const cache = new Map<string, { text: string; expires: number }>();

  async function answer(input: Record<string, unknown>, ctx: ActionContext): Promise<string> {
    const { resource } = await ctx.services.get(DatasetServiceId).showResource(String(input.id), ctx);
    const metadata = (resource.metadata ?? {}) as Record<string, unknown>;
    if (!resource.name.toLowerCase().endsWith('.rtdc')) throw new ConflictError(`resource "${resource.name}" is not an RT-DC file`);
    if (resource.state !== 'active') throw new ConflictError(`resource "${resource.name}" is ${resource.state}; events can be sampled once its check has passed (state active)`);
    // Sorted: the stored metadata's key order depends on the database.
    const scalar = Object.keys((metadata['dc:statistics'] ?? {}) as Record<string, unknown>).sort();
    const requested = Array.isArray(input.features) ? (input.features as string[]) : undefined;
    const features = requested ?? (['area_um', 'deform'].every((f) => scalar.includes(f)) ? ['area_um', 'deform'] : scalar.slice(0, 2));
    const unknown = features.filter((f) => !scalar.includes(f));
    if (unknown.length) throw new ValidationError('unknown features', { features: [`${unknown.join(', ')} ${unknown.length > 1 ? 'are not scalar features' : 'is not a scalar feature'} of this file; it has ${scalar.join(', ') || 'none'}`] });
    const limit = typeof input.limit === 'number' ? input.limit : DEFAULT_SAMPLE;
    const key = JSON.stringify([resource.id, resource.location, resource.modifiedAt, features, limit]);
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.expires > now) return hit.text;
    const stored = await store.read(resource.id, features);
    if (!stored || stored.location !== resource.location) {
      throw new ConflictError(`resource "${resource.name}" has no stored event sample: it was checked before samples were kept; storing its file again checks it and keeps one`);
    }
    const text = JSON.stringify(subsample(resource.id, stored.totalEvents, features, stored.values, limit));
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, { text, expires: now + CACHE_MS });
    return text;
  }

  return {
    name: 'rtdc_event_sample',
    kind: 'read',
    help: 'An even sample of the events of an RT-DC resource, for scatter plots, from the sample its check stored. Required: id (resource). Optional: features (scalar features; default area_um and deform, or the first two present in alphabetical order), limit (default 2000, at most 20000; at most the stored sample, [plugin:schema-rtdc] sample_events).',
    inputSchema: {
      type: 'object', required: ['id'], additionalProperties: false,
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 100 },
        features: { type: 'array', minItems: 1, maxItems: 16, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } },
        limit: { type: 'integer', minimum: 1, maximum: MAX_SAMPLE },
      },
    },
    readJson: answer,
    async run(input, ctx) {
      return JSON.parse(await answer(input, ctx)) as EventSampleAnswer;
    },
  };
}

/**
 * `limit` of the stored events, spread evenly over them (position k is floor(k * stored / count)),
 * so that a smaller answer holds a subset of the events of a larger one.
 */
function subsample(resourceId: string, totalEvents: number, features: string[], values: Record<string, Float64Array>, limit: number): EventSampleAnswer {
  const stored = values[features[0]!]!.length;
  const count = Math.min(limit, stored);
  const positions = Array.from({ length: count }, (_, k) => Math.floor((k * stored) / count));
  const events: Record<string, Array<number | null>> = {};
  for (const feature of features) {
    const column = values[feature]!;
    events[feature] = positions.map((p) => (Number.isFinite(column[p]!) ? column[p]! : null));
  }
  return { resource_id: resourceId, total_events: totalEvents, features, count, events };
}
