// Partial (resumable) uploads of depot-fs: one file per upload id under incoming/, appended
// at an offset and, once complete, renamed into resources/ (a rename, never a copy).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError, StorageFullError, ValidationError, type ByteRange, type PartialEntry, type PartialUploads, type StoredObject } from '../../core/api.js';
import { locationOfKey, shown } from './depot-fs-paths.js';
import { errnoCode, isNoSpace } from './errno-code.js';
import type { DepotFsPaths } from './depot-fs-paths.js';
import { FILE_MODE, writeHashed } from './write-hashed.js';

const UPLOAD_ID = /^[A-Za-z0-9_-]{8,200}$/;

/** What partial uploads need of the depot they finish into (the FsDepot; named here so the two files do not import each other). */
export interface PartialsHome {
  readonly name: string;
  readonly paths: DepotFsPaths;
  ensureDirectories(): Promise<void>;
  moveIntoPlace(file: string, location: string): Promise<string>;
}

/** {@link PartialUploads} as files under the depot's incoming/. */
export class FsPartialUploads implements PartialUploads {
  /** @param depot the depot whose incoming/ holds the uploads and whose resources/ receives them. */
  constructor(private readonly depot: PartialsHome) {}

  private pathOf(uploadId: string): string {
    if (!UPLOAD_ID.test(uploadId)) throw new ValidationError(`upload id ${shown(uploadId, 80)} is not safe: use 8 to 200 letters, digits, "-" or "_"`, { uploadId: ['not a safe upload id'] });
    return join(this.depot.paths.incoming, uploadId);
  }

  async create(uploadId: string): Promise<void> {
    const path = this.pathOf(uploadId);
    await this.depot.ensureDirectories();
    const handle = await open(path, 'wx', FILE_MODE);
    await handle.close();
  }

  async size(uploadId: string): Promise<number | undefined> {
    const path = this.pathOf(uploadId);
    try {
      return (await stat(path)).size;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async append(uploadId: string, offset: number, source: Readable, limit: number): Promise<number> {
    const path = this.pathOf(uploadId);
    const current = await this.size(uploadId);
    if (current === undefined) throw new NotFoundError(`no partial upload ${uploadId}`);
    if (current !== offset) throw new ValidationError(`offset ${offset} does not match the ${current} bytes received for upload ${uploadId}; resume from ${current}`);
    let written;
    try {
      // The upload protocol hashes the whole upload as it arrives: no second hash of each part here.
      written = await writeHashed(path, source, { flags: 'r+', position: offset, limit, hash: false });
    } catch (error) {
      if (!isNoSpace(error)) throw error;
      // What this request wrote before the disk filled is cut off: the upload stays at `offset`.
      await truncate(path, offset).catch(() => undefined);
      throw new StorageFullError(`depot "${this.depot.name}" is full (${errnoCode(error)}: no space left under its root); upload ${uploadId} stays at ${offset} bytes: free space, then resume it`, { cause: error });
    }
    if (written.overflow) {
      await truncate(path, offset);
      throw new ValidationError(`more than the ${limit} bytes left were sent for upload ${uploadId}; nothing of this request was kept`);
    }
    // A source that failed mid-way (a client that disconnected) keeps what arrived.
    return written.size;
  }

  async truncate(uploadId: string, size: number): Promise<void> {
    const path = this.pathOf(uploadId);
    await truncate(path, size).catch((error: unknown) => {
      if (errnoCode(error) !== 'ENOENT') throw error;
    });
  }

  async open(uploadId: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(uploadId);
    if ((await this.size(uploadId)) === undefined) throw new NotFoundError(`no partial upload ${uploadId}`);
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async finish(uploadId: string, key: string, checked: { size: number; sha256?: string }): Promise<StoredObject> {
    const path = this.pathOf(uploadId);
    const location = locationOfKey(key);
    const size = await this.size(uploadId);
    if (size === undefined) throw new NotFoundError(`no partial upload ${uploadId}`);
    if (size !== checked.size) throw new ValidationError(`partial upload ${uploadId} has ${size} bytes, not ${checked.size}`);
    let sha256 = checked.sha256;
    if (sha256 === undefined) {
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
      sha256 = hash.digest('hex');
    }
    await this.depot.moveIntoPlace(path, location);
    return { location, size, sha256 };
  }

  async delete(uploadId: string): Promise<void> {
    await rm(this.pathOf(uploadId), { force: true });
  }

  async *list(): AsyncIterable<PartialEntry> {
    let entries;
    try {
      entries = await readdir(this.depot.paths.incoming, { withFileTypes: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isFile() || !UPLOAD_ID.test(entry.name)) continue;
      try {
        const info = await stat(join(this.depot.paths.incoming, entry.name));
        yield { uploadId: entry.name, size: info.size, modified: info.mtime };
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error; // finished or deleted while listing
      }
    }
  }
}
