// A dataset on this platform as a destination: the file becomes a resource there, so that a
// recipient's download from the platform (its audit event) acknowledges it.
import { ActionRunnerId, DatasetServiceId, ResourceIntakeId, type ActionContext, type Actor, type Services } from '../../core/api.js';
import type { DeliveryTarget, OutgoingFile, RemoteCopy } from './delivery-target.js';
import { DeliveryError } from './delivery-target.js';

const ACTOR: Actor = { kind: 'system', name: 'distribution' };

/** Delivers into a dataset of this platform (the routed folder, when set, names the dataset). */
export class DatasetTarget implements DeliveryTarget {
  readonly kind = 'dataset';

  constructor(readonly name: string, private readonly dataset: string, private readonly services: () => Services) {}

  private datasetOf(folder: string): string {
    return folder || this.dataset;
  }

  private context(): ActionContext {
    return { action: 'distribution', actor: ACTOR, address: '', requestId: 'distribution', transaction: undefined, services: this.services(), emit: () => undefined };
  }

  async send(file: OutgoingFile, folder: string): Promise<RemoteCopy> {
    const services = this.services();
    const dataset = this.datasetOf(folder);
    const resource = await services.get(ActionRunnerId).runInTransaction({ actor: ACTOR }, (ctx) => services.get(DatasetServiceId).createResource({ package_id: dataset, name: file.name }, ctx), 'resource_create').catch((error: Error) => {
      throw new DeliveryError(`destination "${this.name}": cannot create resource "${file.name}" in dataset "${dataset}": ${error.message}`, false);
    });
    const stored = await services.get(ResourceIntakeId).storeStream(resource.id, file.open(), { size: file.size, sha256: file.sha256 }, { actor: ACTOR, protocol: 'distribution' });
    return { location: `resource:${stored.id}`, size: stored.size ?? 0, ...(stored.sha256 ? { sha256: stored.sha256 } : {}) };
  }

  async stat(folder: string, name: string): Promise<RemoteCopy | undefined> {
    const { resources } = await this.services().get(DatasetServiceId).show(this.datasetOf(folder), this.context());
    const found = resources.find((r) => r.name === name && r.state !== 'deleted' && r.sha256);
    return found ? { location: `resource:${found.id}`, size: found.size ?? 0, sha256: found.sha256! } : undefined;
  }

  async remove(folder: string, name: string): Promise<void> {
    const copy = await this.stat(folder, name);
    if (!copy) return;
    const services = this.services();
    await services.get(ActionRunnerId).runInTransaction({ actor: ACTOR }, (ctx) => services.get(DatasetServiceId).deleteResource(copy.location.slice('resource:'.length), ctx), 'resource_delete');
  }

  async close(): Promise<void> {}
}
