// Runs on a pool thread for `inspect --deep`: the sha256 of each of a batch of local files,
// read synchronously in large blocks (the thread has nothing else to do, and hashing on
// threads is what lets --deep use every core). A file that cannot be read gets its error
// code instead of a hash, so one bad file does not lose the batch.

import { closeSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';

/** The hash of one file, or why it could not be read. */
export type FileHash = { sha256: string } | { error: string };

const BLOCK = 4 * 1024 * 1024;

/** sha256 of every file of `paths`, in order. */
export function sha256Files(paths: string[]): FileHash[] {
  const buffer = Buffer.allocUnsafe(BLOCK);
  return paths.map((path) => {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const hash = createHash('sha256');
      for (let read = readSync(fd, buffer, 0, BLOCK, null); read > 0; read = readSync(fd, buffer, 0, BLOCK, null)) hash.update(buffer.subarray(0, read));
      return { sha256: hash.digest('hex') };
    } catch (error) {
      return { error: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  });
}
