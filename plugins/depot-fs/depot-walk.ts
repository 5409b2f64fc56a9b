// The synchronous walk of depot-fs's resources/ tree, one top-level directory at a time, for
// the main thread (small depots) and for walk threads (large ones). Symbolic links are not
// objects and are skipped; names no location may have are skipped; entries come in name order.
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { isSafeComponent } from './depot-fs-paths.js';
import { isMissing } from './errno-code.js';

/** One stored object as the walk found it (plain data, so it can cross threads). */
export interface WalkedObject {
  location: string;
  size: number;
  mtimeMs: number;
  path: string;
}

/** Directory entries in byte order of their names. */
function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The names of resources/'s top-level directories, sorted; [] when it does not exist. */
export function topLevelNames(resources: string): string[] {
  let top: Dirent[];
  try {
    top = readdirSync(resources, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return []; // never created
    throw error;
  }
  return top.sort(byName).filter((e) => e.isDirectory() && isSafeComponent(e.name)).map((e) => e.name);
}

/** Every object under `resources/<name>/`. */
export function walkTopLevel(resources: string, name: string): WalkedObject[] {
  const found: WalkedObject[] = [];
  walk(join(resources, name), `resources/${name}`, found);
  return found;
}

function walk(dir: string, location: string, found: WalkedObject[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return; // removed while walking
    throw error;
  }
  entries.sort(byName);
  for (const entry of entries) {
    if (!isSafeComponent(entry.name)) continue;
    const path = join(dir, entry.name);
    const child = `${location}/${entry.name}`;
    if (entry.isDirectory()) walk(path, child, found);
    else if (entry.isFile()) {
      try {
        const info = lstatSync(path);
        if (info.isFile()) found.push({ location: child, size: info.size, mtimeMs: info.mtimeMs, path });
      } catch (error) {
        if (!isMissing(error)) throw error; // deleted while walking
      }
    }
  }
}
