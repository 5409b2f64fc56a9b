// One coarse unit of a run: a batch of patients (their scrubbers built from every identifier
// the dictionary names, then every row of theirs copied, altered and scrubbed), or a key
// range of a table without patients. It runs on a pool thread or inline, opens its own
// connections, commits every N rows or M bytes, and in incremental mode skips rows whose
// source hash is unchanged unless the patient's scrubber changed. survey() is an incremental
// run's first pass, by digests only, that finds the patients with anything to do.
import { QueryTypes, type Sequelize, type Transaction } from 'sequelize';
import { effectiveScrubMethod, type AnonConfig } from './anon-config.js';
import type { DictionaryPlan, TablePlan } from './dictionary-plan.js';
import type { DdRow, ScrubMethod } from './data-dictionary.js';
import { openDatabase, type OpenDatabase, type SqlDialect } from './database-connection.js';
import { KeyedHasher } from './keyed-hasher.js';
import { buildScrubber, identifierDigest, scrubberFingerprint, type IdentifierValue, type Scrubber } from './patient-scrubber.js';
import { serialiseRow } from './row-serialisation.js';
import { isLongText, pagedSelect, quoteIdentifier } from './sql-dialect.js';
import { denseIntegerRange, keyBound, keyMatch, keyString, type KeyTuple } from './row-keys.js';
import { alterValue, SKIP_ROW, type AlterContext } from './value-alterers.js';
import { copyRowsIn } from './pg-copy-in.js';
import type pg from 'pg';

/** A patient handed to a batch, with the IDs the secret map holds. */
export interface BatchPatient {
  /** The source patient ID, as the source stores it. */
  pid: string | number;
  rid: string;
  trid: number;
  mrid: string | undefined;
  /** The keyed scrubber digest recorded when the patient was last written completely. */
  previousScrubberHash: string | undefined;
  /** The keyed digest of the patient's source row versions recorded then (PostgreSQL sources). */
  previousRowsVersion: string | undefined;
}

/** A unit of work. */
export type BatchTask =
  | { kind: 'patients'; patients: BatchPatient[] }
  /** A key range of a table without patients: keys after `after` up to `upTo` (undefined: unbounded), as tuples of the key fields. */
  | { kind: 'table'; table: string; after: KeyTuple | undefined; upTo: KeyTuple | undefined };

/** What a run hands every task. */
export interface BatchSettings {
  config: AnonConfig;
  plan: DictionaryPlan;
  incremental: boolean;
}

/** What a task did. */
export interface BatchResult {
  rowsRead: number;
  rowsWritten: number;
  rowsUnchanged: number;
  rowsSkipped: number;
  bytesRead: number;
  /** Keyed scrubber digests of the patients written completely. */
  scrubberHashes: Record<string, string>;
  /** Patients skipped because a required scrubber field (R) was empty. */
  skippedPatients: string[];
  /**
   * Keyed digests of the source row versions of patients written completely or found unchanged,
   * where their tables keep row versions (see {@link BatchProcessor.survey}).
   */
  rowsVersions: Record<string, string>;
}

function emptyResult(): BatchResult {
  return { rowsRead: 0, rowsWritten: 0, rowsUnchanged: 0, rowsSkipped: 0, bytesRead: 0, scrubberHashes: {}, skippedPatients: [], rowsVersions: {} };
}

/** A table's identity in tasks: `db.table`. */
export const tableKey = (t: TablePlan): string => `${t.srcDb}.${t.srcTable}`;

const IN_CHUNK = 500;
/** Patients per statement in a survey's reads of source tables (see surveyRows). */
const SURVEY_PIDS = 20;
const PAGE_ROWS = 2000;
/** Integer column types, whose dense key lists are read as ranges. */
const INTEGER_TYPE = /^(?:TINY|SMALL|MEDIUM|BIG)?INT(?:EGER)?\b/i;
/**
 * A PostgreSQL row version: the table (a partition's own), the transaction that wrote the
 * row version and its place. Any UPDATE, DELETE and INSERT, VACUUM FULL, CLUSTER or reload
 * changes it; reading it costs no detoasting.
 */
const ROW_VERSION_SQL = `(tableoid::text || ':' || xmin::text || ':' || ctid::text)`;
/** The name reads give the row version (no dictionary field may have it, or versions are not kept). */
const ROW_VERSION = 'anon__row_version';

/** Where copyTable collects a batch's row versions, for tables that keep them. */
interface VersionCollector {
  /** Per patient, one line per source row: table, key, version. */
  lines: Map<string, string[]>;
  /** Patients with a row that was not written (a failed extraction): no digest is recorded for them. */
  incomplete: Set<string>;
}

/** A row's line in its patient's row-version digest. */
function versionLine(table: TablePlan, row: Record<string, unknown>): string {
  return `${tableKey(table)}\u001f${keyString(table.keys.map((k) => row[k.srcField]))}\u001f${String(row[ROW_VERSION])}`;
}

function pushLine(lines: Map<string, string[]>, pid: string, line: string): void {
  const list = lines.get(pid);
  if (list) list.push(line);
  else lines.set(pid, [line]);
}

/** The promise itself, with a rejection marked handled: it is awaited later, after other work. */
function settled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** What surveyRows returns. */
interface SurveyRead {
  rows: Array<Record<string, unknown>>;
  fields: string[];
  hashFields: string[];
  longText: Set<string>;
  digested: boolean;
  filters: DdRow[];
}

function byteSize(value: unknown): number {
  if (typeof value === 'string') return value.length < 64 ? value.length : Buffer.byteLength(value, 'utf8');
  if (Buffer.isBuffer(value)) return value.length;
  return value === null || value === undefined ? 0 : 8;
}

/** Runs tasks against the databases of one run. */
/** What a table's source hash covers, and whether the source database can digest its long text. */
interface HashPlan {
  /** Fields the source hash covers (included or feeding a scrubber), in dictionary order. */
  hashFields: string[];
  /** Those of them that are long text, serialised by their MD5 digest. */
  longText: Set<string>;
  /** Fields with inclusion or exclusion values. */
  filters: DdRow[];
  /**
   * The source database's MD5 function when it can digest the long text in place of sending
   * it (PostgreSQL and MySQL hash UTF-8 bytes, as the row serialisation does): there is long
   * text, and no filter or key needs its full value. Else undefined.
   */
  digestFunction: 'md5' | 'MD5' | undefined;
}

function hashPlan(table: TablePlan, dialect: SqlDialect): HashPlan {
  const hashFields = table.rows.filter((r) => r.include || r.scrubSrc).map((r) => r.srcField);
  const longText = new Set(table.rows.filter((r) => (r.include || r.scrubSrc) && isLongText(r.srcDatatype)).map((r) => r.srcField));
  const filters = table.rows.filter((r) => r.inclusionValues || r.exclusionValues);
  const digest = dialect === 'postgres' ? 'md5' : dialect === 'mysql' ? 'MD5' : undefined;
  const needsWhole = filters.some((f) => longText.has(f.srcField)) || table.keys.some((k) => longText.has(k.srcField));
  return { hashFields, longText, filters, digestFunction: longText.size > 0 && !needsWhole ? digest : undefined };
}

export class BatchProcessor {
  private readonly patientHasher: KeyedHasher;
  private readonly changeHasher: KeyedHasher;
  private readonly hashers = new Map<string, KeyedHasher>();
  private readonly nonspecific: Scrubber;
  /** The scrubbing settings' fingerprint, part of every patient's scrubber digest. */
  private readonly fingerprint: string;
  /** What a row-version digest's meaning depends on: the patient tables, their keys and hashed fields. */
  private readonly versionFingerprint: string;
  /** Per table (tableKey): whether its source keeps row versions. */
  private readonly versioned = new Map<string, Promise<boolean>>();
  /** The tables copied per patient: with a patient ID and included fields. */
  private readonly patientTables: readonly TablePlan[];

  private constructor(
    private readonly settings: BatchSettings,
    private readonly sources: Map<string, OpenDatabase>,
    private readonly destinationDb: OpenDatabase | undefined,
  ) {
    const { config } = settings;
    this.patientHasher = new KeyedHasher(config.hashMethod, config.patientKey);
    this.changeHasher = new KeyedHasher(config.hashMethod, config.changeKey);
    for (const [name, section] of Object.entries(config.hashSections)) this.hashers.set(name, new KeyedHasher(section.method, section.key));
    this.nonspecific = buildScrubber([], [], config.scrubber);
    this.fingerprint = scrubberFingerprint(config.scrubber);
    this.patientTables = settings.plan.tables.filter((t) => t.pid && t.included.length);
    this.versionFingerprint = JSON.stringify(this.patientTables
      .map((t) => [tableKey(t), t.destTable, t.keys.map((k) => k.srcField), t.rows.filter((r) => r.include || r.scrubSrc).map((r) => r.srcField)]));
  }

  /** The keyed digest of a patient's row-version lines (in any order). */
  private rowsVersion(lines: readonly string[] | undefined): string {
    return this.changeHasher.hash(`rows-v1\n${this.versionFingerprint}\n${[...(lines ?? [])].sort().join('\n')}`);
  }

  /**
   * Whether a patient table's source keeps row versions: an ordinary or partitioned table on
   * PostgreSQL (a view has none), with no field named like the version's alias.
   */
  private keepsVersions(table: TablePlan): Promise<boolean> {
    const key = tableKey(table);
    let known = this.versioned.get(key);
    if (!known) {
      const db = this.sources.get(table.srcDb)!;
      known = db.dialect !== 'postgres' || !table.pid || table.rows.some((r) => r.srcField === ROW_VERSION)
        ? Promise.resolve(false)
        : db.sequelize.query<{ relkind: string }>('SELECT relkind FROM pg_class WHERE oid = to_regclass(:name)', { type: QueryTypes.SELECT, replacements: { name: quoteIdentifier('postgres', table.srcTable) } })
          .then((rows) => rows[0]?.relkind === 'r' || rows[0]?.relkind === 'p');
      this.versioned.set(key, known);
    }
    return known;
  }

  /** The patient tables among `tables` whose sources keep row versions. */
  private async versionedTables(tables: readonly TablePlan[]): Promise<Set<TablePlan>> {
    const keeps = await Promise.all(tables.map((t) => this.keepsVersions(t)));
    return new Set(tables.filter((_, i) => keeps[i]));
  }

  /** The scrub method of a scrubber-source field, address components applied (see effectiveScrubMethod). */
  private methodOf(row: DdRow): ScrubMethod {
    return effectiveScrubMethod(row, this.settings.config.addressComponentFields)!;
  }

  /** The keyed scrubber digest of a patient with these identifiers, as the secret map stores it. */
  private scrubberHash(ids: { patient: IdentifierValue[]; thirdParty: IdentifierValue[] }): string {
    return this.changeHasher.hash(identifierDigest(ids.patient, ids.thirdParty, this.fingerprint));
  }

  /** The destination database (not opened by processors that only build scrubbers). */
  private get destination(): OpenDatabase {
    if (!this.destinationDb) throw new Error('this batch processor was opened without its destination');
    return this.destinationDb;
  }

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
      return new BatchProcessor(settings, sources, destination);
    } catch (error) {
      for (const db of sources.values()) await db.close().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    for (const db of this.sources.values()) await db.close().catch(() => undefined);
    await this.destinationDb?.close().catch(() => undefined);
  }

  /** The open source databases, by name (shared, not to be closed by the caller). */
  sourceDatabases(): Map<string, OpenDatabase> {
    return this.sources;
  }

  /**
   * The scrubbers of the given patients, built from every identifier the dictionary names (their
   * third parties' too), as a run builds them.
   * @returns per patient ID (as text): the scrubber, or undefined when a required scrubber field (R) is empty
   */
  async scrubbersFor(pids: ReadonlyArray<string | number>): Promise<Map<string, Scrubber | undefined>> {
    const identifiers = await this.gatherIdentifiers(pids);
    const out = new Map<string, Scrubber | undefined>();
    for (const pid of pids) {
      const key = String(pid);
      const ids = identifiers.get(key) ?? { patient: [], thirdParty: [], required: new Set<DdRow>() };
      const missing = this.settings.plan.tables.flatMap((t) => t.requiredScrubbers).some((r) => !ids.required.has(r));
      out.set(key, missing ? undefined : buildScrubber(ids.patient, ids.thirdParty, this.settings.config.scrubber));
    }
    return out;
  }

  /** Runs one task. */
  async run(task: BatchTask): Promise<BatchResult> {
    const result = emptyResult();
    if (task.kind === 'table') {
      const table = this.settings.plan.tables.find((t) => tableKey(t) === task.table);
      if (!table) throw new Error(`no table ${task.table} in the dictionary`);
      const scrubAll = (): Scrubber => this.nonspecific;
      // No patient scrubber to track here: the non-specific scrubber's digest enters the row
      // hash instead (see copyTable), so a changed scrubber redoes the rows and nothing else does.
      await this.copyTable(table, { after: task.after, upTo: task.upTo }, undefined, scrubAll, () => false, result);
      return result;
    }
    // A task may hold many batches (threads are costly to start); each batch is built and
    // written on its own, so memory stays bounded by the batch size.
    const size = this.settings.config.batchPatients;
    for (let i = 0; i < task.patients.length; i += size) await this.runPatients(task.patients.slice(i, i + size), result);
    return result;
  }

  /** Builds the scrubbers of a batch of patients and copies their rows. */
  private async runPatients(patients: BatchPatient[], result: BatchResult): Promise<void> {
    const identifiers = await this.gatherIdentifiers(patients.map((p) => p.pid));
    const scrubbers = new Map<string, Scrubber>();
    const redo = new Set<string>();
    const keep: BatchPatient[] = [];
    for (const patient of patients) {
      const key = String(patient.pid);
      const ids = identifiers.get(key) ?? { patient: [], thirdParty: [], required: new Set<DdRow>() };
      const missing = this.settings.plan.tables.flatMap((t) => t.requiredScrubbers).filter((r) => !ids.required.has(r));
      if (missing.length) {
        result.skippedPatients.push(key);
        continue;
      }
      scrubbers.set(key, buildScrubber(ids.patient, ids.thirdParty, this.settings.config.scrubber));
      const keyed = this.scrubberHash(ids);
      result.scrubberHashes[key] = keyed;
      if (!this.settings.incremental || patient.previousScrubberHash !== keyed) redo.add(key);
      keep.push(patient);
    }
    if (!keep.length) return;
    const byPid = new Map(keep.map((p) => [String(p.pid), p]));
    const tables = this.patientTables;
    const versioned = await this.versionedTables(tables);
    const versions: VersionCollector = { lines: new Map(), incomplete: new Set() };
    for (const table of tables) {
      const pidValues = keep.map((p) => p.pid);
      await this.copyTable(table, { pids: pidValues }, byPid, (row) => scrubbers.get(String(row[table.pid!.srcField]))!, (row) => redo.has(String(row[table.pid!.srcField])), result, versioned.has(table) ? versions : undefined);
    }
    // Every row of these patients was read, and written or found unchanged: their row versions
    // now stand for what the destination holds.
    if (versioned.size) for (const p of keep) if (!versions.incomplete.has(String(p.pid))) result.rowsVersions[String(p.pid)] = this.rowsVersion(versions.lines.get(String(p.pid)));
  }

  /**
   * True when {@link survey} can tell unchanged patients apart: every patient table copied is
   * H (source hash kept) or C (contents never change). Rows of other tables are rewritten by
   * every incremental run, so a survey could skip nobody.
   */
  canSurvey(): boolean {
    return this.settings.incremental && this.patientTables.every((t) => t.hasSrcHash || t.constant);
  }

  /**
   * The cheap first pass of an incremental run over a batch of patients: compares, for each
   * patient, the keyed scrubber digest and every row with what the secret map and the
   * destination hold, without compiling a scrubber or reading long text, with every read of the
   * batch issued at once and the destination's hashes asked by primary key (as a range where the
   * keys are dense integers, else 500 a statement). The scrubber digest is computed from the
   * identifier values (identifierDigest), so no expression is assembled.
   *
   * Rows are compared in one of two ways. Where the source keeps row versions (a PostgreSQL
   * table), only keys and versions are read: a patient whose rows' versions digest to what the
   * secret map recorded when the patient was last written, and whose every row has its
   * destination row, is unchanged. Patients whose versions differ (or were never recorded) are
   * read again with their source hashes, the source database digesting long text; those found
   * unchanged after all get their new digest recorded. Elsewhere every row's source hash is
   * compared at once.
   *
   * Patients with nothing to do are tallied here and need no further work; the others are
   * returned, to be run as usual (which decides row by row again).
   * @returns the patients with a changed scrubber or a new or changed row, the tallies of the rest, per table (tableKey) how many destination rows were found for source rows of patients not skipped, and new row-version digests of patients found unchanged
   */
  async survey(patients: BatchPatient[]): Promise<{ changed: BatchPatient[]; result: BatchResult; present: Record<string, number> }> {
    const result = emptyResult();
    // Per table (tableKey), how many destination rows were found for the surveyed source rows.
    const present: Record<string, number> = {};
    if (!this.canSurvey()) return { changed: patients, result, present };
    const pids = patients.map((p) => p.pid);
    const byPid = new Map(patients.map((p) => [String(p.pid), p]));
    const tables = this.patientTables;
    const versioned = await this.versionedTables(tables);
    // Every read is requested at once: the source database reads one table while the
    // destination answers and this thread compares.
    // The destination is asked by primary key, which it always has indexed (an index on the
    // research ID comes only at the end of a full run, and a fresh table has no statistics
    // that would make the planner use one).
    const reads = tables.map((table) => {
      const rows = settled(this.surveyRows(table, pids, versioned.has(table) ? 'versions' : 'hashes'));
      const known = settled(rows.then(({ rows: list }) => this.existingHashes(table, list.flatMap((row) => {
        const patient = byPid.get(String(row[table.pid!.srcField]));
        return patient ? [this.destinationKey(table, row, patient)] : [];
      }))));
      return { table, known, rows };
    });
    const identifiers = await this.gatherIdentifiers(pids);
    const changed = new Set<string>();
    const skipped = new Set<string>();
    for (const patient of patients) {
      const key = String(patient.pid);
      const ids = identifiers.get(key) ?? { patient: [], thirdParty: [], required: new Set<DdRow>() };
      if (this.settings.plan.tables.some((t) => t.requiredScrubbers.some((r) => !ids.required.has(r)))) {
        skipped.add(key);
        continue;
      }
      // The digest comes from the identifier values themselves: no expression is assembled.
      if (patient.previousScrubberHash === undefined || this.scrubberHash(ids) !== patient.previousScrubberHash) changed.add(key);
    }
    // Tallies per patient, added to the result only for patients found unchanged throughout.
    const tally = new Map<string, { read: number; unchanged: number; skipped: number; bytes: number }>();
    const versionLines = new Map<string, string[]>();
    const knownOf = new Map<TablePlan, Map<string, string>>();
    for (const { table, known: knownPromise, rows: rowsPromise } of reads) {
      const known = await knownPromise;
      knownOf.set(table, known);
      const read = await rowsPromise;
      const { rows, fields, filters } = read;
      const pidField = table.pid!.srcField;
      const byVersion = versioned.has(table);
      // Destination rows found for source rows of patients who stay (not skipped): the run
      // compares their number with the table's to know that no destination row lost its source.
      let found = 0;
      for (const row of rows) {
        const pid = String(row[pidField]);
        const patient = byPid.get(pid);
        if (!patient || skipped.has(pid)) continue;
        const stored = known.get(keyString(this.destinationKey(table, row, patient)));
        if (stored !== undefined) found += 1;
        if (changed.has(pid)) continue;
        let t = tally.get(pid);
        if (!t) tally.set(pid, (t = { read: 0, unchanged: 0, skipped: 0, bytes: 0 }));
        t.read += 1;
        for (const f of fields) t.bytes += byteSize(row[f]);
        if (byVersion) pushLine(versionLines, pid, versionLine(table, row));
        if (!passesFilters(row, filters)) {
          t.skipped += 1;
          continue;
        }
        // By version, a row counts as unchanged here when its destination row exists; the
        // patient's version digest decides below.
        if (stored !== undefined && (byVersion || this.matchesStored(table, row, stored, read))) t.unchanged += 1;
        else changed.add(pid);
      }
      present[tableKey(table)] = (present[tableKey(table)] ?? 0) + found;
    }
    if (versioned.size) {
      const recheck = patients.filter((p) => {
        const pid = String(p.pid);
        return !changed.has(pid) && !skipped.has(pid) && p.previousRowsVersion !== this.rowsVersion(versionLines.get(pid));
      });
      if (recheck.length) {
        const { unchanged, versions } = await this.recheck(recheck, [...versioned], knownOf);
        for (const p of recheck) {
          const pid = String(p.pid);
          if (unchanged.has(pid)) result.rowsVersions[pid] = this.rowsVersion(versions.get(pid));
          else changed.add(pid);
        }
      }
    }
    result.skippedPatients = [...skipped];
    for (const [pid, t] of tally) {
      if (changed.has(pid)) continue;
      result.rowsRead += t.read;
      result.rowsUnchanged += t.unchanged;
      result.rowsSkipped += t.skipped;
      result.bytesRead += t.bytes;
    }
    return { changed: patients.filter((p) => changed.has(String(p.pid))), result, present };
  }

  /** Whether a source row is what the destination's stored source hash says (a C table's row always is). */
  private matchesStored(table: TablePlan, row: Record<string, unknown>, stored: string, read: SurveyRead): boolean {
    return table.constant || stored === this.changeHasher.hash(serialiseRow(row, read.hashFields, read.longText, read.digested));
  }

  /** A source row's key in the destination: the research ID where a key field is the patient ID. */
  private destinationKey(table: TablePlan, row: Record<string, unknown>, patient: BatchPatient): KeyTuple {
    return table.keys.map((k) => (k === table.pid ? patient.rid : row[k.srcField]));
  }

  /**
   * The survey's second look at patients whose row versions changed or were never recorded: their
   * rows in the tables that keep versions, read with source hashes (and versions, in the same
   * statement) and compared with the destination's hashes found by the first look.
   * @returns the patients whose every row is unchanged, and every patient's version lines
   */
  private async recheck(patients: readonly BatchPatient[], tables: readonly TablePlan[], knownOf: ReadonlyMap<TablePlan, Map<string, string>>): Promise<{ unchanged: Set<string>; versions: Map<string, string[]> }> {
    const byPid = new Map(patients.map((p) => [String(p.pid), p]));
    const pids = patients.map((p) => p.pid);
    const changed = new Set<string>();
    const versions = new Map<string, string[]>();
    const reads = tables.map((table) => {
      const rows = settled(this.surveyRows(table, pids, 'hashes and versions'));
      return { table, rows };
    });
    for (const { table, rows: rowsPromise } of reads) {
      const read = await rowsPromise;
      const { rows, filters } = read;
      const known = knownOf.get(table)!;
      for (const row of rows) {
        const pid = String(row[table.pid!.srcField]);
        const patient = byPid.get(pid);
        if (!patient) continue;
        pushLine(versions, pid, versionLine(table, row));
        if (changed.has(pid) || !passesFilters(row, filters)) continue;
        const stored = known.get(keyString(this.destinationKey(table, row, patient)));
        if (stored === undefined || !this.matchesStored(table, row, stored, read)) changed.add(pid);
      }
    }
    return { unchanged: new Set([...byPid.keys()].filter((pid) => !changed.has(pid))), versions };
  }

  /**
   * The rows of `table` a survey compares, for the given patients: keys, patient ID, filter
   * fields, and then by `what`: the fields its source hash covers (unless the table is C), long
   * text digested by the source database where it can (as copyTable's incremental path does);
   * the row version; or both.
   */
  private async surveyRows(table: TablePlan, pids: ReadonlyArray<string | number>, what: 'hashes' | 'versions' | 'hashes and versions'): Promise<SurveyRead> {
    const db = this.sources.get(table.srcDb)!;
    const qs = (n: string): string => quoteIdentifier(db.dialect, n);
    const pidField = table.pid!.srcField;
    const keyFields = table.keys.map((k) => k.srcField);
    const { hashFields, longText, filters, digestFunction } = hashPlan(table, db.dialect);
    const digested = digestFunction !== undefined;
    // A C table's rows are unchanged once present: only keys (and filter fields) are read.
    const hashed = what !== 'versions' && !table.constant;
    const fields = [...new Set([pidField, ...keyFields, ...filters.map((f) => f.srcField), ...(hashed ? hashFields : [])])];
    const columns = fields.map((f) => (digested && longText.has(f) ? `${digestFunction}(${qs(f)}) AS ${qs(f)}` : qs(f)));
    if (what !== 'hashes') columns.push(`${ROW_VERSION_SQL} AS ${qs(ROW_VERSION)}`);
    // Integer patient IDs listed densely (as the sorted patient list gives them) are read as one
    // range instead: a planner without statistics also takes the index for a range, and one
    // statement costs both sides less than many. Rows of patients not in the batch (opted out,
    // or absent from the patient table) are read too and ignored by the caller; the density
    // test bounds them to about as many patients as the batch holds.
    const range = INTEGER_TYPE.test(table.pid!.srcDatatype.trim()) ? denseIntegerRange(pids) : undefined;
    if (range) {
      const rows = await db.sequelize.query<Record<string, unknown>>(`SELECT ${columns.join(', ')} FROM ${qs(table.srcTable)} WHERE ${qs(pidField)} >= :lo AND ${qs(pidField)} <= :hi`, { type: QueryTypes.SELECT, replacements: range });
      return { rows, fields, hashFields, longText, digested, filters };
    }
    // Otherwise few patients per statement: a planner without statistics on the table (one just
    // loaded) estimates each listed value at 0.5% of the rows and scans the whole table for a
    // long list; for a short one it uses the index on the patient ID.
    const chunks: Array<Promise<Array<Record<string, unknown>>>> = [];
    for (let i = 0; i < pids.length; i += SURVEY_PIDS) {
      chunks.push(db.sequelize.query<Record<string, unknown>>(`SELECT ${columns.join(', ')} FROM ${qs(table.srcTable)} WHERE ${qs(pidField)} IN (:chunk)`, { type: QueryTypes.SELECT, replacements: { chunk: pids.slice(i, i + SURVEY_PIDS) } }));
    }
    const rows = (await Promise.all(chunks)).flat();
    return { rows, fields, hashFields, longText, digested, filters };
  }

  /** Every patient's identifiers, third parties' included, from the scrub_src fields. */
  private async gatherIdentifiers(pids: ReadonlyArray<string | number>): Promise<Map<string, { patient: IdentifierValue[]; thirdParty: IdentifierValue[]; required: Set<DdRow> }>> {
    const out = new Map<string, { patient: IdentifierValue[]; thirdParty: IdentifierValue[]; required: Set<DdRow> }>();
    const entry = (pid: string): { patient: IdentifierValue[]; thirdParty: IdentifierValue[]; required: Set<DdRow> } => {
      let e = out.get(pid);
      if (!e) out.set(pid, (e = { patient: [], thirdParty: [], required: new Set() }));
      return e;
    };
    const xrefs = new Map<string, Set<string>>();
    const own = await this.readScrubSources(pids, ['patient', 'thirdparty', 'thirdparty_xref_pid']);
    for (const { pid, row, value } of own) {
      const e = entry(pid);
      if (row.scrubSrc === 'patient') {
        e.patient.push({ value, method: this.methodOf(row) });
        if (row.flags.has('R') && value !== null && value !== undefined && String(value).trim() !== '') e.required.add(row);
      } else if (row.scrubSrc === 'thirdparty') e.thirdParty.push({ value, method: this.methodOf(row) });
      else if (value !== null && value !== undefined && String(value) !== '') {
        let set = xrefs.get(pid);
        if (!set) xrefs.set(pid, (set = new Set()));
        set.add(String(value));
      }
    }
    // Other patients named by thirdparty_xref_pid: their own identifiers scrub as third party,
    // and their own cross-references are followed to the configured depth.
    let frontier = xrefs;
    for (let depth = 1; depth <= this.settings.config.thirdpartyXrefMaxDepth && frontier.size; depth++) {
      const wanted = [...new Set([...frontier.values()].flatMap((s) => [...s]))];
      const values = await this.readScrubSources(wanted, depth < this.settings.config.thirdpartyXrefMaxDepth ? ['patient', 'thirdparty_xref_pid'] : ['patient']);
      const byOther = new Map<string, Array<{ row: DdRow; value: unknown }>>();
      for (const v of values) byOther.set(v.pid, [...(byOther.get(v.pid) ?? []), v]);
      const next = new Map<string, Set<string>>();
      for (const [pid, others] of frontier) {
        for (const other of others) {
          for (const { row, value } of byOther.get(other) ?? []) {
            if (row.scrubSrc === 'patient') entry(pid).thirdParty.push({ value, method: this.methodOf(row) });
            else if (value !== null && value !== undefined) {
              let set = next.get(pid);
              if (!set) next.set(pid, (set = new Set()));
              set.add(String(value));
            }
          }
        }
      }
      frontier = next;
    }
    return out;
  }

  private async readScrubSources(pids: ReadonlyArray<string | number>, kinds: readonly string[]): Promise<Array<{ pid: string; row: DdRow; value: unknown }>> {
    const found: Array<{ pid: string; row: DdRow; value: unknown }> = [];
    if (!pids.length) return found;
    for (const table of this.settings.plan.tables) {
      const rows = table.scrubSources.filter((r) => kinds.includes(r.scrubSrc!));
      if (!rows.length || !table.pid) continue;
      const db = this.sources.get(table.srcDb)!;
      const q = (n: string): string => quoteIdentifier(db.dialect, n);
      const fields = [...new Set([table.pid.srcField, ...rows.map((r) => r.srcField)])];
      for (let i = 0; i < pids.length; i += IN_CHUNK) {
        const chunk = pids.slice(i, i + IN_CHUNK);
        const records = await db.sequelize.query<Record<string, unknown>>(`SELECT ${fields.map(q).join(', ')} FROM ${q(table.srcTable)} WHERE ${q(table.pid.srcField)} IN (:chunk)`, { type: QueryTypes.SELECT, replacements: { chunk } });
        for (const record of records) {
          const pid = String(record[table.pid.srcField]);
          for (const row of rows) found.push({ pid, row, value: record[row.srcField] });
        }
      }
    }
    return found;
  }

  /**
   * Copies rows of `table` (those of `scope.pids`, or the key range) to the destination.
   * @param shouldRedo - false for a row whose patient's scrubber is unchanged (incremental)
   */
  private async copyTable(
    table: TablePlan,
    scope: { pids: ReadonlyArray<string | number> } | { after: KeyTuple | undefined; upTo: KeyTuple | undefined },
    patients: Map<string, BatchPatient> | undefined,
    scrubberOf: (row: Record<string, unknown>) => Scrubber,
    shouldRedo: (row: Record<string, unknown>) => boolean,
    result: BatchResult,
    versions?: VersionCollector,
  ): Promise<void> {
    const db = this.sources.get(table.srcDb)!;
    const dest = this.destination;
    const qs = (n: string): string => quoteIdentifier(db.dialect, n);
    const keys = table.keys;
    const keyFields = keys.map((k) => k.srcField);
    const sourceKey = (row: Record<string, unknown>): KeyTuple => keyFields.map((f) => row[f]);
    const { config, incremental } = this.settings;
    const { hashFields, longText, filters, digestFunction } = hashPlan(table, db.dialect);
    // Tables without patients are scrubbed by the non-specific scrubber: its digest is part of
    // what their source hash covers, so that changing its settings redoes their rows.
    const scrubs = table.included.some((r) => r.alterMethods.some((m) => m.kind === 'scrub'));
    const salt = !patients && scrubs ? `scrubber:${this.nonspecific.digest};` : '';
    const readFields = [...new Set([...table.rows.filter((r) => r.include || r.scrubSrc || r.inclusionValues || r.exclusionValues).map((r) => r.srcField),
      ...table.included.flatMap((r) => r.alterMethods.flatMap((m) => (m.kind === 'binary_to_text' ? [m.extensionField] : [])))])];
    // Incremental runs over H tables first read only digests of long text, computed by the
    // source database, and fetch whole rows only for the rows that changed.
    const lightFirst = incremental && table.hasSrcHash && digestFunction !== undefined;
    const pageColumns = readFields.map((f) => (lightFirst && longText.has(f) ? `${digestFunction}(${qs(f)}) AS ${qs(f)}` : qs(f)));
    // Row versions are read with the contents they stand for, in the same statement.
    if (versions) pageColumns.push(`${ROW_VERSION_SQL} AS ${qs(ROW_VERSION)}`);
    const pidOf = (row: Record<string, unknown>): string => String(row[table.pid!.srcField]);
    const pending: Array<Record<string, unknown>> = [];
    const replaced: KeyTuple[] = [];
    let pendingBytes = 0;
    // Reading, computing and writing overlap: the next page is fetched while this one is
    // processed, and one write may be in flight while the next rows are prepared.
    let inflight: Promise<void> = Promise.resolve();
    const flush = async (): Promise<void> => {
      if (!pending.length && !replaced.length) return;
      const rows = pending.splice(0);
      const keys = replaced.splice(0);
      pendingBytes = 0;
      await inflight;
      inflight = this.write(dest.sequelize, dest.dialect, table, rows, keys);
      inflight.catch(() => undefined);
    };
    const chunks: Array<ReadonlyArray<string | number> | undefined> = 'pids' in scope ? [] : [undefined];
    if ('pids' in scope) for (let i = 0; i < scope.pids.length; i += IN_CHUNK) chunks.push(scope.pids.slice(i, i + IN_CHUNK));
    for (const chunk of chunks) {
      const fetchPage = (after: KeyTuple | undefined): Promise<Array<Record<string, unknown>>> => {
        const conditions: string[] = [];
        const replacements: Record<string, unknown> = {};
        if (chunk) {
          conditions.push(`${qs(table.pid!.srcField)} IN (:chunk)`);
          replacements.chunk = chunk;
        }
        for (const [bound, op, prefix] of [[after, '>', 'after'], ['upTo' in scope ? scope.upTo : undefined, '<=', 'upTo']] as const) {
          if (!bound) continue;
          const k = keyBound(db.dialect, keyFields, bound, op, prefix);
          conditions.push(k.sql);
          Object.assign(replacements, k.replacements);
        }
        const sql = pagedSelect(db.dialect, table.srcTable, pageColumns, keyFields, PAGE_ROWS, conditions);
        const page = db.sequelize.query<Record<string, unknown>>(sql, { type: QueryTypes.SELECT, replacements });
        // Awaited below; this only keeps a failure while processing from going unhandled.
        page.catch(() => undefined);
        return page;
      };
      let next = fetchPage('after' in scope ? scope.after : undefined);
      for (;;) {
        const page = await next;
        if (!page.length) break;
        next = page.length < PAGE_ROWS ? Promise.resolve([]) : fetchPage(sourceKey(page[page.length - 1]!));
        // The destination's key: the research ID where a key field is the patient ID.
        const destKey = (row: Record<string, unknown>): KeyTuple => (table.pid ? this.destinationKey(table, row, patients!.get(pidOf(row))!) : sourceKey(row));
        const existing = incremental ? await this.existingHashes(table, page.map(destKey)) : undefined;
        let rows = page;
        if (lightFirst) {
          // Keep the rows whose digests say they changed (or whose patient is redone), then read them whole.
          const changed: KeyTuple[] = [];
          for (const row of page) {
            result.rowsRead += 1;
            for (const f of readFields) result.bytesRead += byteSize(row[f]);
            if (versions) pushLine(versions.lines, pidOf(row), versionLine(table, row));
            const known = existing!.get(keyString(destKey(row)));
            if (!passesFilters(row, filters)) result.rowsSkipped += 1;
            else if (known !== undefined && known === this.changeHasher.hash(serialiseRow(row, hashFields, longText, true) + salt) && !shouldRedo(row)) result.rowsUnchanged += 1;
            else changed.push(sourceKey(row));
          }
          rows = [];
          for (let i = 0; i < changed.length; i += IN_CHUNK) {
            const match = keyMatch(db.dialect, keyFields, changed.slice(i, i + IN_CHUNK), 'keys');
            rows.push(...(await db.sequelize.query<Record<string, unknown>>(pagedSelect(db.dialect, table.srcTable, readFields.map(qs), keyFields, IN_CHUNK, [match.sql]), { type: QueryTypes.SELECT, replacements: match.replacements })));
          }
        }
        for (const row of rows) {
          if (!lightFirst) {
            result.rowsRead += 1;
            for (const f of readFields) result.bytesRead += byteSize(row[f]);
            if (versions) pushLine(versions.lines, pidOf(row), versionLine(table, row));
          }
          if (!passesFilters(row, filters)) {
            result.rowsSkipped += 1;
            continue;
          }
          const key = destKey(row);
          const srcHash = table.hasSrcHash ? this.changeHasher.hash(serialiseRow(row, hashFields, longText) + salt) : undefined;
          if (existing) {
            const known = existing.get(keyString(key));
            if (known !== undefined) {
              const unchanged = table.constant || (table.hasSrcHash && known === srcHash);
              if (unchanged && !shouldRedo(row)) {
                result.rowsUnchanged += 1;
                continue;
              }
              replaced.push(key);
            }
          }
          const out = await this.destinationRow(table, row, patients, scrubberOf, srcHash);
          if (out === undefined) {
            result.rowsSkipped += 1;
            versions?.incomplete.add(pidOf(row));
            continue;
          }
          pending.push(out);
          for (const v of Object.values(out)) pendingBytes += byteSize(v);
          result.rowsWritten += 1;
          if (pending.length >= config.commitRows || pendingBytes >= config.commitBytes) await flush();
        }
      }
    }
    await flush();
    await inflight;
  }

  /** The destination row, or undefined when an extraction failed and the row is skipped. */
  private async destinationRow(table: TablePlan, row: Record<string, unknown>, patients: Map<string, BatchPatient> | undefined, scrubberOf: (row: Record<string, unknown>) => Scrubber, srcHash: string | undefined): Promise<Record<string, unknown> | undefined> {
    const out: Record<string, unknown> = {};
    const patient = table.pid ? patients?.get(String(row[table.pid.srcField])) : undefined;
    let scrubber: Scrubber | undefined;
    const ctx: AlterContext = {
      scrub: (text) => (scrubber ??= scrubberOf(row)).scrub(text),
      hasher: (section) => this.hashers.get(section)!,
      row,
      extractionTimeoutMs: this.settings.config.extractionTimeoutMs,
    };
    for (const field of table.included) {
      const value = row[field.srcField];
      if (field === table.pid) out[field.destField] = patient!.rid;
      else if (field === table.mpid) out[field.destField] = patient?.mrid ?? null;
      else if (!field.alterMethods.length) out[field.destField] = value ?? null;
      else {
        const altered = await alterValue(value, field.alterMethods, ctx);
        if (altered === SKIP_ROW) return undefined;
        out[field.destField] = altered ?? null;
      }
    }
    if (table.pid) {
      out[this.settings.config.tridField] = patient!.trid;
      out[this.settings.config.mridField] = patient!.mrid ?? null;
    }
    if (table.hasSrcHash) out[this.settings.config.sourceHashField] = srcHash;
    return out;
  }

  /** Destination source hashes (or '' for tables without) of the given keys, by keyString. */
  private async existingHashes(table: TablePlan, keys: KeyTuple[]): Promise<Map<string, string>> {
    const dest = this.destination;
    const q = (n: string): string => quoteIdentifier(dest.dialect, n);
    const destFields = table.keys.map((k) => k.destField);
    const hashField = this.settings.config.sourceHashField;
    const found = new Map<string, string>();
    const columns = `${destFields.map((f, j) => `${q(f)} AS ${q(`k${j}`)}`).join(', ')}${table.hasSrcHash ? `, ${q(hashField)} AS h` : ''}`;
    const keep = (r: Record<string, unknown>): void => {
      found.set(keyString(destFields.map((_, j) => r[`k${j}`])), r.h === undefined || r.h === null ? '' : String(r.h));
    };
    // Dense integer keys (a batch's notes, say) are read as one range.
    const range = destFields.length === 1 && table.keys[0] !== table.pid && INTEGER_TYPE.test(table.keys[0]!.srcDatatype.trim()) ? denseIntegerRange(keys.map((k) => k[0])) : undefined;
    if (range) {
      const rows = await dest.sequelize.query<Record<string, unknown>>(`SELECT ${columns} FROM ${q(table.destTable)} WHERE ${q(destFields[0]!)} >= :lo AND ${q(destFields[0]!)} <= :hi`, { type: QueryTypes.SELECT, replacements: range });
      for (const r of rows) keep(r);
      return found;
    }
    // Composite keys match by an OR of ANDs: smaller chunks keep those statements short.
    const chunk = destFields.length === 1 ? IN_CHUNK : 100;
    for (let i = 0; i < keys.length; i += chunk) {
      const match = keyMatch(dest.dialect, destFields, keys.slice(i, i + chunk), 'keys');
      const rows = await dest.sequelize.query<Record<string, unknown>>(`SELECT ${columns} FROM ${q(table.destTable)} WHERE ${match.sql}`, { type: QueryTypes.SELECT, replacements: match.replacements });
      for (const r of rows) keep(r);
    }
    return found;
  }

  /** In one transaction: deletes the destination rows being replaced, inserts the new ones. */
  private async write(sequelize: Sequelize, dialect: SqlDialect, table: TablePlan, rows: Array<Record<string, unknown>>, replaced: KeyTuple[]): Promise<void> {
    const q = (n: string): string => quoteIdentifier(dialect, n);
    const destFields = table.keys.map((k) => k.destField);
    await sequelize.transaction(async (transaction: Transaction) => {
      const chunk = destFields.length === 1 ? IN_CHUNK : 100;
      for (let i = 0; i < replaced.length; i += chunk) {
        const match = keyMatch(dialect, destFields, replaced.slice(i, i + chunk), 'keys');
        await sequelize.query(`DELETE FROM ${q(table.destTable)} WHERE ${match.sql}`, { replacements: match.replacements, transaction });
      }
      if (!rows.length) return;
      const columns = Object.keys(rows[0]!);
      if (dialect === 'postgres') {
        await copyRowsIn(pgClientOf(transaction), q(table.destTable), columns, rows);
        return;
      }
      if (dialect === 'mssql') {
        // SQL Server allows 2100 parameters; sequelize's own bulk insert stays within them.
        const perStatement = Math.max(1, Math.floor(2000 / columns.length));
        for (let i = 0; i < rows.length; i += perStatement) await sequelize.getQueryInterface().bulkInsert(table.destTable, rows.slice(i, i + perStatement), { transaction });
        return;
      }
      // Bound parameters, not values escaped into the text: long notes then never pass through
      // sequelize's string escaping and query-text inspection. Limits: SQLite 32766, PostgreSQL
      // and MySQL 65535 parameters per statement.
      const perStatement = Math.max(1, Math.floor(30000 / columns.length));
      const head = `INSERT INTO ${q(table.destTable)} (${columns.map(q).join(', ')}) VALUES `;
      for (let i = 0; i < rows.length; i += perStatement) {
        const slice = rows.slice(i, i + perStatement);
        let n = 0;
        const tuples = slice.map(() => `(${columns.map(() => `$${++n}`).join(', ')})`);
        const bind = slice.flatMap((row) => columns.map((c) => boundValue(row[c], dialect)));
        await sequelize.query(head + tuples.join(', '), { bind, transaction, type: QueryTypes.INSERT });
      }
    });
  }
}

/**
 * The pg client a sequelize transaction on PostgreSQL runs on. Sequelize 6 keeps it on the
 * transaction without declaring it in its types.
 */
function pgClientOf(transaction: Transaction): pg.Client {
  const client = (transaction as unknown as { connection?: pg.Client }).connection;
  if (!client || typeof client.query !== 'function') throw new Error('the destination transaction has no PostgreSQL connection');
  return client;
}

/** A value as the driver should bind it: SQLite's driver would store a Date as a number. */
function boundValue(value: unknown, dialect: SqlDialect): unknown {
  if (value === undefined) return null;
  if (dialect === 'sqlite' && value instanceof Date) return value.toISOString().replace('T', ' ').replace('Z', ' +00:00');
  return value;
}

function passesFilters(row: Record<string, unknown>, filters: readonly DdRow[]): boolean {
  for (const f of filters) {
    const value = row[f.srcField];
    const same = (candidate: unknown): boolean => (candidate === null ? value === null || value === undefined : String(candidate) === String(value));
    if (f.inclusionValues && !f.inclusionValues.some(same)) return false;
    if (f.exclusionValues && f.exclusionValues.some(same)) return false;
  }
  return true;
}
