// One coarse unit of a run: a batch of patients (their scrubbers built from every identifier
// the dictionary names, then every row of theirs copied, altered and scrubbed), or a key
// range of a table without patients. It runs on a pool thread or inline, opens its own
// connections, and in incremental mode skips rows whose source hash is unchanged unless the
// patient's scrubber changed. The parts: patient-identifiers.ts (what scrubbers are built
// from), table-copier.ts (paging, altering, writing), incremental-survey.ts (an incremental
// run's first pass), destination-writer.ts (per-dialect writes).
import { openDatabase, type OpenDatabase } from './database-connection.js';
import { buildScrubber, type Scrubber } from './patient-scrubber.js';
import { BatchContext } from './batch-context.js';
import { emptyResult, tableKey, type BatchPatient, type BatchResult, type BatchSettings, type BatchTask } from './batch-task.js';
import { canSurvey, surveyPatients, type SurveyOutcome } from './incremental-survey.js';
import { gatherIdentifiers, missingRequired, noIdentifiers } from './patient-identifiers.js';
import type { VersionCollector } from './source-row-plan.js';
import { copyTable } from './table-copier.js';

export { tableKey, type BatchPatient, type BatchResult, type BatchSettings, type BatchTask } from './batch-task.js';

/** Runs tasks against the databases of one run. */
export class BatchProcessor {
  private constructor(private readonly ctx: BatchContext) {}

  /**
   * Opens the run's source and destination databases.
   * @param connections - connections each database may hold (SQLite always 1); default 2
   * @param withDestination - false to open the sources only (to build scrubbers, as for single files)
   */
  static async open(settings: BatchSettings, connections?: number, withDestination = true): Promise<BatchProcessor> {
    const sources = new Map<string, OpenDatabase>();
    const used = new Set(settings.plan.tables.map((t) => t.srcDb));
    const pool = connections === undefined ? {} : { poolMax: connections };
    try {
      for (const name of used) sources.set(name, await openDatabase(settings.config.sources[name]!, `source ${name}`, pool));
      const destination = withDestination ? await openDatabase(settings.config.destinationUrl, 'destination', { asyncCommit: true, ...pool }) : undefined;
      return new BatchProcessor(new BatchContext(settings, sources, destination));
    } catch (error) {
      for (const db of sources.values()) await db.close().catch(() => undefined);
      throw error;
    }
  }

  /** Closes the databases it opened. */
  close(): Promise<void> {
    return this.ctx.close();
  }

  /** The open source databases, by name (shared, not to be closed by the caller). */
  sourceDatabases(): Map<string, OpenDatabase> {
    return this.ctx.sources;
  }

  /**
   * The scrubbers of the given patients, built from every identifier the dictionary names (their
   * third parties' too), as a run builds them.
   * @returns per patient ID (as text): the scrubber, or undefined when a required scrubber field (R) is empty
   */
  async scrubbersFor(pids: ReadonlyArray<string | number>): Promise<Map<string, Scrubber | undefined>> {
    const identifiers = await gatherIdentifiers(this.ctx, pids);
    const out = new Map<string, Scrubber | undefined>();
    for (const pid of pids) {
      const key = String(pid);
      const ids = identifiers.get(key) ?? noIdentifiers();
      out.set(key, missingRequired(this.ctx, ids).length ? undefined : buildScrubber(ids.patient, ids.thirdParty, this.ctx.settings.config.scrubber));
    }
    return out;
  }

  /** Runs one task. */
  async run(task: BatchTask): Promise<BatchResult> {
    const result = emptyResult();
    if (task.kind === 'table') {
      const table = this.ctx.settings.plan.tables.find((t) => tableKey(t) === task.table);
      if (!table) throw new Error(`no table ${task.table} in the dictionary`);
      const scrubAll = (): Scrubber => this.ctx.nonspecific;
      // No patient scrubber to track here: the non-specific scrubber's digest enters the row
      // hash instead (see copyTable), so a changed scrubber redoes the rows and nothing else does.
      await copyTable(this.ctx, table, { after: task.after, upTo: task.upTo }, undefined, scrubAll, () => false, result);
      return result;
    }
    // A task may hold many batches (threads are costly to start); each batch is built and
    // written on its own, so memory stays bounded by the batch size.
    const size = this.ctx.settings.config.batchPatients;
    for (let i = 0; i < task.patients.length; i += size) await this.runPatients(task.patients.slice(i, i + size), result);
    return result;
  }

  /** Whether {@link survey} can tell unchanged patients apart (see canSurvey). */
  canSurvey(): boolean {
    return canSurvey(this.ctx);
  }

  /** An incremental run's first pass over a batch of patients (see surveyPatients). */
  survey(patients: BatchPatient[]): Promise<SurveyOutcome> {
    return surveyPatients(this.ctx, patients);
  }

  /** Builds the scrubbers of a batch of patients and copies their rows. */
  private async runPatients(patients: BatchPatient[], result: BatchResult): Promise<void> {
    const { ctx } = this;
    const identifiers = await gatherIdentifiers(ctx, patients.map((p) => p.pid));
    const scrubbers = new Map<string, Scrubber>();
    const redo = new Set<string>();
    const keep: BatchPatient[] = [];
    for (const patient of patients) {
      const key = String(patient.pid);
      const ids = identifiers.get(key) ?? noIdentifiers();
      if (missingRequired(ctx, ids).length) {
        result.skippedPatients.push(key);
        continue;
      }
      scrubbers.set(key, buildScrubber(ids.patient, ids.thirdParty, ctx.settings.config.scrubber));
      const keyed = ctx.scrubberHash(ids);
      result.scrubberHashes[key] = keyed;
      if (!ctx.settings.incremental || patient.previousScrubberHash !== keyed) redo.add(key);
      keep.push(patient);
    }
    if (!keep.length) return;
    const byPid = new Map(keep.map((p) => [String(p.pid), p]));
    const tables = ctx.patientTables;
    const versioned = await ctx.versionedTables(tables);
    const versions: VersionCollector = { lines: new Map(), incomplete: new Set() };
    const pidValues = keep.map((p) => p.pid);
    for (const table of tables) {
      const pidOf = (row: Record<string, unknown>): string => String(row[table.pid!.srcField]);
      await copyTable(ctx, table, { pids: pidValues }, byPid, (row) => scrubbers.get(pidOf(row))!, (row) => redo.has(pidOf(row)), result, versioned.has(table) ? versions : undefined);
    }
    // Every row of these patients was read, and written or found unchanged: their row versions
    // now stand for what the destination holds.
    if (versioned.size) for (const p of keep) if (!versions.incomplete.has(String(p.pid))) result.rowsVersions[String(p.pid)] = ctx.rowsVersion(versions.lines.get(String(p.pid)));
  }
}
