// The `resource.inspect` job: after a file is stored, every schema that inspects files
// reads it; the resource becomes `active` with the merged metadata, or `invalid` with
// every problem. Idempotent: a resource no longer `validating` is left alone.
import type { JobHandler } from '../plugins/hooks/job-handlers.js';
import type { ResourceInspection } from '../plugins/hooks/schema.js';
import { ActionRunnerId, DatasetServiceId, HookRegistriesId, ResourceIntakeId } from '../services/service-ids.js';
import { RESOURCE_INSPECT_JOB } from './resource-inspect-job-type.js';

/** Type of the job. */
export { RESOURCE_INSPECT_JOB } from './resource-inspect-job-type.js';

/** The handler of `resource.inspect`. */
export const resourceInspectionJob: JobHandler = {
  type: RESOURCE_INSPECT_JOB,
  payloadSchema: { type: 'object', required: ['resourceId'], additionalProperties: false, properties: { resourceId: { type: 'string', format: 'uuid' } } },
  timeoutMs: 15 * 60_000,
  maxAttempts: 3,
  async run(payload, job) {
    const resourceId = String(payload.resourceId);
    const runner = job.services.get(ActionRunnerId);
    const actor = { kind: 'system' as const, name: 'job:resource.inspect' };
    const { resource } = await runner.runInTransaction({ actor }, (ctx) => job.services.get(DatasetServiceId).showResource(resourceId, ctx), 'resource_show');
    if (resource.state !== 'validating' || !resource.depot || !resource.location) return { skipped: `resource is ${resource.state}` };
    const depot = job.services.get(ResourceIntakeId).depot(resource.depot);
    if (!depot) throw new Error(`depot "${resource.depot}" of resource ${resourceId} is not enabled`);
    const file = { path: await depot.localPath?.(resource.location), open: () => depot.open(resource.location!) };
    const metadata: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const { plugin, value } of job.services.get(HookRegistriesId).schemas) {
      if (!value.inspectResource) continue;
      let inspection: ResourceInspection | undefined;
      try {
        inspection = await value.inspectResource(resource, file, job.signal);
      } catch (error) {
        if (job.signal.aborted) throw error;
        problems.push(`${plugin}: the check failed: ${(error as Error).message}`);
        continue;
      }
      if (!inspection) continue;
      Object.assign(metadata, inspection.metadata);
      problems.push(...inspection.problems);
    }
    const state = problems.length ? 'invalid' : 'active';
    await runner.runInTransaction({ actor }, (ctx) => job.services.get(DatasetServiceId).setResourceState(resourceId, state, { ...metadata, 'platform:problems': problems }, ctx), 'resource_update');
    return { state, problems };
  },
};
