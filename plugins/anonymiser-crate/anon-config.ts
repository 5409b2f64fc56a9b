// The run configuration (anon.ini): sources, destination, secret-map database, dictionary,
// keys and scrubbing options. Secrets (keys, URLs with passwords) come only from files
// (`NAME_file`) or the environment (`NAME_env`), never from the command line; every problem is
// reported at once, and messages never quote a secret.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ini from 'ini';
import { ValidationError } from '../../core/api.js';
import { HASH_METHODS, type HashMethod } from './keyed-hasher.js';
import { defaultScrubberOptions, type ScrubKind, type ScrubberOptions } from './patient-scrubber.js';
import type { ScrubMethod } from './data-dictionary.js';

/** A hash section (`[hash:NAME]`) for hash= alter methods. */
export interface HashSection {
  method: HashMethod;
  key: string;
}

/** A source read from resources of a dataset: one resource (CSV or JSON) per table. */
export interface DatasetSourceSpec {
  /** The dataset's name or id. */
  dataset: string;
  /** The tables, each from one resource; `table` defaults to the resource name without its extension. */
  tables: Array<{ table: string; resource: string }>;
}

/** A destination written as resources (one per table) of a dataset. */
export interface DatasetDestinationSpec {
  /** The dataset's name or id. */
  dataset: string;
  format: 'csv' | 'json';
}

/** Opt-outs kept in a table of a source database. */
export interface OptOutTableSpec {
  /** The source holding it; undefined: the source of the patient table. */
  source: string | undefined;
  table: string;
  /** The column of patient IDs, and/or of master IDs. */
  pidField: string | undefined;
  mpidField: string | undefined;
}

/** The whole, validated configuration of a run; plain data, so it can be sent to threads. */
export interface AnonConfig {
  /** Absolute path of the dictionary. */
  dataDictionary: string;
  /**
   * Database URLs of the sources, by name. Dataset sources are not here until a run has loaded
   * them into scratch databases (then their `sqlite:` URLs are).
   */
  sources: Record<string, string>;
  /** Sources read from resources of a dataset, by name. */
  datasetSources: Record<string, DatasetSourceSpec>;
  /** The destination database; for a dataset destination, set by the run to its scratch database. */
  destinationUrl: string;
  /** Write the destination tables as resources of this dataset instead of into a database. */
  destinationDataset: DatasetDestinationSpec | undefined;
  secretMapUrl: string;
  hashMethod: HashMethod;
  patientKey: string;
  masterKey: string;
  changeKey: string;
  hashSections: Record<string, HashSection>;
  workers: number;
  batchPatients: number;
  /** Patients one pool thread takes (in batches of batchPatients). */
  patientsPerTask: number;
  commitRows: number;
  commitBytes: number;
  thirdpartyXrefMaxDepth: number;
  /** How a PostgreSQL destination compresses long values: `lz4` when the server has it (the default), or the server's own default. */
  destinationCompression: 'lz4' | 'default';
  scrubber: ScrubberOptions;
  optOutPids: string[];
  optOutMpids: string[];
  /** Values of a `!` field that mean "opted out" (compared as strings, case-insensitive). */
  optOutValues: string[];
  /** Opt-outs listed in a source table (`optout_table`). */
  optOutTable: OptOutTableSpec | undefined;
  /** Rows of a table without patients one task copies (tables are split by key ranges of this size). */
  rowsPerTableTask: number;
  tridField: string;
  mridField: string;
  sourceHashField: string;
  extractionTimeoutMs: number;
  /**
   * Glob patterns (`*` any run) of scrubber-source field names scrubbed by address components
   * (scrub method `address`) when their method is `phrase`, `words` or the default: CRATE
   * dictionaries give addresses `phrase`, which matches only the whole address.
   */
  addressComponentFields: string[];
}

/** The method a scrubber-source field is scrubbed with: `address` for address-like fields written `phrase` or `words` (see addressComponentFields). */
export function effectiveScrubMethod(field: { srcField: string; scrubMethod: ScrubMethod | undefined }, addressFields: readonly string[]): ScrubMethod | undefined {
  const method = field.scrubMethod;
  if (method !== 'phrase' && method !== 'words') return method;
  const name = field.srcField.toLowerCase();
  return addressFields.some((glob) => new RegExp(`^${glob.toLowerCase().split('*').map((p) => p.replace(/[\\^$.+?()[\]{}|]/g, '\\$&')).join('.*')}$`).test(name)) ? 'address' : method;
}

type Section = Record<string, unknown>;

/** Reads and validates an anon.ini. @throws ValidationError listing every problem */
export function loadAnonConfig(file: string, env: NodeJS.ProcessEnv): AnonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ValidationError(`cannot read the anonymiser config ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseAnonConfig(text, dirname(resolve(file)), env);
}

/** Validates config text; relative paths resolve against `baseDir`. @throws ValidationError */
export function parseAnonConfig(text: string, baseDir: string, env: NodeJS.ProcessEnv): AnonConfig {
  const problems: string[] = [];
  const parsed = ini.parse(text) as Record<string, Section>;
  const main: Section = parsed.anonymise ?? {};
  if (!parsed.anonymise) problems.push('[anonymise] section is missing');
  const known = new Set(['data_dictionary', 'destination_url', 'destination_url_file', 'destination_url_env', 'secret_map_url', 'secret_map_url_file', 'secret_map_url_env', 'hash_method',
    'patient_key_file', 'patient_key_env', 'master_key_file', 'master_key_env', 'change_key_file', 'change_key_env', 'workers', 'batch_patients', 'patients_per_task', 'commit_rows', 'commit_mb',
    'thirdparty_xref_max_depth', 'replace_patient_info_with', 'replace_third_party_info_with', 'replace_nonspecific_info_with', 'scrub_string_suffixes',
    'min_string_length_to_scrub_with', 'allowlist_files', 'denylist_files', 'scrub_all_dates', 'blur_dates_format', 'scrub_all_numbers_of_n_digits', 'scrub_all_uk_postcodes',
    'scrub_all_email_addresses', 'extra_regexes_file', 'scrub_order', 'optout_pid_files', 'optout_mpid_files', 'optout_col_values', 'trid_fieldname', 'mrid_fieldname',
    'source_hash_fieldname', 'extraction_timeout_seconds', 'destination_dataset', 'destination_format', 'optout_table', 'optout_table_pid_column', 'optout_table_mpid_column',
    'rows_per_table_task', 'destination_compression', 'address_component_fields']);
  for (const key of Object.keys(main)) {
    if (!known.has(key)) problems.push(['patient_key', 'master_key', 'change_key'].includes(key) ? `[anonymise] ${key}: keys may not be written in the config; use ${key}_file or ${key}_env` : `[anonymise] unknown key "${key}"`);
  }
  for (const name of Object.keys(parsed)) {
    if (name !== 'anonymise' && !/^(source|hash):[A-Za-z0-9_-]+$/.test(name)) problems.push(`unknown section [${name}]; sections are [anonymise], [source:NAME] and [hash:NAME]`);
  }
  const str = (s: Section, key: string): string | undefined => (s[key] === undefined || s[key] === '' ? undefined : String(s[key]));
  const path = (p: string): string => resolve(baseDir, p);
  const readSecretFile = (where: string, p: string): string | undefined => {
    try {
      return readFileSync(path(p), 'utf8').trim();
    } catch (error) {
      problems.push(`${where}_file: cannot read ${p} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  /** A secret from NAME_file or NAME_env (NAME itself only when allowPlain). */
  const secret = (s: Section, sectionName: string, key: string, allowPlain: 'url' | false): string | undefined => {
    const where = `[${sectionName}] ${key}`;
    const given = [str(s, key), str(s, `${key}_file`), str(s, `${key}_env`)].filter((v) => v !== undefined).length;
    if (given > 1) problems.push(`${where}: give only one of ${key}, ${key}_file and ${key}_env`);
    const plain = str(s, key);
    if (plain !== undefined) {
      if (!allowPlain) {
        problems.push(`${where}: secrets may not be written in the config; use ${key}_file or ${key}_env`);
        return undefined;
      }
      if (/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(plain)) {
        problems.push(`${where}: the URL holds a password; move it to ${key}_file or ${key}_env`);
        return undefined;
      }
      return plain;
    }
    const file = str(s, `${key}_file`);
    if (file !== undefined) return readSecretFile(where, file);
    const envName = str(s, `${key}_env`);
    if (envName !== undefined) {
      const value = env[envName];
      if (!value) problems.push(`${where}_env: the environment variable ${envName} is not set`);
      return value || undefined;
    }
    problems.push(`${where}: missing; give ${allowPlain ? `${key}, ` : ''}${key}_file or ${key}_env`);
    return undefined;
  };
  const integer = (key: string, fallback: number, min: number): number => {
    const raw = str(main, key);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      problems.push(`[anonymise] ${key} must be a whole number of at least ${min}, not "${raw}"`);
      return fallback;
    }
    return n;
  };
  const bool = (key: string): boolean => {
    const raw = main[key];
    if (raw === undefined || raw === '') return false;
    if (raw === true || raw === false) return raw;
    problems.push(`[anonymise] ${key} must be true or false, not "${String(raw)}"`);
    return false;
  };
  const list = (key: string): string[] => (str(main, key) ?? '').split(/\s+/).filter(Boolean);
  const linesOf = (key: string, lowerCase = false): string[] =>
    list(key).flatMap((p) => {
      try {
        return readFileSync(path(p), 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => (lowerCase ? l.toLowerCase() : l));
      } catch (error) {
        problems.push(`[anonymise] ${key}: cannot read ${p} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
        return [];
      }
    });
  const hashMethod = (raw: string | undefined, where: string): HashMethod => {
    if (raw === undefined) return 'HMAC_SHA256';
    if (!(HASH_METHODS as readonly string[]).includes(raw)) problems.push(`${where} hash_method must be one of ${HASH_METHODS.join(', ')}, not "${raw}"`);
    return raw as HashMethod;
  };

  const dd = str(main, 'data_dictionary');
  if (!dd) problems.push('[anonymise] data_dictionary: missing; give the path of the TSV data dictionary');
  const sources: Record<string, string> = {};
  const datasetSources: Record<string, DatasetSourceSpec> = {};
  const hashSections: Record<string, HashSection> = {};
  const plainName = /^[A-Za-z_][A-Za-z0-9_]*$/;
  for (const [name, section] of Object.entries(parsed)) {
    if (name.startsWith('source:')) {
      const sourceName = name.slice('source:'.length);
      if (str(section, 'dataset') !== undefined || str(section, 'resources') !== undefined) {
        // A dataset's CSV/JSON resources, one per table: "resources = patient.csv note=notes-2024.json".
        for (const key of Object.keys(section)) if (!['dataset', 'resources'].includes(key)) problems.push(`[${name}] unknown key "${key}"; a dataset source has dataset and resources only`);
        const dataset = str(section, 'dataset');
        if (!dataset) problems.push(`[${name}] dataset: missing; give the name or id of the dataset whose resources hold the tables`);
        const tables: DatasetSourceSpec['tables'] = [];
        for (const entry of (str(section, 'resources') ?? '').split(/\s+/).filter(Boolean)) {
          const eq = entry.indexOf('=');
          const resource = eq >= 0 ? entry.slice(eq + 1) : entry;
          const table = eq >= 0 ? entry.slice(0, eq) : resource.replace(/\.(csv|json|jsonl|ndjson)$/i, '');
          if (!resource) problems.push(`[${name}] resources: "${entry}" names no resource; write TABLE=RESOURCE or RESOURCE`);
          else if (!plainName.test(table)) problems.push(`[${name}] resources: the table name "${table}" (from "${entry}") is not a plain identifier; name it: TABLE=${resource}`);
          else if (tables.some((t) => t.table.toLowerCase() === table.toLowerCase())) problems.push(`[${name}] resources: table "${table}" is named twice`);
          else tables.push({ table, resource });
        }
        if (!tables.length) problems.push(`[${name}] resources: missing; list the dataset's resources that hold the tables, e.g. resources = patient.csv note.json`);
        if (dataset) datasetSources[sourceName] = { dataset, tables };
        continue;
      }
      for (const key of Object.keys(section)) if (!['url', 'url_file', 'url_env'].includes(key)) problems.push(`[${name}] unknown key "${key}"`);
      const url = secret(section, name, 'url', 'url');
      if (url) sources[sourceName] = url;
    } else if (name.startsWith('hash:')) {
      for (const key of Object.keys(section)) if (!['hash_method', 'key_file', 'key_env'].includes(key)) problems.push(`[${name}] unknown key "${key}"`);
      const key = secret(section, name, 'key', false);
      const method = hashMethod(str(section, 'hash_method'), `[${name}]`);
      if (key) hashSections[name.slice('hash:'.length)] = { method, key };
    }
  }
  if (!Object.keys(sources).length && !Object.keys(datasetSources).length) problems.push('no [source:NAME] section: name at least one source database or dataset');
  const destinationDatasetName = str(main, 'destination_dataset');
  let destinationUrl: string | undefined;
  let destinationDataset: DatasetDestinationSpec | undefined;
  if (destinationDatasetName !== undefined) {
    if (['destination_url', 'destination_url_file', 'destination_url_env'].some((k) => str(main, k) !== undefined)) problems.push('[anonymise] give either destination_dataset or destination_url (_file, _env), not both');
    const format = (str(main, 'destination_format') ?? 'csv').toLowerCase();
    if (format !== 'csv' && format !== 'json') problems.push(`[anonymise] destination_format must be csv or json, not "${format}"`);
    destinationDataset = { dataset: destinationDatasetName, format: format === 'json' ? 'json' : 'csv' };
  } else {
    if (str(main, 'destination_format') !== undefined) problems.push('[anonymise] destination_format applies only with destination_dataset');
    destinationUrl = secret(main, 'anonymise', 'destination_url', 'url');
  }
  const secretMapUrl = secret(main, 'anonymise', 'secret_map_url', 'url');
  const patientKey = secret(main, 'anonymise', 'patient_key', false);
  const masterKey = secret(main, 'anonymise', 'master_key', false);
  const changeKey = secret(main, 'anonymise', 'change_key', false);
  if (patientKey && masterKey && patientKey === masterKey) problems.push('[anonymise] patient_key and master_key must differ');

  const scrubber = defaultScrubberOptions();
  scrubber.replacePatient = str(main, 'replace_patient_info_with') ?? scrubber.replacePatient;
  scrubber.replaceThirdParty = str(main, 'replace_third_party_info_with') ?? scrubber.replaceThirdParty;
  scrubber.replaceNonspecific = str(main, 'replace_nonspecific_info_with') ?? scrubber.replaceNonspecific;
  if (main.scrub_string_suffixes !== undefined) scrubber.suffixes = list('scrub_string_suffixes');
  scrubber.minWordLength = integer('min_string_length_to_scrub_with', scrubber.minWordLength, 1);
  scrubber.allowlist = new Set(linesOf('allowlist_files', true));
  const extraRegexes = str(main, 'extra_regexes_file') ? linesOf('extra_regexes_file') : [];
  for (const [i, source] of extraRegexes.entries()) {
    try {
      const groups = new RegExp(`${source}|`, 'u').exec('')!.length - 1;
      if (groups) problems.push(`extra regex ${i + 1}: use non-capturing groups (?:...) only`);
    } catch (error) {
      problems.push(`extra regex ${i + 1} is not a valid regular expression: ${(error as Error).message}`);
    }
  }
  scrubber.nonspecific = {
    allDates: bool('scrub_all_dates'), blurDatesFormat: str(main, 'blur_dates_format'),
    numbersOfDigits: integer('scrub_all_numbers_of_n_digits', 0, 0), ukPostcodes: bool('scrub_all_uk_postcodes'), emails: bool('scrub_all_email_addresses'),
    extraRegexes, denylist: linesOf('denylist_files'),
  };
  if (main.scrub_order !== undefined) {
    const order = list('scrub_order');
    const valid: ScrubKind[] = ['patient', 'thirdparty', 'nonspecific'];
    if (order.length !== 3 || !valid.every((k) => order.includes(k))) problems.push(`[anonymise] scrub_order must list patient, thirdparty and nonspecific once each, not "${order.join(' ')}"`);
    else scrubber.order = order as ScrubKind[];
  }
  let optOutValues = ['1', 'y', 'yes', 'true', 't'];
  if (str(main, 'optout_col_values')) {
    try {
      const v: unknown = JSON.parse(str(main, 'optout_col_values')!);
      if (!Array.isArray(v)) throw new Error('not a list');
      optOutValues = v.map((x) => String(x).toLowerCase());
    } catch {
      problems.push('[anonymise] optout_col_values must be a JSON list such as [1, "Y"]');
    }
  }
  const field = (key: string, fallback: string): string => {
    const v = str(main, key) ?? fallback;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) problems.push(`[anonymise] ${key} "${v}" is not a plain identifier`);
    return v;
  };
  let optOutTable: OptOutTableSpec | undefined;
  const optTable = str(main, 'optout_table');
  if (optTable !== undefined) {
    const [first, second, ...rest] = optTable.split('.');
    const source = second === undefined ? undefined : first;
    const table = second === undefined ? first! : second;
    if (rest.length || !plainName.test(table) || (source !== undefined && !(source in sources) && !(source in datasetSources))) {
      problems.push(`[anonymise] optout_table "${optTable}" must be TABLE (in the patient table's source) or SOURCE.TABLE, with a source of the config and a plain table name`);
    }
    const pidField = str(main, 'optout_table_pid_column') === undefined ? undefined : field('optout_table_pid_column', '');
    const mpidField = str(main, 'optout_table_mpid_column') === undefined ? undefined : field('optout_table_mpid_column', '');
    if (!pidField && !mpidField) problems.push('[anonymise] optout_table needs optout_table_pid_column (patient IDs) or optout_table_mpid_column (master IDs), or both');
    optOutTable = { source, table, pidField, mpidField };
  } else if (str(main, 'optout_table_pid_column') !== undefined || str(main, 'optout_table_mpid_column') !== undefined) {
    problems.push('[anonymise] optout_table_pid_column and optout_table_mpid_column need optout_table');
  }
  const config: AnonConfig = {
    dataDictionary: dd ? path(dd) : '',
    sources, datasetSources, destinationUrl: destinationUrl ?? '', destinationDataset, secretMapUrl: secretMapUrl ?? '',
    hashMethod: hashMethod(str(main, 'hash_method'), '[anonymise]'),
    patientKey: patientKey ?? '', masterKey: masterKey ?? '', changeKey: changeKey ?? '', hashSections,
    workers: integer('workers', 1, 1), batchPatients: integer('batch_patients', 50, 1), patientsPerTask: integer('patients_per_task', 2000, 1), commitRows: integer('commit_rows', 1000, 1),
    commitBytes: integer('commit_mb', 16, 1) * 1024 * 1024, thirdpartyXrefMaxDepth: integer('thirdparty_xref_max_depth', 1, 0),
    scrubber, optOutPids: linesOf('optout_pid_files'), optOutMpids: linesOf('optout_mpid_files'), optOutValues, optOutTable,
    rowsPerTableTask: integer('rows_per_table_task', 50_000, 1),
    destinationCompression: destinationCompression(str(main, 'destination_compression'), problems),
    tridField: field('trid_fieldname', 'trid'), mridField: field('mrid_fieldname', 'mrid'), sourceHashField: field('source_hash_fieldname', '_src_hash'),
    extractionTimeoutMs: integer('extraction_timeout_seconds', 60, 1) * 1000,
    addressComponentFields: main.address_component_fields === undefined ? ['*address*'] : list('address_component_fields'),
  };
  if (problems.length) throw new ValidationError(`the anonymiser config has ${problems.length} problem(s):\n${problems.join('\n')}`, { config: problems });
  return config;
}

/** `destination_compression`: `lz4` (the default) or `default` (the server's own setting). */
function destinationCompression(value: string | undefined, problems: string[]): 'lz4' | 'default' {
  if (value === undefined || value === 'lz4') return 'lz4';
  if (value === 'default') return 'default';
  problems.push(`[anonymise] destination_compression must be lz4 or default, not "${value}"`);
  return 'lz4';
}
