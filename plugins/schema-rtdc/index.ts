// schema-rtdc: checks every stored `.rtdc` resource against the RT-DC format and extracts
// its metadata, in a contained process with time and memory limits, as part of the
// `resource.inspect` job; a passing check also keeps a small event sample for scatter plots
// (table rtdc_event_samples), outside the resource's metadata.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Actions, DatabaseId, DatasetSections, definePlugin, EventObserver, Migrations, Schema, type ResourceInspection } from '../../core/api.js';
import { eventSampleAction } from './rtdc-event-sample-action.js';
import { RtdcSampleStore } from './rtdc-sample-store.js';
import { createRtdcEventSamples } from './rtdc-samples-migration.js';
import type { RtdcInspection } from './rtdc-inspection.js';
import { runRtdcInspection } from './run-rtdc-inspection.js';
import { rtdcViewSection } from './rtdc-view-section.js';

export default definePlugin({
  name: 'schema-rtdc',
  version: '0.1.0',
  description: 'RT-DC (HDF5) file checks and metadata extraction with h5wasm in a contained process',
  coreVersion: '^0.1.0',
  config: {
    type: 'object',
    additionalProperties: false,
    properties: {
      timeout_seconds: { type: 'integer', minimum: 1, default: 600, description: 'Time limit of one file check; a file that takes longer is invalid.' },
      memory_mb: { type: 'integer', minimum: 32, default: 512, description: 'Memory limit (MiB) of the contained process that reads one file: heap, WebAssembly memory and native allocations.' },
      batch_size: { type: 'integer', minimum: 1, default: 100000, description: 'Events read at once when computing statistics.' },
      max_attribute_bytes: { type: 'integer', minimum: 1024, default: 1048576, description: 'Largest root attribute (bytes); a larger one is a problem and is not stored.' },
      max_root_attributes: { type: 'integer', minimum: 100, default: 2000, description: 'Most root attributes; a file with more is refused without reading them.' },
      max_members: { type: 'integer', minimum: 10, default: 1000, description: 'Most members of events, events/trace, logs and tables.' },
      max_expansion: { type: 'integer', minimum: 2, default: 1000, description: 'A dataset declaring more than this many times the file size (and over 64 MiB) is refused unread.' },
      sample_events: { type: 'integer', minimum: 0, maximum: 20000, default: 5000, description: 'Events of the sample a passing check keeps for scatter plots (the same events for every scalar feature); 0 keeps none.' },
    },
  },
  register(ctx) {
    const limits = { timeoutMs: Number(ctx.config.timeout_seconds) * 1000, memoryMb: Number(ctx.config.memory_mb), batchSize: Number(ctx.config.batch_size), sampleEvents: Number(ctx.config.sample_events),
      sizes: {
        maxAttributeBytes: Number(ctx.config.max_attribute_bytes), maxRootAttributes: Number(ctx.config.max_root_attributes),
        maxMembers: Number(ctx.config.max_members), maxExpansion: Number(ctx.config.max_expansion),
      } };
    const tmpDir = join(ctx.platformConfig.path('platform', 'data_dir')!, 'tmp');
    const samples = new RtdcSampleStore(() => ctx.services.get(DatabaseId));
    /** Keeps the sample of a passing check (and drops any older one), and leaves it out of the metadata. */
    const kept = async (resourceId: string, location: string | undefined, inspection: RtdcInspection): Promise<ResourceInspection> => {
      const { sample, problems, metadata } = inspection;
      if (inspection.valid && sample && location) await samples.replace(resourceId, location, sample);
      else await samples.remove(resourceId);
      return { problems, metadata };
    };
    ctx.contribute(Schema, {
      name: 'rtdc',
      async inspectResource(resource, file, signal): Promise<ResourceInspection | undefined> {
        if (!resource.name.toLowerCase().endsWith('.rtdc')) return undefined;
        if (file.path) return kept(resource.id, resource.location, await runRtdcInspection(file.path, { ...limits, signal }));
        // Depots without local files (S3): copy to a temporary file first.
        const temp = join(tmpDir, `rtdc-${randomUUID()}.rtdc`);
        try {
          await pipeline(await file.open(), createWriteStream(temp, { mode: 0o600 }), { signal });
          return await kept(resource.id, resource.location, await runRtdcInspection(temp, { ...limits, signal }));
        } finally {
          await rm(temp, { force: true });
        }
      },
    });
    ctx.contribute(DatasetSections, rtdcViewSection(ctx.name));
    ctx.contribute(Migrations, { migrations: [createRtdcEventSamples] });
    ctx.contribute(Actions, eventSampleAction(samples));
    ctx.contribute(EventObserver, { on: {
      'resource.deleted': ({ resource }) => samples.remove(resource.id),
      // Deleting a dataset leaves its resources' states alone: their samples go here.
      'dataset.deleted': ({ dataset }) => samples.removeForDataset(dataset.id),
    } });
  },
});
