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

/**
 * A file to anonymise (kind `file`), as distribution hands it: read it, never write it. An
 * anonymiser that takes files writes one file at the {@link FileRecordDestination}'s path.
 */
export interface FileRecordSource extends RecordSource {
  readonly kind: 'file';
  /** Local path of the file; read it, never write it. */
  readonly path: string;
  /** The file's name as received, e.g. `ABC123_results.csv`. */
  readonly name: string;
  /** Sniffed from the bytes, e.g. `application/pdf`, `text/plain`. */
  readonly mimeType: string;
  readonly size: number;
  readonly sha256: string;
}

/** Where an anonymiser writes the anonymised copy of a file: one file at `path` (its folder exists). */
export interface FileRecordDestination extends RecordDestination {
  readonly kind: 'file';
  readonly path: string;
  /** The name it will be sent under. */
  readonly name: string;
}

/** The outcome of one anonymisation run. */
export interface AnonymisationResult {
  recordsRead: number;
  recordsWritten: number;
  destination: RecordDestination;
  /**
   * For a file: the name its anonymised copy is to be sent under, when that differs from the
   * received name. A received name can carry identifiers (`NHS9434765919_Smith.csv`); an
   * anonymiser that scrubs file contents scrubs the name as well. A plain file name: no `/`, not
   * `.` or `..`, at most 255 bytes.
   */
  name?: string;
}

/**
 * De-identifies records under a policy (a data dictionary). Dispatch: **registry** keyed by
 * `name`; distribution rules and exports name the anonymiser they want. Keyed and
 * repeatable: the same input and key give the same research ids. Sources and destinations
 * of a kind an anonymiser does not handle are refused with a ValidationError; files come as
 * {@link FileRecordSource} and {@link FileRecordDestination}. `test/contracts/anonymiser.ts`
 * is the contract every implementation should pass.
 */
export interface Anonymiser {
  readonly name: string;
  /** Runs the policy over a source into a destination. */
  anonymise(source: RecordSource, policy: Record<string, unknown>, destination: RecordDestination): Promise<AnonymisationResult>;
}

/** Service identifier of the {@link Anonymiser} hook. */
export const Anonymiser = hookId<Anonymiser>('Anonymiser');
