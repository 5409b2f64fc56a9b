// A local path for a stored file: the depot's own when it has one, else a temporary copy
// (S3 depots) removed afterwards.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Depot } from '../../core/api.js';

/** Calls `use` with a local path of the file at `location` in `depot`. */
export type LocalFileAccess = <T>(depot: Depot, location: string, use: (path: string) => Promise<T>, signal?: AbortSignal) => Promise<T>;

/**
 * @param tmpDir - where temporary copies go
 * @returns a {@link LocalFileAccess}
 */
export function localFileAccess(tmpDir: string): LocalFileAccess {
  return async (depot, location, use, signal) => {
    const path = await depot.localPath?.(location);
    if (path) return use(path);
    const temp = join(tmpDir, `rtdc-${randomUUID()}.rtdc`);
    try {
      await pipeline(await depot.open(location), createWriteStream(temp, { mode: 0o600 }), ...(signal ? [{ signal }] : []));
      return await use(temp);
    } finally {
      await rm(temp, { force: true });
    }
  };
}
