// A filesystem depot in DCOR's layout: objects at resources/<rid[0:3]>/<rid[3:6]>/<rid[6:]>,
// written to tmp/ while hashing, fsynced and renamed into place (mode 0640); partial
// uploads under incoming/. Locations are checked so that nothing can reach outside root.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readdir, realpath, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError, ValidationError, type ByteRange, type Depot, type DepotEntry, type PartialEntry, type PartialUploads, type StoredObject } from '../../core/api.js';

const KEY = /^[A-Za-z0-9_-]{7,200}$/;
const UPLOAD_ID = /^[A-Za-z0-9_-]{8,200}$/;
const FILE_MODE = 0o640;
const DIR_MODE = 0o750;

/** The directories of a depot root. */
export function depotFsPaths(root: string): { root: string; resources: string; incoming: string; tmp: string } {
  const base = resolve(root);
  return { root: base, resources: join(base, 'resources'), incoming: join(base, 'incoming'), tmp: join(base, 'tmp') };
}

/** The location of a key in DCOR's layout. @throws ValidationError for unsafe keys. */
export function locationOfKey(key: string): string {
  if (!KEY.test(key)) throw new ValidationError(`depot key "${key.slice(0, 80)}" is not safe: use 7 to 200 letters, digits, - or _`);
  return `resources/${key.slice(0, 3)}/${key.slice(3, 6)}/${key.slice(6)}`;
}

async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes `source` to `path` (created exclusively), hashing; at most `limit` bytes. */
async function writeHashed(path: string, source: Readable, flags: string, position: number | undefined, limit: number): Promise<{ size: number; sha256: string; error?: unknown; overflow: boolean }> {
  const hash = createHash('sha256');
  const handle = await open(path, flags, FILE_MODE);
  let size = 0;
  let error: unknown;
  let overflow = false;
  try {
    try {
      for await (const chunk of source) {
        const buffer = chunk as Buffer;
        if (size + buffer.length > limit) {
          overflow = true;
          break;
        }
        hash.update(buffer);
        let done = 0;
        while (done < buffer.length) {
          const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, position === undefined ? null : position + size + done);
          done += bytesWritten;
        }
        size += buffer.length;
      }
    } catch (failure) {
      error = failure;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { size, sha256: hash.digest('hex'), overflow, ...(error === undefined ? {} : { error }) };
}

/** A Depot on a local (or shared) filesystem. */
export class FsDepot implements Depot {
  readonly name = 'fs';
  readonly paths: ReturnType<typeof depotFsPaths>;
  readonly partials: PartialUploads;

  constructor(root: string) {
    this.paths = depotFsPaths(root);
    this.partials = new FsPartialUploads(this);
  }

  /** Creates the directories (mode 0750) if missing. */
  async ensureDirectories(): Promise<void> {
    for (const dir of [this.paths.resources, this.paths.incoming, this.paths.tmp]) await mkdir(dir, { recursive: true, mode: DIR_MODE });
  }

  async put(key: string, source: Readable, expect?: { size?: number; sha256?: string }): Promise<StoredObject> {
    const location = locationOfKey(key);
    await this.ensureDirectories();
    const temp = join(this.paths.tmp, `${key}.${randomBytes(6).toString('hex')}`);
    try {
      const written = await writeHashed(temp, source, 'wx', undefined, Number.MAX_SAFE_INTEGER);
      if (written.error !== undefined) throw written.error;
      if (expect?.size !== undefined && expect.size !== written.size) throw new ValidationError(`size mismatch: expected ${expect.size} bytes, received ${written.size}; nothing was stored`);
      if (expect?.sha256 && expect.sha256.toLowerCase() !== written.sha256) throw new ValidationError(`checksum mismatch: expected sha256 ${expect.sha256}, received ${written.sha256}; nothing was stored`);
      return { location: await this.moveIntoPlace(temp, location), size: written.size, sha256: written.sha256 };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Renames a finished file into its location, durably. */
  async moveIntoPlace(file: string, location: string): Promise<string> {
    const target = this.pathOf(location);
    await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    await chmod(file, FILE_MODE);
    await rename(file, target);
    await fsyncDir(dirname(target));
    return location;
  }

  async open(location: string, range?: ByteRange): Promise<Readable> {
    const path = await this.existingPath(location);
    if (!range) return createReadStream(path);
    const size = (await stat(path)).size;
    if (range.start < 0 || range.end < range.start || range.end >= size) throw new ValidationError(`range ${range.start}-${range.end} is outside the ${size} bytes of ${location}`);
    return createReadStream(path, { start: range.start, end: range.end });
  }

  async stat(location: string): Promise<DepotEntry | undefined> {
    try {
      const info = await stat(await this.existingPath(location));
      return { location, size: info.size, modified: info.mtime };
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  async delete(location: string): Promise<void> {
    await rm(this.pathOf(location), { force: true });
  }

  async *list(): AsyncIterable<DepotEntry> {
    const walk = async function* (dir: string, base: string): AsyncIterable<DepotEntry> {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(path, base);
        else if (entry.isFile()) {
          const info = await stat(path);
          yield { location: relative(base, path).split(sep).join('/'), size: info.size, modified: info.mtime };
        }
      }
    };
    yield* walk(this.paths.resources, this.paths.root);
  }

  /** The real path of a stored object (for HDF5 readers), checked to stay inside the depot. */
  async localPath(location: string): Promise<string | undefined> {
    return this.existingPath(location);
  }

  /** The absolute path of a location. @throws ValidationError when it would leave `resources/`. */
  pathOf(location: string): string {
    if (!/^resources\/[A-Za-z0-9_/-]+$/.test(location) || location.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new ValidationError(`depot location "${location.slice(0, 120)}" is not a location of this depot`);
    }
    const path = resolve(this.paths.root, location);
    if (!path.startsWith(this.paths.resources + sep)) throw new ValidationError(`depot location "${location.slice(0, 120)}" leaves the depot`);
    return path;
  }

  /** The path of an existing object, following no symlink out of the root. */
  private async existingPath(location: string): Promise<string> {
    const path = this.pathOf(location);
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      throw new NotFoundError(`no file at ${location} in depot "${this.name}"`);
    }
    const realRoot = await realpath(this.paths.resources).catch(() => this.paths.resources);
    if (!real.startsWith(realRoot + sep)) throw new ValidationError(`depot location "${location}" points outside the depot`);
    return real;
  }
}

/** Partial uploads as files under incoming/. */
class FsPartialUploads implements PartialUploads {
  constructor(private readonly depot: FsDepot) {}

  private pathOf(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new ValidationError(`upload id "${uploadId.slice(0, 80)}" is not safe`);
    return join(this.depot.paths.incoming, uploadId);
  }

  async create(uploadId: string): Promise<void> {
    await this.depot.ensureDirectories();
    const handle = await open(this.pathOf(uploadId), 'wx', FILE_MODE);
    await handle.close();
  }

  async size(uploadId: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(uploadId))).size;
    } catch {
      return undefined;
    }
  }

  async append(uploadId: string, offset: number, source: Readable, limit: number): Promise<number> {
    const path = this.pathOf(uploadId);
    const current = await this.size(uploadId);
    if (current === undefined) throw new NotFoundError(`no partial upload ${uploadId}`);
    if (current !== offset) throw new ValidationError(`offset ${offset} does not match the ${current} bytes received`);
    const written = await writeHashed(path, source, 'r+', offset, limit);
    if (written.overflow) {
      await truncate(path, offset);
      throw new ValidationError(`more than the ${limit} bytes left were sent`);
    }
    // A source that failed mid-way (a client that disconnected) keeps what arrived.
    return written.size;
  }

  async truncate(uploadId: string, size: number): Promise<void> {
    await truncate(this.pathOf(uploadId), size).catch(() => undefined);
  }

  async open(uploadId: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(uploadId);
    if ((await this.size(uploadId)) === undefined) throw new NotFoundError(`no partial upload ${uploadId}`);
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async finish(uploadId: string, key: string, checked: { size: number; sha256: string }): Promise<StoredObject> {
    const path = this.pathOf(uploadId);
    const size = await this.size(uploadId);
    if (size === undefined) throw new NotFoundError(`no partial upload ${uploadId}`);
    if (size !== checked.size) throw new ValidationError(`partial upload ${uploadId} has ${size} bytes, not ${checked.size}`);
    const location = await this.depot.moveIntoPlace(path, locationOfKey(key));
    return { location, size, sha256: checked.sha256 };
  }

  async delete(uploadId: string): Promise<void> {
    await rm(this.pathOf(uploadId), { force: true });
  }

  async *list(): AsyncIterable<PartialEntry> {
    let entries;
    try {
      entries = await readdir(this.depot.paths.incoming, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isFile() || !UPLOAD_ID.test(entry.name)) continue;
      const info = await stat(join(this.depot.paths.incoming, entry.name));
      yield { uploadId: entry.name, size: info.size, modified: info.mtime };
    }
  }
}
