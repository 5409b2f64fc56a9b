// A local or mounted folder as a destination: written to a temporary name, then renamed, so
// a reader never sees half a file; the destination can tell the sha256. A name or folder that
// would lead out of the destination's folder (`..`, an absolute path, a separator inside a
// name) is refused, whatever a sender or a routing rule supplied.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { DeliveryTarget, OutgoingFile, RemoteCopy } from './delivery-target.js';
import { DeliveryError } from './delivery-target.js';
import { hashFile } from './file-hash.js';

/** Delivers into a folder of this machine (or a mounted one). */
export class LocalFolderTarget implements DeliveryTarget {
  readonly kind = 'folder';

  constructor(readonly name: string, private readonly root: string) {}

  /** @throws DeliveryError (not retryable) for a folder or name that leaves the root. */
  private path(folder: string, name: string): string {
    const parts = folder.split('/').filter(Boolean);
    const bad = [...parts, name].find((part) => part === '.' || part === '..' || /[/\\\u0000-\u001f]/.test(part) || isAbsolute(part));
    if (bad !== undefined || !name) {
      throw new DeliveryError(`destination "${this.name}": ${JSON.stringify(`${folder ? `${folder}/` : ''}${name}`.slice(0, 200))} would leave its folder; names may not be ".." or hold "/", "\\" or control characters`, false);
    }
    const root = resolve(this.root);
    const path = resolve(root, ...parts, name);
    if (!path.startsWith(root + sep)) throw new DeliveryError(`destination "${this.name}": ${JSON.stringify(name.slice(0, 200))} would leave its folder`, false);
    return path;
  }

  async send(file: OutgoingFile, folder: string, signal: AbortSignal): Promise<RemoteCopy> {
    const target = this.path(folder, file.name);
    const partial = join(target, '..', `.${file.name}.partial`);
    try {
      await mkdir(join(target, '..'), { recursive: true });
      await pipeline(file.open(), createWriteStream(partial), { signal });
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC') throw new DeliveryError(`destination "${this.name}" is full (no space left on the device)`, true);
      throw error;
    }
    const copy = await this.stat(folder, file.name, signal);
    if (!copy) throw new DeliveryError(`destination "${this.name}": the file vanished right after it was written`, true);
    return copy;
  }

  async stat(folder: string, name: string, signal: AbortSignal): Promise<RemoteCopy | undefined> {
    const path = this.path(folder, name);
    try {
      await stat(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const { size, sha256 } = await hashFile(path, signal);
    return { location: `${folder ? `${folder}/` : ''}${name}`, size, sha256 };
  }

  async remove(folder: string, name: string): Promise<void> {
    await rm(this.path(folder, name), { force: true });
  }

  async close(): Promise<void> {}
}
