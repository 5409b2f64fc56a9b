// Schema: what is valid, and what the platform learns from files.
import { hookId } from '../hook-id.js';
import type { FieldErrors } from '../../errors.js';
import type { DatasetRecord, ResourceRecord } from '../../datasets/dataset-types.js';
import type { ActionContext } from './actions.js';

/** The outcome of inspecting one stored resource file. */
export interface ResourceInspection {
  /** Metadata to merge into the resource (JSON-safe values). */
  metadata: Record<string, unknown>;
  /** Reasons the file is invalid; empty when it is valid. */
  problems: string[];
}

/** A stored file as a schema reads it. */
export interface StoredFile {
  /** A local path when the depot has one (e.g. depot-fs). */
  path: string | undefined;
  /** Opens the file as a stream. */
  open(): Promise<NodeJS.ReadableStream>;
}

/** What a schema sees when validating a dataset. */
export interface DatasetValidationInput {
  /** The dataset as it will be stored (after the change). */
  dataset: DatasetRecord;
  /** The dataset before the change, on update; undefined on create. */
  previous?: DatasetRecord;
  /** Its resources after the change. */
  resources: ResourceRecord[];
  /** Which action is running (`package_create`, `package_update`, ...). */
  action: string;
}

/**
 * Decides what is valid. Dispatch: **filter/veto**, in plugin order, inside the action's
 * transaction: every schema's problems are collected and, if any, the action fails with
 * all of them at once (a CKAN-style Validation Error) and is rolled back.
 */
export interface Schema {
  /** Registry key, e.g. `json` or `rtdc`. */
  readonly name: string;
  /**
   * Returns the dataset with values normalised (e.g. DOIs in one form); called in plugin
   * order before any `validateDataset`, on create and update.
   */
  normalizeDataset?(dataset: DatasetRecord): DatasetRecord;
  /** Field problems with a dataset about to be written; `{}` when it is valid. */
  validateDataset?(input: DatasetValidationInput, ctx: ActionContext): Promise<FieldErrors> | FieldErrors;
  /**
   * Inspects a stored file; called by the `resource.inspect` job after a file is stored,
   * for every resource (return `undefined` for files this schema does not check). The job
   * sets the resource `active` with the merged metadata, or `invalid` with every problem.
   */
  inspectResource?(resource: ResourceRecord, file: StoredFile, signal: AbortSignal): Promise<ResourceInspection | undefined>;
  /** The JSON Schema of a dataset type, for clients that build forms; undefined if unknown. */
  jsonSchema?(datasetType: string): object | undefined;
}

/** Service identifier of the {@link Schema} hook. */
export const Schema = hookId<Schema>('Schema');
