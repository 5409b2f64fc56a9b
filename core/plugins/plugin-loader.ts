// Finds and imports plugins by name: `plugins/<name>` of this repository first, then an
// installed npm package (resolved from platform.ini's directory, then from the platform).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PluginError } from '../errors.js';
import { PLATFORM_VERSION } from '../version.js';
import { sectionValidator } from '../config/config-schema-compiler.js';
import type { PluginDefinition } from './define-plugin.js';
import { satisfiesRange } from './version-range.js';

/** A plugin found and checked, not yet registered. */
export interface LoadedPlugin {
  definition: PluginDefinition;
  /** `repository` (plugins/<name>), `package` (npm) or `inline` (given by code, e.g. tests). */
  origin: 'repository' | 'package' | 'inline';
  /** Where it was loaded from. */
  location: string;
}

const PLUGIN_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
const repositoryPlugins = fileURLToPath(new URL('../../plugins/', import.meta.url));

/**
 * Loads the plugins named in `[platform] plugins`, in order.
 * @param inline definitions supplied by code, used instead of resolving those names.
 * @throws PluginError naming the plugin and the cause.
 */
export async function loadPlugins(names: string[], baseDir: string, inline: ReadonlyMap<string, PluginDefinition> = new Map()): Promise<LoadedPlugin[]> {
  const seen = new Set<string>();
  const loaded: LoadedPlugin[] = [];
  for (const name of names) {
    if (seen.has(name)) throw new PluginError(name, 'is enabled twice in [platform] plugins');
    seen.add(name);
    loaded.push(await loadPlugin(name, baseDir, inline.get(name)));
  }
  return loaded;
}

async function loadPlugin(name: string, baseDir: string, inline: PluginDefinition | undefined): Promise<LoadedPlugin> {
  if (!PLUGIN_NAME.test(name)) throw new PluginError(name, 'is not a valid plugin name (lowercase letters, digits, . _ -, optionally @scope/)');
  if (inline) return { definition: check(name, inline), origin: 'inline', location: '<inline>' };
  const local = join(repositoryPlugins, name, 'index.js');
  let specifier: string;
  let origin: LoadedPlugin['origin'];
  if (!name.startsWith('@') && existsSync(local)) {
    specifier = pathToFileURL(local).href;
    origin = 'repository';
  } else {
    specifier = resolvePackage(name, baseDir);
    origin = 'package';
  }
  let module: { default?: unknown };
  try {
    module = (await import(specifier)) as { default?: unknown };
  } catch (error) {
    throw new PluginError(name, `failed to load: ${(error as Error).message}`, error);
  }
  return { definition: check(name, module.default), origin, location: origin === 'repository' ? `plugins/${name}` : fileURLToPath(specifier) };
}

/**
 * The entry file of an installed package, found the way `import` finds it (an ES module
 * plugin's `exports` may offer only the `import` condition, which require.resolve misses):
 * `node_modules/<name>` in `baseDir` or a parent, then in the platform's own tree; there its
 * `exports["."]` (conditions `node`, `import`, `default`), `main`, or `index.js`.
 * @returns a file URL. @throws PluginError when no such package is installed.
 */
export function resolvePackage(name: string, baseDir: string): string {
  for (const from of [baseDir, dirname(fileURLToPath(import.meta.url))]) {
    const dir = findPackageDir(name, from);
    if (dir) return pathToFileURL(packageEntry(name, dir)).href;
  }
  throw new PluginError(name, `not found: there is no plugins/${name} and no installed npm package "${name}" (install it with npm install ${name})`);
}

function findPackageDir(name: string, from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json')) || existsSync(join(candidate, 'index.js'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function packageEntry(name: string, dir: string): string {
  let manifest: { exports?: unknown; main?: unknown };
  // A bare directory (e.g. a symlinked build output) is its index.js, as for require().
  if (!existsSync(join(dir, 'package.json'))) return join(dir, 'index.js');
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { exports?: unknown; main?: unknown };
  } catch (error) {
    throw new PluginError(name, `cannot read ${join(dir, 'package.json')}: ${(error as Error).message}`, error);
  }
  const target = manifest.exports !== undefined ? exportTarget(manifest.exports) : typeof manifest.main === 'string' ? manifest.main : 'index.js';
  if (target === undefined) throw new PluginError(name, `package ${dir} exports no "." entry for import; add "exports": { ".": "./index.js" } to its package.json`);
  const file = resolve(dir, target);
  // `main` may omit the extension or name a directory, as CommonJS allows.
  for (const candidate of [file, `${file}.js`, join(file, 'index.js')]) if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  throw new PluginError(name, `package ${dir} names ${target} as its entry, but there is no such file`);
}

const CONDITIONS = new Set(['node', 'import', 'default']);

function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports;
  if (Array.isArray(exports)) {
    for (const alternative of exports) {
      const target = exportTarget(alternative);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  if (!exports || typeof exports !== 'object') return undefined;
  const map = exports as Record<string, unknown>;
  if (Object.keys(map).some((key) => key.startsWith('.'))) return exportTarget(map['.']);
  for (const [condition, target] of Object.entries(map)) {
    if (!CONDITIONS.has(condition)) continue;
    const found = exportTarget(target);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Config keys become `PLATFORM__PLUGIN_<NAME>__<KEY>` variables, which are matched in lower case. */
const CONFIG_KEY = /^[a-z][a-z0-9_]*$/;

function check(name: string, value: unknown): PluginDefinition {
  const definition = value as Partial<PluginDefinition> | undefined;
  if (!definition || typeof definition !== 'object') throw new PluginError(name, 'has no default export; export default definePlugin({ ... })');
  if (definition.name !== name) throw new PluginError(name, `declares the name "${String(definition.name)}"; it must match the name it is enabled by`);
  if (typeof definition.version !== 'string' || !/^\d+\.\d+\.\d+/.test(definition.version)) throw new PluginError(name, 'must declare a semver version, e.g. version: "1.0.0"');
  if (typeof definition.register !== 'function') throw new PluginError(name, 'must have a register(ctx) function');
  if (definition.config !== undefined) {
    if (definition.config.type !== 'object' || typeof definition.config.properties !== 'object' || definition.config.properties === null) {
      throw new PluginError(name, 'config must be a JSON schema of type "object" with properties');
    }
    const badKeys = Object.keys(definition.config.properties).filter((key) => !CONFIG_KEY.test(key));
    if (badKeys.length) throw new PluginError(name, `config keys ${badKeys.map((k) => `"${k}"`).join(', ')} must be lowercase letters, digits and _ (e.g. "api_url"), so that PLATFORM__ variables can override them`);
    try {
      sectionValidator(definition.config);
    } catch (error) {
      throw new PluginError(name, `its config schema is not a valid JSON schema: ${(error as Error).message}`, error);
    }
  }
  if (definition.coreVersion && !satisfiesRange(PLATFORM_VERSION, definition.coreVersion)) {
    throw new PluginError(name, `needs platform core ${definition.coreVersion}, but this is ${PLATFORM_VERSION}`);
  }
  return definition as PluginDefinition;
}
