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
import { ValidationError, type Logger, type Services, type ThreadPool } from '../../core/api.js';
import { loadAnonConfig, type AnonConfig } from './anon-config.js';
import { formatProblems, parseDataDictionary } from './data-dictionary.js';
import { planDictionary, type DictionaryPlan, type TablePlan } from './dictionary-plan.js';
import { openDatabase, type OpenDatabase } from './database-connection.js';
import { KeyedHasher } from './keyed-hasher.js';
import { SecretMapStore, type PatientMapping } from './secret-map-store.js';
import { indexStatements, prepareDestination, type AddedColumns } from './destination-schema.js';
import { BatchProcessor, tableKey, type BatchPatient, type BatchResult, type BatchSettings, type BatchTask } from './batch-processor.js';
import type { KeyTuple } from './row-keys.js';
import { datasetFilesOf, stageDatasets, type DatasetFiles, type DatasetStage } from './dataset-staging.js';
import { listPatients } from './patient-list.js';
import { keyRanges } from './table-key-ranges.js';
import { deleteKeys, deleteTuples, findVanished, holdsOnly } from './vanished-rows.js';

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
  const loaded = options.config ?? loadAnonConfig(options.configFile!, options.env ?? process.env);
  const plan = loadDictionary(loaded);
  const patientHasher = new KeyedHasher(loaded.hashMethod, loaded.patientKey);
  const changeHasher = new KeyedHasher(loaded.hashMethod, loaded.changeKey);
  const added: AddedColumns = { tridField: loaded.tridField, mridField: loaded.mridField, sourceHashField: loaded.sourceHashField, ridLength: patientHasher.hexLength, hashLength: changeHasher.hexLength };
  // Dataset resources are loaded (and checked) before any database is opened for writing.
  const stage = await stageDatasets(loaded, plan, options.datasetFiles ?? (options.services ? datasetFilesOf(options.services) : undefined), options.incremental, added);
  const run = new AnonymisationRun(options, loaded, plan, stage, added, started);
  try {
    await run.openDatabases();
    const created = await run.prepareDestination();
    await run.registerPatients();
    await run.surveyPatients();
    await run.runTasks(await run.planTasks());
    await run.cleanUp();
    return await run.finish(created);
  } finally {
    await run.close();
  }
}

/** The tasks of a run: those for this thread, and those for the pool's threads. */
interface PlannedTasks {
  here: BatchTask[];
  pool: BatchTask[];
}

/** The phases of a progress report after the patients: tables, cleanup, done. */
type LaterPhase = Exclude<RunProgress['phase'], 'patients'>;

/** One run's state, and its steps in the order runAnonymisation takes them. */
class AnonymisationRun {
  private readonly config: AnonConfig;
  private readonly settings: BatchSettings;
  private readonly workers: number;
  private readonly summary: RunSummary;
  private readonly progress: RunProgress;
  private readonly patientHasher: KeyedHasher;
  private readonly masterHasher: KeyedHasher;
  private readonly opened: OpenDatabase[] = [];
  private readonly sources = new Map<string, OpenDatabase>();
  private secret!: OpenDatabase;
  private destination!: OpenDatabase;
  private store!: SecretMapStore;
  /** A processor on this thread: the survey's, or the one inline runs use. */
  private inline: BatchProcessor | undefined;
  private mappings = new Map<string, PatientMapping>();
  private optedOut = new Set<string>();
  /** Patients skipped because a required scrubber field (R) was empty. */
  private readonly skipped = new Set<string>();
  /** The patients still to run (after the survey, those with anything to do). */
  private toRun: BatchPatient[] = [];
  /** Per patient table: destination rows the survey found for source rows of patients who stay. */
  private present: Map<string, number> | undefined;
  /** Per table: destination keys whose source is gone, being read while the run goes on. */
  private readonly vanished = new Map<TablePlan, Promise<KeyTuple[]>>();

  constructor(
    private readonly options: RunOptions,
    loaded: AnonConfig,
    private readonly plan: DictionaryPlan,
    private readonly stage: DatasetStage,
    private readonly added: AddedColumns,
    private readonly started: number,
  ) {
    this.config = stage.config;
    this.settings = { config: this.config, plan, incremental: options.incremental };
    this.workers = options.workers ?? loaded.workers;
    this.patientHasher = new KeyedHasher(loaded.hashMethod, loaded.patientKey);
    this.masterHasher = new KeyedHasher(loaded.hashMethod, loaded.masterKey);
    this.summary = { incremental: options.incremental, workers: this.workers, patients: 0, patientsOptedOut: 0, patientsSkipped: 0, rowsRead: 0, rowsWritten: 0, rowsUnchanged: 0, rowsSkipped: 0, rowsDeleted: 0, bytesRead: 0, seconds: 0 };
    this.progress = { phase: 'patients', patientsDone: 0, patientsTotal: 0, rowsWritten: 0, bytesRead: 0 };
  }

  /** Where a run's time goes, for `--log-level debug` and benchmarks. */
  private reached(phase: string): void {
    this.options.logger?.debug('anonymisation phase reached', { phase, ms: Date.now() - this.started });
  }

  private async open(url: string, role: string): Promise<OpenDatabase> {
    const db = await openDatabase(url, role);
    this.opened.push(db);
    return db;
  }

  /** Opens the secret map, the destination and every source the dictionary reads. */
  async openDatabases(): Promise<void> {
    this.secret = await this.open(this.config.secretMapUrl, 'secret map');
    this.destination = await this.open(this.config.destinationUrl, 'destination');
    for (const name of new Set(this.plan.tables.map((t) => t.srcDb))) this.sources.set(name, await this.open(this.config.sources[name]!, `source ${name}`));
    this.reached('opened');
  }

  /** Creates (or, in a full run, recreates) the destination tables and the secret map's. @returns the tables created */
  async prepareDestination(): Promise<TablePlan[]> {
    this.store = new SecretMapStore(this.secret.sequelize, this.secret.dialect);
    await this.store.ensureSchema();
    const created = await prepareDestination(this.destination.sequelize, this.destination.dialect, this.plan.tables, this.added, !this.options.incremental, this.config.destinationCompression);
    if (!this.options.incremental) await this.store.clearDigests();
    this.reached('prepared');
    return created;
  }

  /** Lists the patients and opt-outs, and gives each patient its IDs in the secret map. */
  async registerPatients(): Promise<void> {
    const { patients, optedOut } = await listPatients(this.config, this.plan, this.sources, (url, role) => this.open(url, role));
    this.reached('patients listed');
    this.optedOut = optedOut;
    const included = patients.filter((p) => !optedOut.has(String(p.pid)));
    this.summary.patients = included.length;
    this.summary.patientsOptedOut = patients.length - included.length;
    this.progress.patientsTotal = included.length;
    this.mappings = await this.store.ensure(patients.map((p) => ({ pid: String(p.pid), rid: this.patientHasher.hash(String(p.pid)), mpid: p.mpid, mrid: p.mpid === undefined ? undefined : this.masterHasher.hash(p.mpid) })));
    this.toRun = included.map((p) => {
      const m = this.mappings.get(String(p.pid))!;
      return { pid: p.pid, rid: m.rid, trid: m.trid, mrid: m.mrid, previousScrubberHash: m.scrubberHash, previousRowsVersion: m.rowsVersion };
    });
    this.reached('mappings');
  }

  /** Whether the clean-up looks for destination rows whose source is gone in `table`. */
  private keepsRows(table: TablePlan): boolean {
    return this.options.incremental && table.included.length > 0 && !table.addOnly;
  }

  /**
   * Starts reading the keys of both sides of `table`, to find rows whose source is gone. The
   * databases answer these reads while this thread works; tasks write only rows whose source
   * key exists, so what they do cannot change that list.
   */
  private findGone(table: TablePlan): void {
    const found = findVanished(this.sources.get(table.srcDb)!, this.destination, table, (key) => table.keys.map((k, i) => (k === table.pid ? this.patientHasher.hash(String(key[i])) : key[i])));
    // Awaited in the clean-up; this only keeps a failure meanwhile from going unhandled.
    found.catch(() => undefined);
    this.vanished.set(table, found);
  }

  /**
   * Scrubber and row-version digests of patients written completely (or, for row versions,
   * found unchanged), recorded only after their rows are committed, and only where they differ
   * from what the secret map held at the start.
   */
  private async storeDigests(result: Pick<BatchResult, 'scrubberHashes' | 'rowsVersions'>): Promise<void> {
    const changed = (digests: Record<string, string>, recorded: (m: PatientMapping) => string | undefined): Map<string, string> =>
      new Map(Object.entries(digests).filter(([pid, digest]) => {
        const mapping = this.mappings.get(pid);
        return !mapping || recorded(mapping) !== digest;
      }));
    const hashes = changed(result.scrubberHashes, (m) => m.scrubberHash);
    if (hashes.size) await this.store.setScrubberHashes(hashes);
    const versions = changed(result.rowsVersions, (m) => m.rowsVersion);
    if (versions.size) await this.store.setRowsVersions(versions);
  }

  /** Adds a task's (or a survey's) tallies to the summary and records its digests. */
  private async absorb(r: BatchResult, patientsDone: number, phase?: LaterPhase): Promise<void> {
    const { summary, progress } = this;
    summary.rowsRead += r.rowsRead;
    summary.rowsWritten += r.rowsWritten;
    summary.rowsUnchanged += r.rowsUnchanged;
    summary.rowsSkipped += r.rowsSkipped;
    summary.bytesRead += r.bytesRead;
    for (const pid of r.skippedPatients) this.skipped.add(pid);
    await this.storeDigests(r);
    progress.patientsDone += patientsDone;
    if (phase) progress.phase = phase;
    progress.rowsWritten = summary.rowsWritten;
    progress.bytesRead = summary.bytesRead;
    this.options.onProgress?.({ ...progress });
  }

  /**
   * An incremental run's first pass on this thread: finds the patients with anything to do,
   * comparing digests only; the others need no scrubber, no thread and no further query (see
   * surveyPatients). Starts the search for vanished rows of the tables it cannot settle.
   */
  async surveyPatients(): Promise<void> {
    const { options, config } = this;
    for (const table of this.plan.tables) if (this.keepsRows(table) && !table.pid) this.findGone(table);
    if (options.incremental && this.toRun.length) {
      // Three batches in flight, each with its reads in parallel: connections for all. With two,
      // the main thread still waited on the databases a fifth of the time.
      this.inline = await BatchProcessor.open(this.settings, 6);
      if (this.inline.canSurvey()) {
        const surveyor = this.inline;
        const counts = (this.present = new Map());
        const batches: BatchPatient[][] = [];
        for (let i = 0; i < this.toRun.length; i += config.batchPatients) batches.push(this.toRun.slice(i, i + config.batchPatients));
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
            // The survey writes nothing: its tallies are of rows found unchanged.
            await this.absorb({ ...result, rowsWritten: 0 }, batches[i]!.length - c.length);
          }
        };
        await Promise.all([lane(), lane(), lane()]);
        this.toRun = changed.flat();
      }
    }
    this.reached('surveyed');
    // When no patient has anything to do, the survey found a destination row for every source
    // row of the patients who stay: if a table then holds no more rows than that (after the
    // rows of patients who left are deleted), no row lost its source, and both sides' keys need
    // not be read (see the clean-up). Otherwise the keys are read while the tasks run.
    const settled = this.present !== undefined && this.toRun.length === 0;
    for (const table of this.plan.tables) if (this.keepsRows(table) && table.pid && !settled) this.findGone(table);
  }

  /**
   * The work, coarse: batches of patients, then key ranges of other tables. On the pool a task
   * is a whole fresh thread: loading sequelize and the drivers and connecting cost most of a
   * second there, so a task gets many batches: at most patients_per_task patients each, in
   * rounds of one task per worker, all tasks the same size so that the threads finish together
   * (a last, smaller task would run on one thread while the others sit idle). On the pool, the
   * first batch of patients of a run with more than a batch per worker is run on this thread
   * instead (see runTasks).
   * @returns the tasks for this thread, and those for the pool (none without one)
   */
  async planTasks(): Promise<PlannedTasks> {
    const { config, workers } = this;
    const pooled = this.pooled();
    const here: BatchTask[] = [];
    let toRun = this.toRun;
    // Only when the pool still gets a batch per worker: a run that small is over about as soon
    // as the threads have started anyway.
    if (pooled && toRun.length >= config.batchPatients * (workers + 1)) {
      here.push({ kind: 'patients', patients: toRun.slice(0, config.batchPatients) });
      toRun = toRun.slice(config.batchPatients);
    }
    const rounds = Math.max(1, Math.ceil(toRun.length / (workers * config.patientsPerTask)));
    const perTask = pooled ? Math.max(config.batchPatients, Math.ceil(toRun.length / (workers * rounds))) : config.batchPatients;
    const tasks: BatchTask[] = [];
    for (let i = 0; i < toRun.length; i += perTask) tasks.push({ kind: 'patients', patients: toRun.slice(i, i + perTask) });
    for (const table of this.plan.tables) {
      if (table.pid || !table.included.length) continue;
      tasks.push(...(await keyRanges(this.sources.get(table.srcDb)!, table, config.rowsPerTableTask)));
    }
    return pooled ? { here, pool: tasks } : { here: [...here, ...tasks], pool: [] };
  }

  private pooled(): boolean {
    return Boolean(this.options.pool && this.workers > 0);
  }

  /**
   * Runs the tasks: the pool's on its threads (one lane per worker), and at the same time this
   * thread's inline. This thread has its modules loaded and its databases open, so its first
   * batch writes the run's first rows while the pool's threads are still starting.
   */
  async runTasks(tasks: PlannedTasks): Promise<void> {
    const { options } = this;
    const finished = (task: BatchTask, r: BatchResult): Promise<void> => this.absorb(r, task.kind === 'patients' ? task.patients.length : 0, task.kind === 'patients' ? undefined : 'tables');
    const lanes: Array<Promise<void>> = [];
    if (tasks.pool.length) {
      const pool = options.pool!;
      const module = new URL('./batch-thread.js', import.meta.url);
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < tasks.pool.length) {
          options.signal?.throwIfAborted();
          const task = tasks.pool[next++]!;
          const r = await pool.run<BatchResult>({ module, export: 'runAnonymiserBatch', args: [this.settings, task], ...(options.signal ? { signal: options.signal } : {}) });
          await finished(task, r);
        }
      };
      for (let i = 0; i < Math.min(this.workers, tasks.pool.length); i++) lanes.push(lane());
    }
    if (tasks.here.length) {
      lanes.push((async () => {
        this.inline ??= await BatchProcessor.open(this.settings);
        for (const task of tasks.here) {
          options.signal?.throwIfAborted();
          await finished(task, await this.inline.run(task));
        }
      })());
    }
    await Promise.all(lanes);
    this.reached('tasks done');
    this.summary.patientsSkipped = this.skipped.size;
  }

  /** Clean-up of an incremental run: rows of opted-out and skipped patients, and rows whose source is gone. */
  async cleanUp(): Promise<void> {
    const { progress, summary, destination } = this;
    progress.phase = 'cleanup';
    this.options.onProgress?.({ ...progress });
    if (this.options.incremental) {
      const gonePatients = [...this.optedOut, ...this.skipped].map((pid) => this.mappings.get(pid)?.rid).filter((rid): rid is string => rid !== undefined);
      for (const table of this.plan.tables) {
        if (!table.included.length) continue;
        if (table.pid && gonePatients.length) summary.rowsDeleted += await deleteKeys(destination, table.destTable, table.pid.destField, gonePatients);
        if (!this.keepsRows(table)) continue;
        if (!this.vanished.has(table) && !(await holdsOnly(destination, table.destTable, this.present!.get(tableKey(table)) ?? 0))) this.findGone(table);
        const gone = this.vanished.get(table);
        const keys = gone ? await gone : [];
        if (keys.length) summary.rowsDeleted += await deleteTuples(destination, table.destTable, table.keys.map((k) => k.destField), keys);
      }
    }
    this.reached('cleanup done');
  }

  /** Indexes the tables created, publishes a dataset destination, and reports. */
  async finish(created: readonly TablePlan[]): Promise<RunSummary> {
    const { destination, summary, progress } = this;
    for (const table of created) for (const sql of indexStatements(destination.dialect, table, this.added)) await destination.sequelize.query(sql);
    if (this.config.destinationDataset) {
      await destination.close();
      this.opened.splice(this.opened.indexOf(destination), 1);
      summary.resourcesWritten = await this.stage.publish(this.plan, this.added);
    }
    progress.phase = 'done';
    this.options.onProgress?.({ ...progress });
    summary.seconds = (Date.now() - this.started) / 1000;
    this.options.logger?.info('anonymisation finished', { ...summary });
    return summary;
  }

  /** Closes what the run opened and removes staged files. */
  async close(): Promise<void> {
    await this.inline?.close();
    for (const db of this.opened.reverse()) await db.close().catch(() => undefined);
    this.stage.cleanup();
  }
}
