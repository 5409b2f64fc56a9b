// Where depot-fs keeps things under its root, and the purely lexical rules that map keys and
// locations to paths. Symlinks are checked separately (FsDepot), because that needs the disk.
import { join, resolve, sep } from 'node:path';
import { ValidationError } from '../../core/api.js';

/** The directories of one depot-fs root (all absolute). */
export interface DepotFsPaths {
  /** The configured root, resolved. */
  root: string;
  /** Stored objects, in DCOR's layout `resources/<rid[0:3]>/<rid[3:6]>/<rid[6:]>`. */
  resources: string;
  /** Partial (resumable) uploads, one file per upload id. */
  incoming: string;
  /** Files being written by `put`, renamed into `resources/` once complete. */
  tmp: string;
}

/**
 * The directories of a depot root, for the depot itself, inspect and upload protocols.
 * @param root the `[plugin:depot-fs] root` directory (relative paths resolve against the cwd).
 * @returns absolute paths of `root`, `resources/`, `incoming/` and `tmp/`.
 */
export function depotFsPaths(root: string): DepotFsPaths {
  const base = resolve(root);
  return { root: base, resources: join(base, 'resources'), incoming: join(base, 'incoming'), tmp: join(base, 'tmp') };
}

/**
 * The directory partial uploads live in (for upload protocols that keep their own files).
 * @param root the depot root.
 * @returns the absolute path of `<root>/incoming`.
 */
export function incomingDir(root: string): string {
  return depotFsPaths(root).incoming;
}

const KEY = /^[A-Za-z0-9_-]+$/;
const KEY_MIN = 7;
const KEY_MAX = 200;

/** A value for an error message: quoted, escaped, and cut short. */
export function shown(value: string, max = 120): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}...` : value);
}

/**
 * The location of a key (a resource id) in DCOR's layout.
 * @param key a resource id, normally a UUID: 7 to 200 letters, digits, `-` or `_`.
 * @returns `resources/<key[0:3]>/<key[3:6]>/<key[6:]>`.
 * @throws ValidationError when the key is not a safe path component, saying why.
 */
export function locationOfKey(key: string): string {
  const why = keyProblem(key);
  if (why !== undefined) throw new ValidationError(`depot key ${shown(key, 80)} ${why}; pass the resource id (a UUID such as 3f2b8c1e-5d4a-4e7f-9a0b-1c2d3e4f5a6b)`, { key: [why] });
  return `resources/${key.slice(0, 3)}/${key.slice(3, 6)}/${key.slice(6)}`;
}

function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key === '') return 'is empty';
  if (key.includes('/') || key.includes('\\')) return `contains "${key.includes('/') ? '/' : '\\'}", which would make it a path, not a name`;
  if (key.includes('..')) return 'contains ".."';
  if (!KEY.test(key)) {
    const bad = [...key].find((char) => !KEY.test(char)) ?? '';
    return `contains ${JSON.stringify(bad)}; only letters, digits, "-" and "_" are allowed`;
  }
  if (key.length < KEY_MIN) return `is ${key.length} characters long; it needs at least ${KEY_MIN} to fill the three levels of the layout`;
  if (key.length > KEY_MAX) return `is ${key.length} characters long; at most ${KEY_MAX} are allowed`;
  return undefined;
}

// Control characters and backslashes never occur in locations this depot writes; refusing
// them keeps odd names out of logs and keeps a backslash from ever acting as a separator.
const BAD_COMPONENT_CHAR = /[\u0000-\u001f\u007f\\]/;

/**
 * Whether one path component may appear in a location (used by `list()` too, so that it
 * only reports locations that `open`, `stat` and `delete` accept).
 */
export function isSafeComponent(component: string): boolean {
  return component !== '' && component !== '.' && component !== '..' && !BAD_COMPONENT_CHAR.test(component);
}

/**
 * The absolute path of a location, checked lexically: it must be a relative path of safe
 * components below `resources/`, and must resolve below it. Symlinks are not looked at here.
 * @throws ValidationError for absolute paths, `..`, `.`, empty parts, control characters,
 * backslashes, or anything outside `resources/`.
 */
export function pathOfLocation(paths: DepotFsPaths, location: string): string {
  const reject = (why: string): never => {
    throw new ValidationError(`depot location ${shown(location)} ${why}; locations of depot "fs" look like resources/<3 chars>/<3 chars>/<rest of the resource id>, as put() returns them`, { location: [why] });
  };
  if (typeof location !== 'string' || location === '') return reject('is empty');
  if (location.startsWith('/')) return reject('is an absolute path');
  const parts = location.split('/');
  if (parts[0] !== 'resources') return reject('is not below resources/');
  if (parts.length < 2) return reject('names the resources/ directory itself, not an object');
  const bad = parts.find((part) => !isSafeComponent(part));
  if (bad !== undefined) return reject(bad === '' ? 'has an empty path component ("//" or a trailing "/")' : bad === '.' || bad === '..' ? `contains a "${bad}" component` : 'contains a control character or a backslash');
  const path = resolve(paths.root, ...parts);
  if (!path.startsWith(paths.resources + sep)) return reject('resolves outside resources/');
  return path;
}
