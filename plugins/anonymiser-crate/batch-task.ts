// What a batch of a run is handed and what it hands back: the unit of work (patients, or a key
// range of a table without patients), the run's settings, and the tallies and digests a task
// returns. Shared by the run, the inline processor and the pool threads, which receive these
// as structured clones.
import type { AnonConfig } from './anon-config.js';
import type { DictionaryPlan, TablePlan } from './dictionary-plan.js';
import type { KeyTuple } from './row-keys.js';

/** A patient handed to a batch, with the IDs the secret map holds. */
export interface BatchPatient {
  /** The source patient ID, as the source stores it. */
  pid: string | number;
  rid: string;
  trid: number;
  mrid: string | undefined;
  /** The keyed scrubber digest recorded when the patient was last written completely. */
  previousScrubberHash: string | undefined;
  /** The keyed digest of the patient's source row versions recorded then (PostgreSQL sources). */
  previousRowsVersion: string | undefined;
}

/** A unit of work. */
export type BatchTask =
  | { kind: 'patients'; patients: BatchPatient[] }
  /** A key range of a table without patients: keys after `after` up to `upTo` (undefined: unbounded), as tuples of the key fields. */
  | { kind: 'table'; table: string; after: KeyTuple | undefined; upTo: KeyTuple | undefined };

/** What a run hands every task. */
export interface BatchSettings {
  config: AnonConfig;
  plan: DictionaryPlan;
  incremental: boolean;
}

/** What a task did. */
export interface BatchResult {
  rowsRead: number;
  rowsWritten: number;
  rowsUnchanged: number;
  rowsSkipped: number;
  bytesRead: number;
  /** Keyed scrubber digests of the patients written completely. */
  scrubberHashes: Record<string, string>;
  /** Patients skipped because a required scrubber field (R) was empty. */
  skippedPatients: string[];
  /**
   * Keyed digests of the source row versions of patients written completely or found unchanged,
   * where their tables keep row versions (see IncrementalSurvey).
   */
  rowsVersions: Record<string, string>;
}

/** A result with nothing done yet. */
export function emptyResult(): BatchResult {
  return { rowsRead: 0, rowsWritten: 0, rowsUnchanged: 0, rowsSkipped: 0, bytesRead: 0, scrubberHashes: {}, skippedPatients: [], rowsVersions: {} };
}

/** A table's identity in tasks: `db.table`. */
export const tableKey = (t: TablePlan): string => `${t.srcDb}.${t.srcTable}`;
