// Anonymiser: what may leave the platform, de-identified.
import { hookId } from '../hook-id.js';

/** A source of records to de-identify (a database table, a CSV resource, CamCOPS records). */
export interface RecordSource {
  readonly kind: string;
  readonly description: string;
}

/** Where de-identified records go. */
export interface RecordDestination {
  readonly kind: string;
  readonly description: string;
}

/** The outcome of one anonymisation run. */
export interface AnonymisationResult {
  recordsRead: number;
  recordsWritten: number;
  destination: RecordDestination;
}

/**
 * De-identifies records under a policy (a data dictionary). Dispatch: **registry** keyed by
 * `name`; distribution rules and exports name the anonymiser they want. Keyed and
 * repeatable: the same input and key give the same research ids.
 */
export interface Anonymiser {
  readonly name: string;
  /** Runs the policy over a source into a destination. */
  anonymise(source: RecordSource, policy: Record<string, unknown>, destination: RecordDestination): Promise<AnonymisationResult>;
}

/** Service identifier of the {@link Anonymiser} hook. */
export const Anonymiser = hookId<Anonymiser>('Anonymiser');
