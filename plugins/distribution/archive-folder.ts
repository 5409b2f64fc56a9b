// Moving files into archive/YYYY/MM/DD/ and rejected/: the name is kept; a second file of the
// same name in one folder becomes `name (2).ext`, `name (3).ext`, ... (never a random suffix).
import { copyFile, link, mkdir, rm, rename, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** `archive/YYYY/MM/DD` of a moment (UTC). */
export function dayFolder(root: string, at: Date): string {
  const iso = at.toISOString();
  return join(root, iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10));
}

/** The n-th name for a collision: `a.pdf`, `a (2).pdf`, `a (3).pdf`. */
export function numberedName(name: string, n: number): string {
  if (n <= 1) return name;
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

/** Whether something exists at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves `source` into `folder` under `name`, numbering on collision; never overwrites. A
 * hard link claims the name atomically (two movers cannot take the same name), then the
 * source is removed; across devices it is copied instead.
 * @returns the path it now has.
 */
export async function moveIntoFolder(source: string, folder: string, name: string): Promise<string> {
  // The day's folder exists after its first file: try the link first, create the folder on ENOENT.
  return moveIntoExistingFolder(source, folder, name).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT' || !(await exists(source))) throw error;
    await mkdir(folder, { recursive: true });
    return moveIntoExistingFolder(source, folder, name);
  });
}

async function moveIntoExistingFolder(source: string, folder: string, name: string): Promise<string> {
  for (let n = 1; n < 10_000; n++) {
    const target = join(folder, numberedName(name, n));
    try {
      await link(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw error;
      if (await exists(target)) continue;
      await copyFile(source, target, 1 /* COPYFILE_EXCL */);
    }
    await rm(source, { force: true });
    return target;
  }
  throw new Error(`more than 9999 files named "${name}" in ${folder}`);
}

/** Renames within one folder tree when possible (used for the outgoing copy of an intake). */
export async function moveFile(source: string, target: string): Promise<void> {
  try {
    await rename(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(source, target);
    await rm(source, { force: true });
  }
}
