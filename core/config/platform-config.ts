// platform.ini: reading, environment overrides, validation against the declared section
// schemas (core's and each enabled plugin's), and typed access to the validated values.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { ConfigError } from '../errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import type { ConfigSectionSchema } from './config-schema-types.js';
import { sectionValidator } from './config-schema-compiler.js';

type ConfigValue = string | number | boolean;
export type RawSections = Record<string, Record<string, string>>;

/** Where configuration came from, for messages. */
export interface ConfigSource {
  /** Absolute path of platform.ini, or a label such as `<defaults>`. */
  file: string;
  /** Directory relative paths are resolved against. */
  baseDir: string;
  /** The `PLATFORM__...` variable behind each overridden key (`section\u0000key`), for messages. */
  envOrigins?: ReadonlyMap<string, string>;
}

/**
 * Reads an ini file into raw string sections. Problems of its syntax (a line that is no
 * section, key or comment; a key set twice) are added to `problems`, so that they are
 * reported together with every other problem. @throws ConfigError when it cannot be read.
 */
export function readIniFile(file: string, problems: string[] = []): RawSections {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseIni(text, problems, file);
}

/**
 * Parses ini text; every value is kept as a string (the schemas coerce types). Section
 * names are taken as written (`[plugin:acme.thing]` is one section, not a nested one), a
 * line whose first non-blank character is `;` or `#` is a comment, and so is the rest of a
 * value from a `;` that follows whitespace (`watch = /srv/drop   ; the drop folder`), as with
 * Python's configparser and `inline_comment_prefixes=(';',)`; `#` inside a value is kept
 * (`site_title = Lab #1`). A value wholly in matching quotes loses them.
 */
export function parseIni(text: string, problems: string[] = [], file = '<text>'): RawSections {
  const sections: RawSections = {};
  const seen = new Map<string, number>();
  let section = '';
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    const at = `${file}:${index + 1}`;
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    // A header may carry an inline comment too (`[web]   ; the pages`), as with configparser.
    const header = /^\[([^\]]*)\](?:\s+;.*)?$/.exec(line);
    if (header) {
      section = header[1]!.trim();
      sections[section] ??= {};
      continue;
    }
    const equals = line.indexOf('=');
    if (equals <= 0) {
      problems.push(`${at}: "${line.length > 40 ? `${line.slice(0, 40)}...` : line}" is neither [section], key = value nor a comment`);
      continue;
    }
    const key = line.slice(0, equals).trim();
    // An inline comment: `;` after whitespace, as configparser's inline_comment_prefixes=(';',).
    let value = line.slice(equals + 1).replace(/\s;.*$/, '').trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0])) value = value.slice(1, -1);
    const id = `${section}\u0000${key}`;
    const first = seen.get(id);
    if (first !== undefined) problems.push(`${at}: [${section}] ${key}: set again (first set on line ${first}); keep one`);
    else seen.set(id, index + 1);
    sections[section] = { ...(sections[section] ?? {}), [key]: value };
  }
  return sections;
}

/**
 * Normalises a section name for matching environment variables: `plugin:depot-fs` ->
 * `PLUGIN_DEPOT_FS`, `plugin:@acme/thing` -> `PLUGIN_ACME_THING` (runs of other characters
 * become one `_`, so the name never contains the `__` that separates section and key).
 */
export function envSectionName(section: string): string {
  return section.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * Applies `PLATFORM__SECTION__KEY=value` overrides. Returns problems for variables that
 * name no known section. `origins`, when given, receives the variable behind each
 * overridden key (`section\u0000key`), so that a problem with it names the variable.
 */
export function applyEnvOverrides(sections: RawSections, env: NodeJS.ProcessEnv, knownSections: Iterable<string>, origins?: Map<string, string>): string[] {
  const problems: string[] = [];
  const byEnvName = new Map<string, string>();
  for (const name of [...knownSections, ...Object.keys(sections)]) byEnvName.set(envSectionName(name), name);
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith('PLATFORM__') || value === undefined) continue;
    const parts = variable.slice('PLATFORM__'.length).split('__');
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      problems.push(`environment ${variable}: expected PLATFORM__SECTION__KEY`);
      continue;
    }
    const section = byEnvName.get(parts[0]);
    if (!section) {
      problems.push(`environment ${variable}: no section matches "${parts[0]}"${didYouMean(parts[0], byEnvName.keys())}`);
      continue;
    }
    const key = parts[1].toLowerCase();
    sections[section] = { ...(sections[section] ?? {}), [key]: value };
    origins?.set(`${section}\u0000${key}`, variable);
  }
  return problems;
}

/** The validated configuration: typed values per section, with defaults applied. */
export class PlatformConfig {
  private constructor(
    readonly source: ConfigSource,
    private readonly values: Record<string, Record<string, ConfigValue>>,
    private readonly schemas: Record<string, ConfigSectionSchema>,
    /** Sections present in the file but ignored (e.g. of a plugin that is not enabled). */
    readonly ignoredSections: string[],
  ) {}

  /**
   * Validates raw sections against the schemas and reports every problem at once.
   * @throws ConfigError listing each problem with file, section and key.
   */
  static validate(raw: RawSections, schemas: Record<string, ConfigSectionSchema>, source: ConfigSource, extraProblems: string[] = []): PlatformConfig {
    const problems = [...extraProblems];
    const values: Record<string, Record<string, ConfigValue>> = {};
    const ignored: string[] = [];
    const where = (section: string, key?: string): string => {
      const variable = key === undefined ? undefined : source.envOrigins?.get(`${section}\u0000${key}`);
      return `${variable ? `environment ${variable}` : source.file}: [${section}]${key ? ` ${key}` : ''}`;
    };

    for (const section of Object.keys(raw)) {
      if (schemas[section]) continue;
      if (section === '') {
        problems.push(`${source.file}: keys before the first [section]: ${Object.keys(raw[section] ?? {}).join(', ')}`);
      } else if (section.startsWith('plugin:')) {
        ignored.push(section);
      } else {
        problems.push(`${where(section)}: unknown section${didYouMean(section, Object.keys(schemas))}`);
      }
    }

    for (const [section, schema] of Object.entries(schemas)) {
      const data: Record<string, unknown> = { ...(raw[section] ?? {}) };
      for (const key of Object.keys(data)) {
        if (!(key in schema.properties)) {
          problems.push(`${where(section, key)}: unknown key${didYouMean(key, Object.keys(schema.properties))}`);
          delete data[key];
        }
      }
      const validate = sectionValidator(schema);
      if (!validate(data)) {
        for (const error of validate.errors ?? []) problems.push(`${where(section, keyOf(error))}: ${messageOf(error)}`);
      }
      values[section] = data as Record<string, ConfigValue>;
    }

    if (problems.length) throw new ConfigError(`configuration is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'}):`, problems);
    return new PlatformConfig(source, values, schemas, ignored);
  }

  /** Loads a file (or only defaults when it does not exist and `optional`), applying env overrides. */
  static load(file: string, schemas: Record<string, ConfigSectionSchema>, env: NodeJS.ProcessEnv = process.env): PlatformConfig {
    const problems: string[] = [];
    const raw = readIniFile(file, problems);
    const envOrigins = new Map<string, string>();
    problems.push(...applyEnvOverrides(raw, env, Object.keys(schemas), envOrigins));
    return PlatformConfig.validate(raw, schemas, { file: resolve(file), baseDir: dirname(resolve(file)), envOrigins }, problems);
  }

  /** All validated values of one section. */
  section<T extends object = Record<string, ConfigValue>>(name: string): T {
    const section = this.values[name];
    if (!section) throw new ConfigError(`no configuration section [${name}] is declared`);
    return section as T;
  }

  /** One string value, or undefined when unset. */
  string(section: string, key: string): string | undefined {
    const value = this.values[section]?.[key];
    return value === undefined || value === '' ? undefined : String(value);
  }

  /** One value resolved as a path against the configuration file's directory. */
  path(section: string, key: string): string | undefined {
    const value = this.string(section, key);
    if (value === undefined) return undefined;
    return isAbsolute(value) ? value : resolve(this.source.baseDir, value);
  }

  /** Keys of every section marked `x-secret-file`, with the path each names. */
  secretFiles(): Array<{ section: string; key: string; path: string; generate: boolean }> {
    const out: Array<{ section: string; key: string; path: string; generate: boolean }> = [];
    for (const [section, schema] of Object.entries(this.schemas)) {
      for (const [key, property] of Object.entries(schema.properties)) {
        if (!property['x-secret-file']) continue;
        const path = this.path(section, key);
        if (path) out.push({ section, key, path, generate: property['x-generate'] === true });
      }
    }
    return out;
  }

  /** The declared schemas, for `inspect` and documentation. */
  declaredSchemas(): Readonly<Record<string, ConfigSectionSchema>> {
    return this.schemas;
  }

  /** The enabled plugin names, in order. */
  pluginNames(): string[] {
    return splitList(this.string('platform', 'plugins') ?? '');
  }
}

/** Splits a space- or comma-separated list. */
export function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((item) => item.length > 0);
}

/** The path of platform.ini: `--config`, then `PLATFORM_INI`, then `./platform.ini`. */
export function configPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(explicit ?? env.PLATFORM_INI ?? 'platform.ini');
}

/** True when the file exists. */
export function configExists(file: string): boolean {
  return existsSync(file);
}

function keyOf(error: ErrorObject): string | undefined {
  if (error.keyword === 'required') return (error.params as { missingProperty: string }).missingProperty;
  const path = error.instancePath.replace(/^\//, '');
  return path || undefined;
}

function messageOf(error: ErrorObject): string {
  if (error.keyword === 'enum') return `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
  if (error.keyword === 'required') return 'is required';
  return error.message ?? 'is invalid';
}
