// Writing a file only its owner may read (a token, a key) so that what ends up at the path is
// always the new file with mode 0600: written under a temporary name beside it and renamed
// into place, never written through an existing file (which keeps its own mode) nor through a
// symbolic link (which could point anywhere).
import { lstatSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Refuses a path that is a symbolic link, or that exists when `replace` is not set.
 * @throws UsageError naming the path and what to do.
 */
export function checkPrivateFileTarget(path: string, replace: boolean, option = '--out'): void {
  let existing;
  try {
    existing = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UsageError(`cannot use ${option} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (existing.isSymbolicLink()) throw new UsageError(`${option} ${path} is a symbolic link; name the file itself`);
  if (!existing.isFile()) throw new UsageError(`${option} ${path} exists and is not a file`);
  if (!replace) throw new UsageError(`${path} already exists; add --force to overwrite it`);
}

/**
 * Writes `data` to `path` as a new file with mode 0600, replacing what is there only when
 * `replace` is set.
 * @throws UsageError as checkPrivateFileTarget does, or when the folder cannot be written.
 */
export function writePrivateFile(path: string, data: Uint8Array | string, replace: boolean, option = '--out'): void {
  checkPrivateFileTarget(path, replace, option);
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temporary, data, { mode: 0o600, flag: 'wx' });
    // A link put in place since the check is replaced by rename, not followed.
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot write ${option} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
