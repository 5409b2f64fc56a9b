// Finds and imports plugins by name: `plugins/<name>` of this repository first, then an
// installed npm package (resolved from platform.ini's directory, then from the platform).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PluginError } from '../errors.js';
import { PLATFORM_VERSION } from '../version.js';
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

function resolvePackage(name: string, baseDir: string): string {
  for (const from of [join(baseDir, 'noop.js'), fileURLToPath(import.meta.url)]) {
    try {
      return pathToFileURL(createRequire(from).resolve(name)).href;
    } catch {
      // Try the next place.
    }
  }
  throw new PluginError(name, `not found: there is no plugins/${name} and no installed npm package "${name}" (install it with npm install ${name})`);
}

function check(name: string, value: unknown): PluginDefinition {
  const definition = value as Partial<PluginDefinition> | undefined;
  if (!definition || typeof definition !== 'object') throw new PluginError(name, 'has no default export; export default definePlugin({ ... })');
  if (definition.name !== name) throw new PluginError(name, `declares the name "${String(definition.name)}"; it must match the name it is enabled by`);
  if (typeof definition.version !== 'string' || !/^\d+\.\d+\.\d+/.test(definition.version)) throw new PluginError(name, 'must declare a semver version, e.g. version: "1.0.0"');
  if (typeof definition.register !== 'function') throw new PluginError(name, 'must have a register(ctx) function');
  if (definition.config !== undefined && (definition.config.type !== 'object' || typeof definition.config.properties !== 'object')) {
    throw new PluginError(name, 'config must be a JSON schema of type "object" with properties');
  }
  if (definition.coreVersion && !satisfiesRange(PLATFORM_VERSION, definition.coreVersion)) {
    throw new PluginError(name, `needs platform core ${definition.coreVersion}, but this is ${PLATFORM_VERSION}`);
  }
  return definition as PluginDefinition;
}
