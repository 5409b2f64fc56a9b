// The `rtdc_event_sample` action: an even, deterministic sample of events of some scalar
// features of a checked RT-DC resource, for scatter plots, read through the same contained
// process as the check. Permission is read access to the resource's dataset (resource_show's).
import { ConflictError, DatasetServiceId, ResourceIntakeId, ValidationError, type ActionDefinition } from '../../core/api.js';
import type { InspectionLimits } from './run-rtdc-inspection.js';
import { sampleRtdcContained } from './run-rtdc-inspection.js';
import type { LocalFileAccess } from './local-file.js';

/** Most events one answer may hold. */
export const MAX_SAMPLE = 20_000;
const DEFAULT_SAMPLE = 2000;

/**
 * The action.
 * @param limits - time and memory limits of the contained process
 * @param localFile - gives a local path of a stored file (a temporary copy for S3 depots)
 */
export function eventSampleAction(limits: InspectionLimits, localFile: LocalFileAccess): ActionDefinition {
  return {
    name: 'rtdc_event_sample',
    kind: 'read',
    help: 'An even sample of the events of an RT-DC resource, for scatter plots. Required: id (resource). Optional: features (scalar features; default area_um and deform, or the first two present in alphabetical order), limit (default 2000, at most 20000).',
    inputSchema: {
      type: 'object', required: ['id'], additionalProperties: false,
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 100 },
        features: { type: 'array', minItems: 1, maxItems: 16, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } },
        limit: { type: 'integer', minimum: 1, maximum: MAX_SAMPLE },
      },
    },
    async run(input, ctx) {
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
      const depot = ctx.services.get(ResourceIntakeId).depot(resource.depot ?? '');
      if (!depot || !resource.location) throw new ConflictError(`the file of resource "${resource.name}" is not in an enabled depot`);
      const sample = await localFile(depot, resource.location, (path) => sampleRtdcContained(path, { features, limit }, limits));
      return { resource_id: resource.id, total_events: sample.total_events, features, count: sample.count, events: sample.events };
    },
  };
}
