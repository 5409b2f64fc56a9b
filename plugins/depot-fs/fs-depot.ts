// A filesystem depot in DCOR's layout: objects at resources/<rid[0:3]>/<rid[3:6]>/<rid[6:]>,
// written to tmp/ while hashing, fsynced and renamed into place (mode 0640); partial
// uploads under incoming/. Locations are checked lexically and then against the real path
// on disk, so that neither `..` nor a symlink can reach outside resources/.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError, StorageFullError, ValidationError, type ByteRange, type Depot, type DepotEntry, type PartialUploads, type StoredObject } from '../../core/api.js';
import { depotFsPaths, locationOfKey, pathOfLocation, shown, type DepotFsPaths } from './depot-fs-paths.js';
import { errnoCode, isMissing, isNoSpace } from './errno-code.js';
import { topLevelNames, walkTopLevel, type WalkedObject } from './depot-walk.js';
import { walkOnThreads } from './depot-walk-threads.js';
import { FsPartialUploads } from './fs-partial-uploads.js';
import { DIR_MODE, FILE_MODE, writeHashed } from './write-hashed.js';

export { depotFsPaths, incomingDir, locationOfKey, type DepotFsPaths } from './depot-fs-paths.js';

const SHA256 = /^[0-9a-f]{64}$/i;
/** A depot with at least this many top-level directories is listed on threads. */
export const THREADED_WALK_MIN_DIRS = 256;
/** Threads that list a large depot (the walk is syscall-bound: one per core here). */
const WALK_THREADS = 2;

async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function checkExpect(expect: { size?: number; sha256?: string } | undefined): void {
  if (expect?.size !== undefined && !(Number.isSafeInteger(expect.size) && expect.size >= 0)) {
    throw new ValidationError(`expected size ${String(expect.size)} is not a byte count; pass a whole number >= 0 or leave it out`, { size: ['not a byte count'] });
  }
  if (expect?.sha256 !== undefined && !SHA256.test(expect.sha256)) {
    throw new ValidationError(`expected sha256 ${shown(expect.sha256, 80)} is not 64 hexadecimal digits; pass the hex SHA-256 of the file or leave it out`, { sha256: ['not a hex SHA-256'] });
  }
}

function checkRange(range: ByteRange, location: string): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new ValidationError(`byte range ${String(start)}-${String(end)} of ${location} is not a range: start and end are whole numbers with 0 <= start <= end (end inclusive)`, { range: ['not a byte range'] });
  }
}

/** A {@link Depot} on a local (or shared) filesystem. */
export class FsDepot implements Depot {
  readonly name = 'fs';
  /** Its directories: resources/, incoming/ and tmp/ under the root. */
  readonly paths: DepotFsPaths;
  readonly partials: PartialUploads;

  /** @param root the depot's root directory; it and its subdirectories are created when needed. */
  constructor(root: string) {
    this.paths = depotFsPaths(root);
    this.partials = new FsPartialUploads(this);
  }

  /** Creates resources/, incoming/ and tmp/ (mode 0750) if missing. */
  async ensureDirectories(): Promise<void> {
    for (const dir of [this.paths.resources, this.paths.incoming, this.paths.tmp]) await mkdir(dir, { recursive: true, mode: DIR_MODE });
  }

  /**
   * Streams `source` to a file in tmp/ while hashing it, checks `expect`, fsyncs, and renames
   * it into place (replacing an object already there atomically).
   * @throws ValidationError for an unsafe key, a malformed `expect`, or when the size or
   * sha256 differ from `expect` (nothing is kept); the source's own error when it fails.
   */
  async put(key: string, source: Readable, expect?: { size?: number; sha256?: string }): Promise<StoredObject> {
    let location: string;
    try {
      location = locationOfKey(key);
      checkExpect(expect);
      await this.ensureDirectories();
    } catch (error) {
      source.destroy();
      throw error;
    }
    const temp = join(this.paths.tmp, `${key}.${randomBytes(8).toString('hex')}.part`);
    try {
      // With an expected size, reading stops one chunk past it: a wrong upload cannot fill the disk.
      const written = await writeHashed(temp, source, { flags: 'wx', ...(expect?.size === undefined ? {} : { limit: expect.size }) });
      if (written.error !== undefined) throw written.error;
      if (written.overflow) throw new ValidationError(`size mismatch for ${key}: expected ${expect?.size} bytes, received more than that; nothing was stored`, { size: ['larger than expected'] });
      if (expect?.size !== undefined && expect.size !== written.size) {
        throw new ValidationError(`size mismatch for ${key}: expected ${expect.size} bytes, received ${written.size}; nothing was stored`, { size: ['differs from the expected size'] });
      }
      if (expect?.sha256 !== undefined && expect.sha256.toLowerCase() !== written.sha256) {
        throw new ValidationError(`checksum mismatch for ${key}: expected sha256 ${expect.sha256.toLowerCase()}, received ${written.sha256}; nothing was stored`, { sha256: ['differs from the expected sha256'] });
      }
      await this.moveIntoPlace(temp, location);
      return { location, size: written.size, sha256: written.sha256 };
    } catch (error) {
      source.destroy();
      await rm(temp, { force: true });
      if (isNoSpace(error)) throw new StorageFullError(`depot "${this.name}" is full (${errnoCode(error)}: no space left under its root); nothing of ${key} was stored: free space, then send it again`, { cause: error });
      throw error;
    }
  }

  /**
   * Renames a finished file (in tmp/ or incoming/) to `location`, durably: mode 0640, then
   * rename, then fsync of the directory. The file itself must already be fsynced.
   * @throws ValidationError when the target directory resolves outside resources/ (a symlink).
   */
  async moveIntoPlace(file: string, location: string): Promise<string> {
    const target = pathOfLocation(this.paths, location);
    await mkdir(this.paths.resources, { recursive: true, mode: DIR_MODE });
    // One level at a time, each checked before the next is made: a symlinked directory on the
    // way is refused before anything is created (or written) on the other side of it.
    let realDir = await this.realInside(this.paths.resources, location);
    for (const part of location.split('/').slice(1, -1)) {
      const dir = join(realDir, part);
      await mkdir(dir, { mode: DIR_MODE }).catch((error: unknown) => {
        if (errnoCode(error) !== 'EEXIST') throw error;
      });
      realDir = await this.realInside(dir, location);
    }
    await chmod(file, FILE_MODE);
    await rename(file, join(realDir, basename(target)));
    await fsyncDir(realDir);
    return location;
  }

  /**
   * Opens a stored object, or the inclusive byte range of it. The file is opened before
   * returning, so a later replacement or deletion does not change what the stream reads.
   * @throws NotFoundError when absent; ValidationError for a bad location or a range outside the file.
   */
  async open(location: string, range?: ByteRange): Promise<Readable> {
    if (range) checkRange(range, location);
    const path = await this.realFile(location);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error)) throw this.notFound(location);
      throw error;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw this.notFound(location);
      if (range && range.end >= info.size) {
        throw new ValidationError(`byte range ${range.start}-${range.end} is outside ${location}, which has ${info.size} bytes${info.size ? ` (the last is byte ${info.size - 1})` : ''}`, { range: ['outside the file'] });
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    // 1 MiB reads: a 64 KiB default means 16 times the chunks (and promise turns) per download.
    return handle.createReadStream({ highWaterMark: 1024 * 1024, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  /** Size and modification time, or undefined when absent (or not a regular file). @throws ValidationError for a bad location. */
  async stat(location: string): Promise<DepotEntry | undefined> {
    let path: string;
    try {
      path = await this.realFile(location);
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
    try {
      const info = await stat(path);
      return info.isFile() ? { location, size: info.size, modified: info.mtime } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /**
   * Removes an object; absent objects are not an error. A symlink at the location is removed
   * itself (never its target); a symlinked directory on the way that leads outside is refused.
   * @throws ValidationError for a bad location, one that leads outside, or a directory.
   */
  async delete(location: string): Promise<void> {
    const path = pathOfLocation(this.paths, location);
    let parent: string;
    try {
      parent = await this.realInside(dirname(path), location);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    try {
      await unlink(join(parent, basename(path)));
    } catch (error) {
      if (isMissing(error)) return;
      if (errnoCode(error) === 'EISDIR' || errnoCode(error) === 'EPERM') throw new ValidationError(`depot location ${shown(location)} is a directory, not a stored object; delete objects one by one`);
      throw error;
    }
  }

  /**
   * Every stored object under resources/ (not tmp/ or incoming/), in location order, read
   * synchronously one top-level directory (`resources/abc/`) at a time: one synchronous
   * readdir or lstat costs a few microseconds where an awaited one costs tens. A small depot
   * is walked here, giving the event loop a turn between directories; a large one (at least
   * {@link THREADED_WALK_MIN_DIRS} top-level directories) on {@link WALK_THREADS} threads.
   * Symbolic links are not objects and are skipped, and so are names no location may have.
   */
  async *list(): AsyncIterable<DepotEntry> {
    const names = topLevelNames(this.paths.resources);
    const entry = (o: WalkedObject): DepotEntry => ({ location: o.location, size: o.size, modified: new Date(o.mtimeMs), path: o.path });
    if (names.length >= THREADED_WALK_MIN_DIRS) {
      for await (const object of walkOnThreads(this.paths.resources, names, WALK_THREADS)) yield entry(object);
      return;
    }
    for (const name of names) {
      yield* walkTopLevel(this.paths.resources, name).map(entry);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The real path of a stored object (for HDF5 readers), checked to stay inside the depot. @throws NotFoundError when absent. */
  async localPath(location: string): Promise<string | undefined> {
    return this.realFile(location);
  }

  /** The absolute path of a location, checked lexically. @throws ValidationError when it would leave `resources/`. */
  pathOf(location: string): string {
    return pathOfLocation(this.paths, location);
  }

  /** The real path of an existing location, after following symlinks. */
  private async realFile(location: string): Promise<string> {
    try {
      return await this.realInside(pathOfLocation(this.paths, location), location);
    } catch (error) {
      if (isMissing(error)) throw this.notFound(location);
      throw error;
    }
  }

  /**
   * The real path of an existing `path`, after following every symlink on the way.
   * @throws ValidationError unless it is resources/ or below it; ENOENT when it does not exist.
   */
  private async realInside(path: string, location: string): Promise<string> {
    const real = await realpath(path);
    // resources/ may itself be a symlink (storage moved elsewhere by the operator): compare real paths.
    const resources = await realpath(this.paths.resources);
    if (real !== resources && !real.startsWith(resources + sep)) {
      throw new ValidationError(`depot location ${shown(location)} leads outside the depot through a symlink under resources/; remove that symlink (objects must be stored inside the depot)`, { location: ['leads outside the depot'] });
    }
    return real;
  }

  private notFound(location: string): NotFoundError {
    return new NotFoundError(`no stored object at ${location} in depot "${this.name}"; it was deleted, never stored, or is in another depot`);
  }
}
