// The crate anonymiser over single files (kind "file", as distribution hands them): CSV, JSON
// (an array of records, one record, or JSON lines) and plain text, each scrubbed with the
// scrubber of the patient it concerns, built from the source databases an anon.ini names, as a
// whole run builds it. The patient comes from the rule's policy: a column (key) of each record,
// or a patient ID in the file's name. The patient ID itself becomes the research ID; patients
// who opted out are left out (their records, or the whole file). PDF and other binary files
// are refused with the reason: their text layer is not rewritten here.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ValidationError, type FileRecordDestination, type FileRecordSource } from '../../core/api.js';
import { loadAnonConfig, type AnonConfig } from './anon-config.js';
import { loadDictionary } from './anonymisation-run.js';
import { BatchProcessor } from './batch-processor.js';
import { KeyedHasher } from './keyed-hasher.js';
import { listPatients } from './patient-list.js';
import type { Scrubber } from './patient-scrubber.js';
import { SecretMapStore } from './secret-map-store.js';
import { openDatabase, type OpenDatabase } from './database-connection.js';
import { formatCsv, parseCsv, TableFileError } from './tabular-resource.js';

/** What a distribution rule's `anonymiser_policy` says for files. */
export interface FilePolicy {
  /** The anon.ini: keys, dictionary (whose patient scrubber fields are read), sources, secret map. */
  config: string;
  /** A column (CSV) or key (JSON) holding each record's source patient ID. */
  patientColumn: string | undefined;
  /** A regular expression over the file name whose group `pid` (or first group) is the patient ID. */
  patientFromName: RegExp | undefined;
  /** Files larger than this are refused (they are read whole). */
  maxBytes: number;
}

/** What the anonymisation of one file did. */
export interface FileOutcome {
  recordsRead: number;
  recordsWritten: number;
  /** The name to send the copy under, when scrubbing changed the received name. */
  name?: string;
}

const DEFAULT_MAX_MB = 256;

/**
 * Reads and checks a policy.
 * @throws ValidationError naming every problem
 */
export function parseFilePolicy(policy: Record<string, unknown>): FilePolicy {
  const problems: Record<string, string[]> = {};
  const bad = (field: string, message: string): void => void (problems[field] ??= []).push(message);
  const known = ['config', 'patient_column', 'patient_from_name', 'max_mb', 'incremental', 'workers'];
  for (const key of Object.keys(policy)) if (!known.includes(key)) bad(key, `unknown policy key "${key}"; a file policy has config, patient_column or patient_from_name, and max_mb`);
  if (typeof policy.config !== 'string' || !policy.config) bad('config', 'required: the path of an anon.ini');
  const column = policy.patient_column;
  if (column !== undefined && (typeof column !== 'string' || !column)) bad('patient_column', 'must be a column or key name');
  let fromName: RegExp | undefined;
  if (policy.patient_from_name !== undefined) {
    if (typeof policy.patient_from_name !== 'string') bad('patient_from_name', 'must be a regular expression, e.g. "^(?<pid>[A-Z0-9]+)_"');
    else {
      try {
        fromName = new RegExp(policy.patient_from_name, 'u');
        if (new RegExp(`${policy.patient_from_name}|`, 'u').exec('')!.length < 2) bad('patient_from_name', 'needs a capturing group (named pid, or the first group) that gives the patient ID');
      } catch (error) {
        bad('patient_from_name', `is not a valid regular expression: ${(error as Error).message}`);
      }
    }
  }
  if (column === undefined && policy.patient_from_name === undefined) bad('patient_column', 'give patient_column (a column or key of each record) or patient_from_name (a pattern over the file name): the scrubber is the patient\'s');
  const maxMb = policy.max_mb === undefined ? DEFAULT_MAX_MB : Number(policy.max_mb);
  if (!Number.isFinite(maxMb) || maxMb <= 0) bad('max_mb', 'must be a positive number of megabytes');
  if (Object.keys(problems).length) throw new ValidationError(`the crate anonymiser's file policy is not usable: ${Object.entries(problems).map(([k, v]) => `${k}: ${v.join('; ')}`).join('; ')}`, problems);
  return { config: policy.config as string, patientColumn: column as string | undefined, patientFromName: fromName, maxBytes: maxMb * 1024 * 1024 };
}

type FileFormat = 'csv' | 'json' | 'jsonl' | 'text';

/** The format of a file from its name and sniffed type, or a refusal saying why. */
function formatOf(source: FileRecordSource): FileFormat {
  const ext = extname(source.name).toLowerCase();
  if (source.mimeType === 'application/pdf' || ext === '.pdf') {
    throw new ValidationError(`"${source.name}" is a PDF: the crate anonymiser rewrites CSV, JSON and plain-text files, and does not rewrite a PDF's text layer (its text could be scrubbed, but the pages would still show it); extract the text first, or route PDFs without anonymisation`);
  }
  if (!source.mimeType.startsWith('text/') && source.mimeType !== 'application/json' && source.mimeType !== 'application/x-empty') {
    throw new ValidationError(`"${source.name}" is ${source.mimeType}, not text: the crate anonymiser rewrites CSV, JSON and plain-text files only`);
  }
  if (ext === '.csv') return 'csv';
  if (ext === '.json') return 'json';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return 'text';
}

/** The patient ID the file name gives, or undefined. */
function patientFromName(policy: FilePolicy, name: string): string | undefined {
  if (!policy.patientFromName) return undefined;
  const m = policy.patientFromName.exec(name);
  if (!m) throw new ValidationError(`the file name does not match patient_from_name (${policy.patientFromName.source}), so its patient is unknown`);
  const pid = m.groups?.pid ?? m[1];
  if (!pid) throw new ValidationError(`patient_from_name (${policy.patientFromName.source}) matched the file name but captured no patient ID`);
  return pid;
}

/**
 * The name an anonymised copy is sent under. The patient ID the name gave becomes the research
 * ID; then the stem is scrubbed by each patient's scrubber (a name can hold a surname or an
 * NHS number too), read with `_`, `-` and `.` as the spaces they stand for (a scrubber finds
 * words, and `_` is no word boundary). A stem the scrubbers leave alone keeps its form; a
 * scrubbed one has `_` between its words, and characters of a scrubber's replacement that do
 * not belong in a file name become `_`. The extension is kept.
 */
export function scrubbedFileName(name: string, fromName: { pid: string; rid: string } | undefined, scrubbers: readonly Scrubber[]): string {
  const ext = extname(name);
  let stem = name.slice(0, name.length - ext.length);
  if (fromName) stem = stem.split(fromName.pid).join(fromName.rid);
  const spaced = stem.replace(/[_.-]+/g, ' ');
  let scrubbed = spaced;
  for (const scrubber of scrubbers) scrubbed = scrubber.scrub(scrubbed);
  if (scrubbed === spaced) return `${stem}${ext}`;
  const clean = scrubbed.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^[._-]+|_+$/g, '') || 'anonymised';
  return `${clean}${ext}`.slice(0, 255);
}

/** Every string (and number that scrubs differently) of a JSON value, scrubbed; the patient key replaced by the research ID. */
function scrubJson(value: unknown, scrub: (text: string) => string, patientKey: string | undefined, rid: string, replacement: string): unknown {
  if (typeof value === 'string') return scrub(value);
  if (typeof value === 'number' || typeof value === 'bigint') return scrub(String(value)) === String(value) ? value : replacement;
  if (Array.isArray(value)) return value.map((v) => scrubJson(v, scrub, patientKey, rid, replacement));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === patientKey ? rid : scrubJson(v, scrub, patientKey, rid, replacement)]));
  }
  return value;
}

/** The records of a JSON or JSON-lines file, and how to write them back. */
function jsonRecords(text: string, format: 'json' | 'jsonl', name: string): { records: unknown[]; write(records: unknown[]): string } {
  if (format === 'jsonl') {
    const records: unknown[] = [];
    const lines = text.split(/\r?\n/);
    for (const [i, line] of lines.entries()) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        throw new ValidationError(`"${name}" line ${i + 1} is not JSON`);
      }
    }
    return { records, write: (out) => out.map((r) => JSON.stringify(r)).join('\n') + (out.length ? '\n' : '') };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`"${name}" is not JSON: ${(error as Error).message.replace(/ in JSON at position \d+.*$/, '')}`);
  }
  return Array.isArray(parsed) ? { records: parsed, write: (out) => `${JSON.stringify(out, null, 2)}\n` } : { records: [parsed], write: (out) => `${JSON.stringify(out[0] ?? null, null, 2)}\n` };
}

/**
 * Anonymises one file into `destination.path`.
 * @throws ValidationError for a policy, file format or patient that cannot be used (nothing is written)
 */
export async function anonymiseFile(source: FileRecordSource, destination: FileRecordDestination, rawPolicy: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<FileOutcome> {
  const policy = parseFilePolicy(rawPolicy);
  const format = formatOf(source);
  const size = (await stat(source.path)).size;
  if (size > policy.maxBytes) throw new ValidationError(`"${source.name}" is ${(size / 1048576).toFixed(1)} MB, more than the policy's max_mb (${policy.maxBytes / 1048576}); raise max_mb to anonymise it`);
  const config: AnonConfig = loadAnonConfig(policy.config, env);
  const plan = loadDictionary(config);
  const datasetSources = Object.keys(config.datasetSources);
  if (datasetSources.length) throw new ValidationError(`file anonymisation reads identifiers from source databases; this config's source ${datasetSources.join(', ')} is a dataset`);
  if (!plan.patientTable) throw new ValidationError('the data dictionary has no patient table (a P* field): files are scrubbed per patient');
  const text = (await readFile(source.path, 'utf8')).replace(/^\uFEFF/, '');
  const namePid = patientFromName(policy, source.name);

  // The records and their patients.
  let csv: ReturnType<typeof parseCsv> | undefined;
  let json: ReturnType<typeof jsonRecords> | undefined;
  let pids: string[];
  if (format === 'csv') {
    try {
      csv = parseCsv(text);
    } catch (error) {
      if (error instanceof TableFileError) throw new ValidationError(`"${source.name}" is not well-formed CSV: ${error.problems.join('; ')}`);
      throw error;
    }
    const column = policy.patientColumn === undefined ? -1 : csv.columns.indexOf(policy.patientColumn);
    if (policy.patientColumn !== undefined && column < 0) throw new ValidationError(`"${source.name}" has no column "${policy.patientColumn}" (patient_column); its columns: ${csv.columns.join(', ')}`);
    pids = csv.rows.map((r, i) => {
      const value = column >= 0 ? r.values[column] : namePid;
      if (value === null || value === undefined || String(value).trim() === '') throw new ValidationError(`"${source.name}" row ${i + 1} (line ${r.line}) has no patient ID in "${policy.patientColumn}"`);
      return String(value).trim();
    });
  } else if (format !== 'text') {
    json = jsonRecords(text, format, source.name);
    pids = json.records.map((r, i) => {
      const value = policy.patientColumn !== undefined && r !== null && typeof r === 'object' && !Array.isArray(r) ? (r as Record<string, unknown>)[policy.patientColumn] : namePid;
      if (value === null || value === undefined || String(value).trim() === '') throw new ValidationError(`"${source.name}" record ${i + 1} has no patient ID${policy.patientColumn ? ` under "${policy.patientColumn}"` : ''}`);
      return String(value).trim();
    });
  } else {
    if (namePid === undefined) throw new ValidationError(`"${source.name}" is plain text: its patient must come from its name (patient_from_name), as it has no columns`);
    pids = [namePid];
  }

  const processor = await BatchProcessor.open({ config, plan, incremental: false }, 2, false);
  const opened: OpenDatabase[] = [];
  try {
    const sources = processor.sourceDatabases();
    const { patients, optedOut } = await listPatients(config, plan, new Map(sources), async (url, role) => {
      const db = await openDatabase(url, role);
      opened.push(db);
      return db;
    });
    const known = new Map(patients.map((p) => [String(p.pid), p]));
    const wanted = [...new Set(pids)];
    const unknown = pids.findIndex((pid) => !known.has(pid));
    // The ID itself never appears in a message: it identifies.
    if (unknown >= 0) throw new ValidationError(`"${source.name}" ${format === 'text' ? 'names' : `record ${unknown + 1} names`} a patient who is not in the source's patient table (the ID is withheld); nothing was written`);
    const included = wanted.filter((pid) => !optedOut.has(pid));
    if (format === 'text' && !included.length) throw new ValidationError(`the patient of "${source.name}" opted out; nothing was written`);
    const scrubbers = await processor.scrubbersFor(included.map((pid) => known.get(pid)!.pid));
    for (const [pid, scrubber] of scrubbers) if (!scrubber) throw new ValidationError(`a patient of "${source.name}" lacks a required scrubber field (R), so their text cannot be scrubbed properly (the ID is withheld); nothing was written`);
    // Research IDs, recorded in the secret map so that they can be looked up as a run's are.
    const patientHasher = new KeyedHasher(config.hashMethod, config.patientKey);
    const masterHasher = new KeyedHasher(config.hashMethod, config.masterKey);
    const secret = await openDatabase(config.secretMapUrl, 'secret map');
    opened.push(secret);
    const store = new SecretMapStore(secret.sequelize, secret.dialect);
    await store.ensureSchema();
    const mappings = await store.ensure(included.map((pid) => {
      const mpid = known.get(pid)!.mpid;
      return { pid, rid: patientHasher.hash(pid), mpid, mrid: mpid === undefined ? undefined : masterHasher.hash(mpid) };
    }));
    const ridOf = (pid: string): string => mappings.get(pid)!.rid;
    const scrubberOf = (pid: string): Scrubber => scrubbers.get(String(known.get(pid)!.pid))!;
    const keep = (i: number): boolean => !optedOut.has(pids[i]!);
    let output: string;
    let written = 0;
    if (csv) {
      const column = policy.patientColumn === undefined ? -1 : csv.columns.indexOf(policy.patientColumn);
      const rows: Array<Record<string, unknown>> = [];
      csv.rows.forEach((r, i) => {
        if (!keep(i)) return;
        const scrub = scrubberOf(pids[i]!);
        rows.push(Object.fromEntries(csv!.columns.map((c, j) => [c, j === column ? ridOf(pids[i]!) : typeof r.values[j] === 'string' ? scrub.scrub(r.values[j] as string) : r.values[j]])));
      });
      written = rows.length;
      output = formatCsv(csv.columns, rows);
    } else if (json) {
      const out = json.records.flatMap((r, i) => (keep(i) ? [scrubJson(r, (t) => scrubberOf(pids[i]!).scrub(t), policy.patientColumn, ridOf(pids[i]!), config.scrubber.replacePatient)] : []));
      written = out.length;
      output = json.write(out);
    } else {
      output = scrubberOf(pids[0]!).scrub(text);
      written = 1;
    }
    await writeFile(destination.path, output, { encoding: 'utf8', mode: 0o640 });
    const name = scrubbedFileName(source.name, namePid === undefined ? undefined : { pid: namePid, rid: ridOf(namePid) }, included.map(scrubberOf));
    return { recordsRead: pids.length, recordsWritten: written, ...(name === source.name ? {} : { name }) };
  } finally {
    for (const db of opened) await db.close().catch(() => undefined);
    await processor.close();
  }
}
