// Resource intake: where finished files enter the platform. Upload protocols hand a stream
// (or an object already in a depot) to intake, which stores it in the active depot while
// hashing, checks a declared sha256, records size, sha256 and location on the resource,
// writes an audit event and fires `resource.stored` and `upload.completed`.
import type { Readable } from 'node:stream';
import type { Actor } from '../auth/actor.js';
import type { HookRegistries } from '../plugins/hook-registries.js';
import type { Depot, StoredObject } from '../plugins/hooks/depot.js';
import type { ActionRunner } from '../actions/action-runner.js';
import type { DatasetService } from './dataset-service.js';
import type { ResourceRecord } from './dataset-types.js';
import { ConfigError, ValidationError } from '../errors.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { RESOURCE_INSPECT_JOB } from '../jobs/resource-inspect-job-type.js';

/** Who hands a file in, and how. */
export interface IntakeCall {
  actor: Actor;
  address?: string;
  /** Name of the upload protocol, for the `upload.completed` event. */
  protocol: string;
}

/** Stores files and records them on resources. */
export class ResourceIntake {
  constructor(
    private readonly registries: HookRegistries,
    private readonly activeDepotName: string,
    private readonly datasets: DatasetService,
    private readonly actions: ActionRunner,
    private readonly jobs: JobQueue,
  ) {}

  /** The depot new files go to. @throws ConfigError when no plugin provides it. */
  activeDepot(): Depot {
    const depot = this.registries.depots.get(this.activeDepotName);
    if (!depot) throw new ConfigError(`[depot] active = ${this.activeDepotName}, but no enabled plugin provides that depot (enabled depots: ${this.registries.depots.names().join(', ') || 'none'})`);
    return depot;
  }

  /** A depot by name, for reading. */
  depot(name: string): Depot | undefined {
    return this.registries.depots.get(name);
  }

  /**
   * Streams a file into the active depot and records it on an existing resource.
   * A declared sha256 that does not match rejects the file and keeps nothing.
   */
  async storeStream(resourceId: string, source: Readable, expect: { size?: number; sha256?: string }, call: IntakeCall): Promise<ResourceRecord> {
    const depot = this.activeDepot();
    const stored = await depot.put(resourceId, source, expect);
    return this.recordStored(resourceId, depot.name, stored, call);
  }

  /**
   * Records an object already written to a depot (e.g. assembled from chunks) on its
   * resource. If recording fails, the object is removed so nothing half-done stays.
   */
  async recordStored(resourceId: string, depotName: string, stored: StoredObject, call: IntakeCall, expectSha256?: string): Promise<ResourceRecord> {
    const depot = this.depot(depotName);
    try {
      if (expectSha256 && expectSha256.toLowerCase() !== stored.sha256) {
        throw new ValidationError(`checksum mismatch: the declared sha256 ${expectSha256} differs from the received file's ${stored.sha256}`, { sha256: ['does not match the uploaded bytes'] });
      }
      const resource = (await this.runAsAction(call, async (ctx) => {
        const recorded = await this.datasets.recordStoredFile(resourceId, { depot: depotName, ...stored }, ctx);
        ctx.emit('upload.completed', { protocol: call.protocol, resource: recorded, actor: call.actor });
        return recorded;
      })) as ResourceRecord;
      // Checks run as a job: the upload answers at once, the file is inspected off the request.
      await this.jobs.enqueue(RESOURCE_INSPECT_JOB, { resourceId }, { dedupeKey: `${RESOURCE_INSPECT_JOB}:${resourceId}` });
      return resource;
    } catch (error) {
      await depot?.delete(stored.location).catch(() => undefined);
      throw error;
    }
  }

  private async runAsAction(call: IntakeCall, fn: Parameters<ActionRunner['runInTransaction']>[1]): Promise<unknown> {
    return this.actions.runInTransaction({ actor: call.actor, ...(call.address ? { address: call.address } : {}) }, fn, 'resource_intake');
  }
}
