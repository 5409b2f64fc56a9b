// schema-rtdc: checks every stored `.rtdc` resource against the RT-DC format and extracts
// its metadata, in a contained process with time and memory limits, as part of the
// `resource.inspect` job.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Actions, DatasetSections, definePlugin, Schema, type ResourceInspection } from '../../core/api.js';
import { eventSampleAction } from './rtdc-event-sample-action.js';
import { localFileAccess } from './local-file.js';
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
    },
  },
  register(ctx) {
    const limits = { timeoutMs: Number(ctx.config.timeout_seconds) * 1000, memoryMb: Number(ctx.config.memory_mb), batchSize: Number(ctx.config.batch_size),
      sizes: {
        maxAttributeBytes: Number(ctx.config.max_attribute_bytes), maxRootAttributes: Number(ctx.config.max_root_attributes),
        maxMembers: Number(ctx.config.max_members), maxExpansion: Number(ctx.config.max_expansion),
      } };
    const tmpDir = join(ctx.platformConfig.path('platform', 'data_dir')!, 'tmp');
    ctx.contribute(Schema, {
      name: 'rtdc',
      async inspectResource(resource, file, signal): Promise<ResourceInspection | undefined> {
        if (!resource.name.toLowerCase().endsWith('.rtdc')) return undefined;
        if (file.path) return runRtdcInspection(file.path, { ...limits, signal });
        // Depots without local files (S3): copy to a temporary file first.
        const temp = join(tmpDir, `rtdc-${randomUUID()}.rtdc`);
        try {
          await pipeline(await file.open(), createWriteStream(temp, { mode: 0o600 }), { signal });
          return await runRtdcInspection(temp, { ...limits, signal });
        } finally {
          await rm(temp, { force: true });
        }
      },
    });
    ctx.contribute(DatasetSections, rtdcViewSection(ctx.name));
    ctx.contribute(Actions, eventSampleAction(limits, localFileAccess(tmpDir)));
  },
});
