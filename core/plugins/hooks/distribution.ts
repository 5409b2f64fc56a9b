// Distribution: who receives which files, with an audit trail.
import { hookId } from '../hook-id.js';

/** States of one delivery, as the audit trail records them. */
export type DeliveryState = 'uploaded' | 'sent' | 'pending' | 'acknowledged' | 'archived';

/** One delivery of a file to a recipient. */
export interface Delivery {
  id: string;
  recipient: string;
  file: string;
  state: DeliveryState;
  updatedAt: Date;
}

/**
 * Routes files to recipients, delivers them and records acknowledgements. Dispatch:
 * **registry** keyed by `name`. Its audit trail is searchable.
 */
export interface Distribution {
  readonly name: string;
  /** Delivers a stored resource to the recipients its rules select. */
  distribute(resourceId: string): Promise<Delivery[]>;
  /** Marks a delivery acknowledged by its recipient. */
  acknowledge(deliveryId: string, recipient: string): Promise<Delivery>;
  /** Searches deliveries by recipient, file or state. */
  search(query: { recipient?: string; file?: string; state?: DeliveryState; limit?: number }): Promise<Delivery[]>;
}

/** Service identifier of the {@link Distribution} hook. */
export const Distribution = hookId<Distribution>('Distribution');
