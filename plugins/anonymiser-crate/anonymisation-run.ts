// One anonymisation run, start to end: validate the config and the whole dictionary before any
// row moves, prepare the destination, list patients (minus opt-outs), give each a research ID,
// transient ID and MRID in the secret map, then copy patients in batches across core's thread
// pool (or inline), tables without patients by key ranges (of one or several key fields), and
// in incremental runs delete destination rows whose source is gone. An incremental run first
// surveys the patients on this thread by digests alone, so that patients with nothing to do
// cost two small queries per batch and no pool thread starts when nothing changed; when it
// finds nothing to do and every destination table holds only the rows it found, no keys are
// read to look for vanished rows. Dataset sources and a dataset destination are staged in
// scratch SQLite databases first (dataset-staging.ts). A patient's scrubber digest is recorded
// only after all its rows are written, so a crash leaves it to be redone by the next
// --incremental run.
import { readFileSync } from 'node:fs';
import { QueryTypes } from 'sequelize';
import { ValidationError, type Logger, type Services, type ThreadPool } from '../../core/api.js';
import { loadAnonConfig, type AnonConfig } from './anon-config.js';
import { formatProblems, parseDataDictionary } from './data-dictionary.js';
import { planDictionary, type DictionaryPlan, type TablePlan } from './dictionary-plan.js';
import { openDatabase, type OpenDatabase } from './database-connection.js';
import { KeyedHasher } from './keyed-hasher.js';
import { SecretMapStore, type PatientMapping } from './secret-map-store.js';
import { indexStatements, prepareDestination, type AddedColumns } from './destination-schema.js';
import { BatchProcessor, tableKey, type BatchPatient, type BatchResult, type BatchSettings, type BatchTask } from './batch-processor.js';
import { quoteIdentifier } from './sql-dialect.js';
import { keyMatch, keyOrder, keyString, type KeyTuple } from './row-keys.js';
import { datasetFilesOf, stageDatasets, type DatasetFiles } from './dataset-staging.js';
import { listPatients } from './patient-list.js';

/** How far a run is. */
export interface RunProgress {
  phase: 'patients' | 'tables' | 'cleanup' | 'done';
  patientsDone: number;
  patientsTotal: number;
  rowsWritten: number;
  bytesRead: number;
}

/** What a run did. */
export interface RunSummary {
  incremental: boolean;
  workers: number;
  patients: number;
  patientsOptedOut: number;
  patientsSkipped: number;
  rowsRead: number;
  rowsWritten: number;
  rowsUnchanged: number;
  rowsSkipped: number;
  rowsDeleted: number;
  bytesRead: number;
  seconds: number;
  /** Resources written to the destination dataset (a dataset destination only). */
  resourcesWritten?: string[];
}

/** How to run. */
export interface RunOptions {
  /** The anon.ini, or an already loaded config. */
  configFile?: string;
  config?: AnonConfig;
  env?: NodeJS.ProcessEnv;
  incremental: boolean;
  /** Overrides `[anonymise] workers`. */
  workers?: number;
  /** Core's services: dataset sources and destinations are read and written through them. */
  services?: Services;
  /** Reads and writes dataset resources; default: through `services`. */
  datasetFiles?: DatasetFiles;
  /** Core's pool; without it batches run inline on this thread. */
  pool?: ThreadPool;
  signal?: AbortSignal;
  logger?: Logger;
  onProgress?(progress: RunProgress): void;
}

/** Loads and validates the dictionary named by `config`. @throws ValidationError with every problem by line and column */
export function loadDictionary(config: AnonConfig): DictionaryPlan {
  let text: string;
  try {
    text = readFileSync(config.dataDictionary, 'utf8');
  } catch (error) {
    throw new ValidationError(`cannot read the data dictionary: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const parsed = parseDataDictionary(text);
  const { plan, problems } = planDictionary(parsed.rows, { sources: [...Object.keys(config.sources), ...Object.keys(config.datasetSources)], hashSections: Object.keys(config.hashSections), reservedFields: [config.tridField, config.mridField, config.sourceHashField] });
  const all = [...parsed.problems, ...problems].sort((a, b) => a.line - b.line);
  if (all.length) throw new ValidationError(`the data dictionary has ${all.length} problem(s); nothing was written:\n${formatProblems('data dictionary', all)}`, { data_dictionary: all.map((p) => `line ${p.line}${p.column ? ` column ${p.column}` : ''}: ${p.message}`) });
  return plan;
}

/** Runs an anonymisation. @throws ValidationError for a bad config or dictionary, before anything is written */
export async function runAnonymisation(options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  // Where a run's time goes, for `--log-level debug` and benchmarks.
  const reached = (phase: string): void => options.logger?.debug('anonymisation phase reached', { phase, ms: Date.now() - started });
  const loaded = options.config ?? loadAnonConfig(options.configFile!, options.env ?? process.env);
  const plan = loadDictionary(loaded);
  const workers = options.workers ?? loaded.workers;
  const summary: RunSummary = { incremental: options.incremental, workers, patients: 0, patientsOptedOut: 0, patientsSkipped: 0, rowsRead: 0, rowsWritten: 0, rowsUnchanged: 0, rowsSkipped: 0, rowsDeleted: 0, bytesRead: 0, seconds: 0 };
  const patientHasher = new KeyedHasher(loaded.hashMethod, loaded.patientKey);
  const masterHasher = new KeyedHasher(loaded.hashMethod, loaded.masterKey);
  const changeHasher = new KeyedHasher(loaded.hashMethod, loaded.changeKey);
  const added: AddedColumns = { tridField: loaded.tridField, mridField: loaded.mridField, sourceHashField: loaded.sourceHashField, ridLength: patientHasher.hexLength, hashLength: changeHasher.hexLength };
  // Dataset resources are loaded (and checked) before any database is opened for writing.
  const stage = await stageDatasets(loaded, plan, options.datasetFiles ?? (options.services ? datasetFilesOf(options.services) : undefined), options.incremental, added);
  const config = stage.config;
  const settings: BatchSettings = { config, plan, incremental: options.incremental };

  const opened: OpenDatabase[] = [];
  const open = async (url: string, role: string): Promise<OpenDatabase> => {
    const db = await openDatabase(url, role);
    opened.push(db);
    return db;
  };
  let inline: BatchProcessor | undefined;
  try {
    const secret = await open(config.secretMapUrl, 'secret map');
    const destination = await open(config.destinationUrl, 'destination');
    const sources = new Map<string, OpenDatabase>();
    for (const name of new Set(plan.tables.map((t) => t.srcDb))) sources.set(name, await open(config.sources[name]!, `source ${name}`));
    reached('opened');
    const store = new SecretMapStore(secret.sequelize, secret.dialect);
    await store.ensureSchema();

    const created = await prepareDestination(destination.sequelize, destination.dialect, plan.tables, added, !options.incremental, config.destinationCompression);
    if (!options.incremental) await store.clearDigests();

    reached('prepared');
    // Patients and opt-outs.
    const { patients, optedOut } = await listPatients(config, plan, sources, open);
    reached('patients listed');
    const included = patients.filter((p) => !optedOut.has(String(p.pid)));
    summary.patients = included.length;
    summary.patientsOptedOut = patients.length - included.length;
    const mappings = await store.ensure(patients.map((p) => ({ pid: String(p.pid), rid: patientHasher.hash(String(p.pid)), mpid: p.mpid, mrid: p.mpid === undefined ? undefined : masterHasher.hash(p.mpid) })));

    reached('mappings');
    const progress: RunProgress = { phase: 'patients', patientsDone: 0, patientsTotal: included.length, rowsWritten: 0, bytesRead: 0 };
    const skipped = new Set<string>();
    // Scrubber and row-version digests of patients written completely (or, for row versions,
    // found unchanged), recorded only after their rows are committed, and only where they differ
    // from what the secret map held at the start.
    const storeDigests = async (result: Pick<BatchResult, 'scrubberHashes' | 'rowsVersions'>): Promise<void> => {
      const changed = (digests: Record<string, string>, recorded: (m: PatientMapping) => string | undefined): Map<string, string> =>
        new Map(Object.entries(digests).filter(([pid, digest]) => {
          const mapping = mappings.get(pid);
          return !mapping || recorded(mapping) !== digest;
        }));
      const hashes = changed(result.scrubberHashes, (m) => m.scrubberHash);
      if (hashes.size) await store.setScrubberHashes(hashes);
      const versions = changed(result.rowsVersions, (m) => m.rowsVersion);
      if (versions.size) await store.setRowsVersions(versions);
    };
    const batchPatient = (p: { pid: string | number }): BatchPatient => {
      const m = mappings.get(String(p.pid))!;
      return { pid: p.pid, rid: m.rid, trid: m.trid, mrid: m.mrid, previousScrubberHash: m.scrubberHash, previousRowsVersion: m.rowsVersion };
    };
    let toRun: BatchPatient[] = included.map(batchPatient);
    // Rows whose source is gone: for tables without patients (and for patient tables the survey
    // does not settle, below) the keys of both sides are read while the run goes on (the
    // databases answer these reads while this thread works) and compared in the clean-up. Tasks
    // write only rows whose source key exists, so what they do cannot change that list.
    const vanished = new Map<TablePlan, Promise<KeyTuple[]>>();
    const findGone = (table: TablePlan): void => {
      const found = findVanished(sources.get(table.srcDb)!, destination, table, (key) => table.keys.map((k, i) => (k === table.pid ? patientHasher.hash(String(key[i])) : key[i])));
      // Awaited in the clean-up; this only keeps a failure meanwhile from going unhandled.
      found.catch(() => undefined);
      vanished.set(table, found);
    };
    const keepsRows = (table: TablePlan): boolean => options.incremental && table.included.length > 0 && !table.addOnly;
    for (const table of plan.tables) if (keepsRows(table) && !table.pid) findGone(table);
    // Per patient table: destination rows the survey found for source rows of patients who stay.
    let present: Map<string, number> | undefined;
    if (options.incremental && toRun.length) {
      // A first pass on this thread finds the patients with anything to do, comparing digests
      // only; the others need no scrubber, no thread and no further query (see survey()).
      // Three batches in flight, each with its reads in parallel: connections for all. With two,
      // the main thread still waited on the databases a fifth of the time.
      inline = await BatchProcessor.open(settings, 6);
      if (inline.canSurvey()) {
        const surveyor = inline;
        const counts = (present = new Map());
        const batches: BatchPatient[][] = [];
        for (let i = 0; i < toRun.length; i += config.batchPatients) batches.push(toRun.slice(i, i + config.batchPatients));
        const changed: BatchPatient[][] = new Array(batches.length);
        let next = 0;
        // Three batches in flight: the databases answer two while this thread compares the third.
        const lane = async (): Promise<void> => {
          while (next < batches.length) {
            options.signal?.throwIfAborted();
            const i = next++;
            const { changed: c, result, present: found } = await surveyor.survey(batches[i]!);
            changed[i] = c;
            for (const [table, n] of Object.entries(found)) counts.set(table, (counts.get(table) ?? 0) + n);
            summary.rowsRead += result.rowsRead;
            summary.rowsUnchanged += result.rowsUnchanged;
            summary.rowsSkipped += result.rowsSkipped;
            summary.bytesRead += result.bytesRead;
            for (const pid of result.skippedPatients) skipped.add(pid);
            await storeDigests(result);
            progress.patientsDone += batches[i]!.length - c.length;
            progress.bytesRead = summary.bytesRead;
            options.onProgress?.({ ...progress });
          }
        };
        await Promise.all([lane(), lane(), lane()]);
        toRun = changed.flat();
      }
    }

    reached('surveyed');
    // When no patient has anything to do, the survey found a destination row for every source
    // row of the patients who stay: if a table then holds no more rows than that (after the
    // rows of patients who left are deleted), no row lost its source, and both sides' keys need
    // not be read (see the clean-up). Otherwise the keys are read while the tasks run.
    const settled = present !== undefined && toRun.length === 0;
    for (const table of plan.tables) if (keepsRows(table) && table.pid && !settled) findGone(table);
    // Work, coarse: batches of patients, then key ranges of other tables.
    // On the pool a task is a whole fresh thread: loading sequelize and the drivers and
    // connecting cost most of a second there, so a task gets many batches: at most
    // patients_per_task patients each, in rounds of one task per worker, all tasks the same
    // size so that the threads finish together (a last, smaller task would run on one thread
    // while the others sit idle).
    const pooled = Boolean(options.pool && workers > 0);
    const rounds = Math.max(1, Math.ceil(toRun.length / (workers * config.patientsPerTask)));
    const perTask = pooled ? Math.max(config.batchPatients, Math.ceil(toRun.length / (workers * rounds))) : config.batchPatients;
    const tasks: BatchTask[] = [];
    for (let i = 0; i < toRun.length; i += perTask) tasks.push({ kind: 'patients', patients: toRun.slice(i, i + perTask) });
    for (const table of plan.tables) {
      if (table.pid || !table.included.length) continue;
      tasks.push(...(await keyRanges(sources.get(table.srcDb)!, table, config.rowsPerTableTask)));
    }
    const absorb = async (task: BatchTask, r: BatchResult): Promise<void> => {
      summary.rowsRead += r.rowsRead;
      summary.rowsWritten += r.rowsWritten;
      summary.rowsUnchanged += r.rowsUnchanged;
      summary.rowsSkipped += r.rowsSkipped;
      summary.bytesRead += r.bytesRead;
      for (const pid of r.skippedPatients) skipped.add(pid);
      await storeDigests(r);
      if (task.kind === 'patients') progress.patientsDone += task.patients.length;
      else progress.phase = 'tables';
      progress.rowsWritten = summary.rowsWritten;
      progress.bytesRead = summary.bytesRead;
      options.onProgress?.({ ...progress });
    };
    if (pooled) {
      const pool = options.pool!;
      const module = new URL('./batch-thread.js', import.meta.url);
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < tasks.length) {
          options.signal?.throwIfAborted();
          const task = tasks[next++]!;
          const r = await pool.run<BatchResult>({ module, export: 'runAnonymiserBatch', args: [settings, task], ...(options.signal ? { signal: options.signal } : {}) });
          await absorb(task, r);
        }
      };
      await Promise.all(Array.from({ length: Math.min(workers, Math.max(1, tasks.length)) }, lane));
    } else {
      inline ??= await BatchProcessor.open(settings);
      for (const task of tasks) {
        options.signal?.throwIfAborted();
        await absorb(task, await inline.run(task));
      }
    }
    reached('tasks done');
    summary.patientsSkipped = skipped.size;

    // Clean-up: rows of opted-out and skipped patients, and rows whose source is gone.
    progress.phase = 'cleanup';
    options.onProgress?.({ ...progress });
    if (options.incremental) {
      const gonePatients = [...optedOut, ...skipped].map((pid) => mappings.get(pid)?.rid).filter((rid): rid is string => rid !== undefined);
      for (const table of plan.tables) {
        if (!table.included.length) continue;
        if (table.pid && gonePatients.length) summary.rowsDeleted += await deleteKeys(destination, table.destTable, table.pid.destField, gonePatients);
        if (!keepsRows(table)) continue;
        if (!vanished.has(table) && !(await holdsOnly(destination, table.destTable, present!.get(tableKey(table)) ?? 0))) findGone(table);
        const gone = vanished.get(table);
        const keys = gone ? await gone : [];
        if (keys.length) summary.rowsDeleted += await deleteTuples(destination, table.destTable, table.keys.map((k) => k.destField), keys);
      }
    }
    reached('cleanup done');
    for (const table of created) for (const sql of indexStatements(destination.dialect, table, added)) await destination.sequelize.query(sql);
    if (config.destinationDataset) {
      await destination.close();
      opened.splice(opened.indexOf(destination), 1);
      summary.resourcesWritten = await stage.publish(plan, added);
    }
    progress.phase = 'done';
    options.onProgress?.({ ...progress });
    summary.seconds = (Date.now() - started) / 1000;
    options.logger?.info('anonymisation finished', { ...summary });
    return summary;
  } finally {
    await inline?.close();
    for (const db of opened.reverse()) await db.close().catch(() => undefined);
    stage.cleanup();
  }
}

/**
 * Tasks covering `table` in ranges of about `size` rows, bounded by whole keys (all fields of a
 * composite key), so that ranges neither overlap nor miss rows.
 */
async function keyRanges(db: OpenDatabase, table: TablePlan, size: number): Promise<BatchTask[]> {
  const q = (n: string): string => quoteIdentifier(db.dialect, n);
  const fields = table.keys.map((k) => k.srcField);
  const select = fields.map((f, i) => `${q(f)} AS ${q(`k${i}`)}`).join(', ');
  const order = keyOrder(db.dialect, fields);
  const bounds: KeyTuple[] = [];
  for (let offset = size - 1; ; offset += size) {
    const sql = db.dialect === 'mssql'
      ? `SELECT ${select} FROM ${q(table.srcTable)} ORDER BY ${order} OFFSET ${offset} ROWS FETCH NEXT 1 ROWS ONLY`
      : `SELECT ${select} FROM ${q(table.srcTable)} ORDER BY ${order} LIMIT 1 OFFSET ${offset}`;
    const rows = await db.sequelize.query<Record<string, unknown>>(sql, { type: QueryTypes.SELECT });
    if (!rows.length) break;
    bounds.push(fields.map((_, i) => rows[0]![`k${i}`]));
  }
  const tasks: BatchTask[] = [];
  let after: KeyTuple | undefined;
  for (const bound of bounds) {
    tasks.push({ kind: 'table', table: tableKey(table), after, upTo: bound });
    after = bound;
  }
  tasks.push({ kind: 'table', table: tableKey(table), after, upTo: undefined });
  return tasks;
}

async function deleteKeys(db: OpenDatabase, table: string, field: string, keys: readonly unknown[]): Promise<number> {
  return deleteTuples(db, table, [field], keys.map((k) => [k]));
}

/** Deletes the rows whose key (of `fields`) is one of `tuples`; returns how many went. */
async function deleteTuples(db: OpenDatabase, table: string, fields: readonly string[], tuples: readonly KeyTuple[]): Promise<number> {
  const q = (n: string): string => quoteIdentifier(db.dialect, n);
  let deleted = 0;
  const chunkSize = fields.length === 1 ? 500 : 100;
  for (let i = 0; i < tuples.length; i += chunkSize) {
    const match = keyMatch(db.dialect, fields, tuples.slice(i, i + chunkSize), 'keys');
    const [count] = await db.sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${match.sql}`, { type: QueryTypes.SELECT, replacements: match.replacements });
    if (Number(count?.n ?? 0) === 0) continue;
    await db.sequelize.query(`DELETE FROM ${q(table)} WHERE ${match.sql}`, { replacements: match.replacements });
    deleted += Number(count!.n);
  }
  return deleted;
}

/** True when `table` holds exactly `rows` rows. */
async function holdsOnly(db: OpenDatabase, table: string, rows: number): Promise<boolean> {
  const q = (n: string): string => quoteIdentifier(db.dialect, n);
  const [count] = await db.sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(table)}`, { type: QueryTypes.SELECT });
  return Number(count?.n ?? -1) === rows;
}

/** The destination keys (of the table's destination key fields) whose source key no longer exists. */
async function findVanished(source: OpenDatabase, destination: OpenDatabase, table: TablePlan, destKeyOf: (sourceKey: KeyTuple) => KeyTuple): Promise<KeyTuple[]> {
  const qs = (n: string): string => quoteIdentifier(source.dialect, n);
  const qd = (n: string): string => quoteIdentifier(destination.dialect, n);
  const srcFields = table.keys.map((k) => k.srcField);
  const destFields = table.keys.map((k) => k.destField);
  const tuple = (r: Record<string, unknown>): KeyTuple => srcFields.map((_, i) => r[`k${i}`]);
  // Both reads at once: each database answers while the other does.
  const [sourceRows, destKeys] = await Promise.all([
    source.sequelize.query<Record<string, unknown>>(`SELECT ${srcFields.map((f, i) => `${qs(f)} AS ${qs(`k${i}`)}`).join(', ')} FROM ${qs(table.srcTable)}`, { type: QueryTypes.SELECT }),
    destination.sequelize.query<Record<string, unknown>>(`SELECT ${destFields.map((f, i) => `${qd(f)} AS ${qd(`k${i}`)}`).join(', ')} FROM ${qd(table.destTable)}`, { type: QueryTypes.SELECT }),
  ]);
  const sourceKeys = new Set(sourceRows.map((r) => keyString(destKeyOf(tuple(r)))));
  return destKeys.map(tuple).filter((k) => !sourceKeys.has(keyString(k)));
}
