// Holding a delivery: an administrator stops a file from being sent (a result to be checked
// again, a recipient to be confirmed) until it is released. A held file is in state `held`,
// which the deliverer never claims, so a queued delivery job skips it; releasing it puts it
// back where it can be sent and queues it. Both are events of its life line.
import type { Transaction } from 'sequelize';
import { ConflictError, NotFoundError } from '../../core/api.js';
import type { DistributedFile, DistributionStore, FileState } from './distribution-store.js';

/** States a file may be held in: not yet sent, and not being sent right now. */
export const HOLDABLE_STATES: readonly FileState[] = ['received', 'routed', 'unroutable', 'failed'];

/** Who holds or releases, for the life line. */
export interface HoldActor {
  actor: string;
  address?: string;
}

/** Holds and releases deliveries. */
export class DeliveryHold {
  constructor(private readonly store: () => DistributionStore, private readonly schedule: (fileIds: string[], transaction: Transaction) => Promise<void>) {}

  private async existing(id: string, transaction: Transaction): Promise<DistributedFile> {
    const file = await this.store().find(id, transaction);
    if (!file) throw new NotFoundError(`no file ${id} in distribution`);
    return file;
  }

  /**
   * Holds a file: it is not sent until released.
   * @throws NotFoundError for an unknown id; ConflictError when it is sent, being sent, refused or already held.
   */
  async hold(id: string, by: HoldActor, reason: string | undefined, transaction: Transaction): Promise<DistributedFile> {
    const file = await this.existing(id, transaction);
    const why = `held by ${by.actor}${reason ? `: ${reason}` : ''}`;
    const held = HOLDABLE_STATES.includes(file.state) ? await this.store().update(id, { state: 'held', reason: why }, { kind: 'held', actor: by.actor, ...(by.address ? { address: by.address } : {}), ...(reason ? { detail: reason } : {}) }, HOLDABLE_STATES, transaction) : undefined;
    if (!held) throw new ConflictError(`"${file.name}" is ${file.state}; only a file not yet sent (${HOLDABLE_STATES.join(', ')}) can be held${file.state === 'sending' ? ': it is being sent now, hold it if the attempt fails' : ''}`, { state: [file.state] });
    return held;
  }

  /**
   * Releases a held file: routed again (and queued for delivery) when it has a destination,
   * else back to `unroutable` until the folders table routes it.
   * @throws NotFoundError for an unknown id; ConflictError when it is not held.
   */
  async release(id: string, by: HoldActor, transaction: Transaction): Promise<DistributedFile> {
    const file = await this.existing(id, transaction);
    const routed = Boolean(file.destination);
    const fields = routed ? { state: 'routed' as const, reason: undefined } : { state: 'unroutable' as const, reason: 'released before a rule routed it; routed when the remote folders table is loaded' };
    const released = file.state === 'held' ? await this.store().update(id, fields, { kind: 'released', actor: by.actor, ...(by.address ? { address: by.address } : {}), detail: routed ? `queued for delivery to ${file.destination}:${file.folder || '/'}` : 'not routed yet' }, ['held'], transaction) : undefined;
    if (!released) throw new ConflictError(`"${file.name}" is ${file.state}, not held; only a held file can be released`, { state: [file.state] });
    if (routed) await this.schedule([id], transaction);
    return released;
  }
}
