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
}

/** Service identifier of the {@link Depot} hook. */
export const Depot = hookId<Depot>('Depot');
