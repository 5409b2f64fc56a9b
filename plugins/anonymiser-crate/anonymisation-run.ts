// One anonymisation run, start to end: validate the config and the whole dictionary before any
// row moves, prepare the destination, list patients (minus opt-outs), give each a research ID,
// transient ID and MRID in the secret map, then copy patients in batches across core's thread
// pool (or inline), tables without patients by key ranges, and in incremental runs delete
// destination rows whose source is gone. A patient's scrubber digest is recorded only after
// all its rows are written, so a crash leaves it to be redone by the next --incremental run.
import { readFileSync } from 'node:fs';
import { QueryTypes } from 'sequelize';
import { ValidationError, type Logger, type ThreadPool } from '../../core/api.js';
import { loadAnonConfig, type AnonConfig } from './anon-config.js';
import { formatProblems, parseDataDictionary } from './data-dictionary.js';
import { planDictionary, type DictionaryPlan, type TablePlan } from './dictionary-plan.js';
import { openDatabase, type OpenDatabase } from './database-connection.js';
import { KeyedHasher } from './keyed-hasher.js';
import { SecretMapStore } from './secret-map-store.js';
import { indexStatements, prepareDestination, type AddedColumns } from './destination-schema.js';
import { BatchProcessor, tableKey, type BatchPatient, type BatchResult, type BatchSettings, type BatchTask } from './batch-processor.js';
import { quoteIdentifier } from './sql-dialect.js';

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
  const { plan, problems } = planDictionary(parsed.rows, { sources: Object.keys(config.sources), hashSections: Object.keys(config.hashSections), reservedFields: [config.tridField, config.mridField, config.sourceHashField] });
  const all = [...parsed.problems, ...problems].sort((a, b) => a.line - b.line);
  if (all.length) throw new ValidationError(`the data dictionary has ${all.length} problem(s); nothing was written:\n${formatProblems('data dictionary', all)}`, { data_dictionary: all.map((p) => `line ${p.line}${p.column ? ` column ${p.column}` : ''}: ${p.message}`) });
  return plan;
}

const TRUE_LIKE = (values: readonly string[], v: unknown): boolean => v !== null && v !== undefined && values.includes(String(v).trim().toLowerCase());

/** Runs an anonymisation. @throws ValidationError for a bad config or dictionary, before anything is written */
export async function runAnonymisation(options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const config = options.config ?? loadAnonConfig(options.configFile!, options.env ?? process.env);
  const plan = loadDictionary(config);
  const workers = options.workers ?? config.workers;
  const settings: BatchSettings = { config, plan, incremental: options.incremental };
  const summary: RunSummary = { incremental: options.incremental, workers, patients: 0, patientsOptedOut: 0, patientsSkipped: 0, rowsRead: 0, rowsWritten: 0, rowsUnchanged: 0, rowsSkipped: 0, rowsDeleted: 0, bytesRead: 0, seconds: 0 };
  const patientHasher = new KeyedHasher(config.hashMethod, config.patientKey);
  const masterHasher = new KeyedHasher(config.hashMethod, config.masterKey);
  const changeHasher = new KeyedHasher(config.hashMethod, config.changeKey);
  const added: AddedColumns = { tridField: config.tridField, mridField: config.mridField, sourceHashField: config.sourceHashField, ridLength: patientHasher.hexLength, hashLength: changeHasher.hexLength };

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
    const store = new SecretMapStore(secret.sequelize, secret.dialect);
    await store.ensureSchema();

    const created = await prepareDestination(destination.sequelize, destination.dialect, plan.tables, added, !options.incremental);
    if (!options.incremental) await store.clearScrubberHashes();

    // Patients and opt-outs.
    const patientTable = plan.patientTable;
    const patients: Array<{ pid: string | number; mpid: string | undefined }> = [];
    const optedOut = new Set<string>();
    if (patientTable) {
      const db = sources.get(patientTable.srcDb)!;
      const q = (n: string): string => quoteIdentifier(db.dialect, n);
      const fields = [patientTable.pid!.srcField, ...(patientTable.mpid ? [patientTable.mpid.srcField] : [])];
      const rows = await db.sequelize.query<Record<string, unknown>>(`SELECT ${fields.map(q).join(', ')} FROM ${q(patientTable.srcTable)} WHERE ${q(patientTable.pid!.srcField)} IS NOT NULL ORDER BY ${q(patientTable.pid!.srcField)}`, { type: QueryTypes.SELECT });
      const seen = new Set<string>();
      for (const r of rows) {
        const pid = r[patientTable.pid!.srcField] as string | number;
        if (seen.has(String(pid))) continue;
        seen.add(String(pid));
        const mpidValue = patientTable.mpid ? r[patientTable.mpid.srcField] : undefined;
        patients.push({ pid, mpid: mpidValue === null || mpidValue === undefined ? undefined : String(mpidValue) });
      }
      for (const table of plan.tables) {
        if (!table.optOutFields.length) continue;
        const tdb = sources.get(table.srcDb)!;
        const tq = (n: string): string => quoteIdentifier(tdb.dialect, n);
        const fieldsOut = [table.pid!.srcField, ...table.optOutFields.map((f) => f.srcField)];
        const optRows = await tdb.sequelize.query<Record<string, unknown>>(`SELECT ${fieldsOut.map(tq).join(', ')} FROM ${tq(table.srcTable)}`, { type: QueryTypes.SELECT });
        for (const r of optRows) if (table.optOutFields.some((f) => TRUE_LIKE(config.optOutValues, r[f.srcField]))) optedOut.add(String(r[table.pid!.srcField]));
      }
      const optPids = new Set(config.optOutPids);
      const optMpids = new Set(config.optOutMpids);
      for (const p of patients) if (optPids.has(String(p.pid)) || (p.mpid !== undefined && optMpids.has(p.mpid))) optedOut.add(String(p.pid));
    }
    const included = patients.filter((p) => !optedOut.has(String(p.pid)));
    summary.patients = included.length;
    summary.patientsOptedOut = patients.length - included.length;
    const mappings = await store.ensure(patients.map((p) => ({ pid: String(p.pid), rid: patientHasher.hash(String(p.pid)), mpid: p.mpid, mrid: p.mpid === undefined ? undefined : masterHasher.hash(p.mpid) })));

    // Work, coarse: batches of patients, then key ranges of other tables.
    // On the pool a task is a whole fresh thread: loading sequelize and the drivers and
    // connecting cost most of a second there, so a task gets many batches: one task per worker,
    // at most patients_per_task patients each.
    const pooled = Boolean(options.pool && workers > 0);
    const perTask = pooled ? Math.min(config.patientsPerTask, Math.max(config.batchPatients, Math.ceil(included.length / workers))) : config.batchPatients;
    const tasks: BatchTask[] = [];
    for (let i = 0; i < included.length; i += perTask) {
      tasks.push({
        kind: 'patients',
        patients: included.slice(i, i + perTask).map((p): BatchPatient => {
          const m = mappings.get(String(p.pid))!;
          return { pid: p.pid, rid: m.rid, trid: m.trid, mrid: m.mrid, previousScrubberHash: m.scrubberHash };
        }),
      });
    }
    for (const table of plan.tables) {
      if (table.pid || !table.included.length) continue;
      tasks.push(...(await keyRanges(sources.get(table.srcDb)!, table, 50_000)));
    }
    const progress: RunProgress = { phase: 'patients', patientsDone: 0, patientsTotal: included.length, rowsWritten: 0, bytesRead: 0 };
    const skipped = new Set<string>();
    const absorb = async (task: BatchTask, r: BatchResult): Promise<void> => {
      summary.rowsRead += r.rowsRead;
      summary.rowsWritten += r.rowsWritten;
      summary.rowsUnchanged += r.rowsUnchanged;
      summary.rowsSkipped += r.rowsSkipped;
      summary.bytesRead += r.bytesRead;
      for (const pid of r.skippedPatients) skipped.add(pid);
      const changedHashes = new Map(Object.entries(r.scrubberHashes).filter(([pid, hash]) => mappings.get(pid)?.scrubberHash !== hash));
      if (changedHashes.size) await store.setScrubberHashes(changedHashes);
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
      inline = await BatchProcessor.open(settings);
      for (const task of tasks) {
        options.signal?.throwIfAborted();
        await absorb(task, await inline.run(task));
      }
    }
    summary.patientsSkipped = skipped.size;

    // Clean-up: rows of opted-out and skipped patients, and rows whose source is gone.
    progress.phase = 'cleanup';
    options.onProgress?.({ ...progress });
    if (options.incremental) {
      const gonePatients = [...optedOut, ...skipped].map((pid) => mappings.get(pid)?.rid).filter((rid): rid is string => rid !== undefined);
      for (const table of plan.tables) {
        if (!table.included.length) continue;
        if (table.pid && gonePatients.length) summary.rowsDeleted += await deleteKeys(destination, table.destTable, table.pid.destField, gonePatients);
        if (!table.addOnly) summary.rowsDeleted += await deleteVanished(sources.get(table.srcDb)!, destination, table, (key) => (table.pk === table.pid ? patientHasher.hash(String(key)) : String(key)));
      }
    }
    for (const table of created) for (const sql of indexStatements(destination.dialect, table, added)) await destination.sequelize.query(sql);
    progress.phase = 'done';
    options.onProgress?.({ ...progress });
    summary.seconds = (Date.now() - started) / 1000;
    options.logger?.info('anonymisation finished', { ...summary });
    return summary;
  } finally {
    await inline?.close();
    for (const db of opened.reverse()) await db.close().catch(() => undefined);
  }
}

/** Tasks covering `table` in ranges of about `size` keys. */
async function keyRanges(db: OpenDatabase, table: TablePlan, size: number): Promise<BatchTask[]> {
  const q = (n: string): string => quoteIdentifier(db.dialect, n);
  const bounds: unknown[] = [];
  for (let offset = size - 1; ; offset += size) {
    const sql = db.dialect === 'mssql'
      ? `SELECT ${q(table.pk!.srcField)} AS k FROM ${q(table.srcTable)} ORDER BY ${q(table.pk!.srcField)} OFFSET ${offset} ROWS FETCH NEXT 1 ROWS ONLY`
      : `SELECT ${q(table.pk!.srcField)} AS k FROM ${q(table.srcTable)} ORDER BY ${q(table.pk!.srcField)} LIMIT 1 OFFSET ${offset}`;
    const rows = await db.sequelize.query<{ k: unknown }>(sql, { type: QueryTypes.SELECT });
    if (!rows.length) break;
    bounds.push(rows[0]!.k);
  }
  const tasks: BatchTask[] = [];
  let after: unknown;
  for (const bound of bounds) {
    tasks.push({ kind: 'table', table: tableKey(table), after, upTo: bound });
    after = bound;
  }
  tasks.push({ kind: 'table', table: tableKey(table), after, upTo: undefined });
  return tasks;
}

async function deleteKeys(db: OpenDatabase, table: string, field: string, keys: readonly unknown[]): Promise<number> {
  const q = (n: string): string => quoteIdentifier(db.dialect, n);
  let deleted = 0;
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const [count] = await db.sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${q(field)} IN (:chunk)`, { type: QueryTypes.SELECT, replacements: { chunk } });
    if (Number(count?.n ?? 0) === 0) continue;
    await db.sequelize.query(`DELETE FROM ${q(table)} WHERE ${q(field)} IN (:chunk)`, { replacements: { chunk } });
    deleted += Number(count!.n);
  }
  return deleted;
}

/** Deletes destination rows whose source key no longer exists. */
async function deleteVanished(source: OpenDatabase, destination: OpenDatabase, table: TablePlan, destKeyOf: (sourceKey: unknown) => string): Promise<number> {
  const qs = (n: string): string => quoteIdentifier(source.dialect, n);
  const qd = (n: string): string => quoteIdentifier(destination.dialect, n);
  const sourceKeys = new Set((await source.sequelize.query<{ k: unknown }>(`SELECT ${qs(table.pk!.srcField)} AS k FROM ${qs(table.srcTable)}`, { type: QueryTypes.SELECT })).map((r) => destKeyOf(r.k)));
  const destKeys = await destination.sequelize.query<{ k: unknown }>(`SELECT ${qd(table.pk!.destField)} AS k FROM ${qd(table.destTable)}`, { type: QueryTypes.SELECT });
  const gone = destKeys.filter((r) => !sourceKeys.has(String(r.k))).map((r) => r.k);
  return gone.length ? deleteKeys(destination, table.destTable, table.pk!.destField, gone) : 0;
}
