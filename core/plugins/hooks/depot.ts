// Depot: where the bytes of resources live.
import type { Readable } from 'node:stream';
import { hookId } from '../hook-id.js';

/** What a depot returns after storing an object. */
export interface StoredObject {
  /** Depot-specific location, recorded on the resource (e.g. `resources/abc/def/...`). */
  location: string;
  size: number;
  /** Lowercase hex SHA-256, computed while writing. */
  sha256: string;
}

/** An inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/** One stored object as `list()` reports it. */
export interface DepotEntry {
  location: string;
  size: number;
  modified: Date;
  /**
   * For depots on local disk, in `list()` only: the object's path, a regular file inside the
   * depot reached without symbolic links (so readers such as `inspect --deep` need no further
   * check). Absent otherwise.
   */
  path?: string;
}

/** One partial upload as a depot keeps it. */
export interface PartialEntry {
  uploadId: string;
  size: number;
  modified: Date;
}

/**
 * Partial uploads kept by a depot, so that any node can resume any upload: bytes are
 * appended at an offset, and the finished object is moved into place without a copy
 * where the depot can (a rename on a filesystem, completing a multipart upload on S3).
 */
export interface PartialUploads {
  /**
   * Starts an empty partial upload. `key`, when known, is the resource id the upload will be
   * finished as: a depot may then write the bytes straight where the object will live (an S3
   * multipart upload of the final object) instead of moving them there at the end.
   */
  create(uploadId: string, key?: string): Promise<void>;
  /** Bytes received so far (the authoritative offset after a crash), or undefined when unknown. */
  size(uploadId: string): Promise<number | undefined>;
  /**
   * Appends bytes from `source` at `offset` (which must equal the current size), at most
   * `limit` bytes, made durable before returning. What arrived before the source ended or
   * failed is kept. @returns the bytes appended.
   * @throws ValidationError when more than `limit` bytes arrive (the excess is not kept).
   */
  append(uploadId: string, offset: number, source: Readable, limit: number): Promise<number>;
  /** Cuts a partial upload back to `size` bytes (drops a chunk that failed its checksum). */
  truncate(uploadId: string, size: number): Promise<void>;
  /**
   * False when bytes received cannot be read back before `finish` (parts of an S3 multipart
   * upload): a process that lacks the running hash then leaves hashing to `finish`. Default true.
   */
  readonly readable?: boolean;
  /**
   * Reads what was received (to re-hash after a resume on another process).
   * @throws ConflictError where {@link readable} is false and the range is no longer readable.
   */
  open(uploadId: string, range?: ByteRange): Promise<Readable>;
  /**
   * Moves the finished upload into place as the object of `key`; `size` and `sha256` are
   * recorded as given. Without `sha256` (no process saw every byte) the depot hashes the
   * finished object itself.
   */
  finish(uploadId: string, key: string, checked: { size: number; sha256?: string }): Promise<StoredObject>;
  /** Removes a partial upload; absent ones are not an error. */
  delete(uploadId: string): Promise<void>;
  /** Every partial upload (for expiry and inspect). */
  list(): AsyncIterable<PartialEntry>;
}

/**
 * A place where files live (filesystem, S3, ...). Dispatch: **registry** keyed by `name`;
 * `[depot] active` names the one new files go to, and every registered depot can read, so
 * files can be migrated between depots.
 *
 * @example
 * ctx.contribute(Depot, new FsDepot(root));
 */
export interface Depot {
  /** Registry key, e.g. `fs` or `s3`. */
  readonly name: string;
  /**
   * Stores a stream under a key derived from `key` (a resource id), hashing while writing.
   * Written atomically: on failure nothing is left at the final location.
   * @throws when `expect` is given and size or sha256 differ (the object is not kept).
   */
  put(key: string, source: Readable, expect?: { size?: number; sha256?: string }): Promise<StoredObject>;
  /** Opens a stored object, optionally a byte range of it. @throws NotFoundError when absent. */
  open(location: string, range?: ByteRange): Promise<Readable>;
  /** Size and modification time, or undefined when the object does not exist. */
  stat(location: string): Promise<DepotEntry | undefined>;
  /** Removes an object; absent objects are not an error. */
  delete(location: string): Promise<void>;
  /** Walks every stored object (for `inspect`). */
  list(): AsyncIterable<DepotEntry>;
  /**
   * A local filesystem path of a stored object, for readers that need one (HDF5), or
   * undefined when the depot is not a local filesystem (then read with `open`).
   */
  localPath?(location: string): Promise<string | undefined>;
  /**
   * Moves an object aside where the depot keeps quarantined objects (an S3 depot: under a
   * `quarantine/` prefix of the same bucket), for `inspect --repair`; never deletes its bytes.
   * Depots without it are quarantined by core (copied under the data directory, then deleted).
   * @returns where the object now is.
   */
  quarantine?(location: string): Promise<string>;
  /**
   * A short-lived URL from which a client may fetch the object itself (an S3 presigned GET),
   * for downloads the platform answers with a redirect; undefined when the depot streams
   * downloads through the platform (or cannot hand them out). Called only after the request
   * passed every permission check, and only for public datasets.
   */
  downloadUrl?(location: string, options: { filename: string; contentType: string }): Promise<string | undefined>;
  /** Partial uploads, for resumable upload protocols; undefined when the depot has none. */
  readonly partials?: PartialUploads;
}

/** Service identifier of the {@link Depot} hook. */
export const Depot = hookId<Depot>('Depot');
