// An incremental run's first pass over a batch of patients, by digests only: which patients have
// anything to do (a changed scrubber, a new or changed row), without compiling a scrubber or
// reading long text. Patients with nothing to do are tallied here and need no further work.
import { QueryTypes } from 'sequelize';
import type { TablePlan } from './dictionary-plan.js';
import type { DdRow } from './data-dictionary.js';
import { serialiseRow } from './row-serialisation.js';
import { quoteIdentifier } from './sql-dialect.js';
import { denseIntegerRange, keyString } from './row-keys.js';
import type { BatchContext } from './batch-context.js';
import { emptyResult, tableKey, type BatchPatient, type BatchResult } from './batch-task.js';
import { existingHashes } from './destination-hashes.js';
import { gatherIdentifiers, missingRequired, noIdentifiers } from './patient-identifiers.js';
import { byteSize, hashPlan, INTEGER_TYPE, passesFilters, pushLine, ROW_VERSION, ROW_VERSION_SQL, settled, versionLine } from './source-row-plan.js';

/** Patients per statement in a survey's reads of source tables (see surveyRows). */
const SURVEY_PIDS = 20;

/** What surveyRows returns. */
interface SurveyRead {
  rows: Array<Record<string, unknown>>;
  fields: string[];
  hashFields: string[];
  longText: Set<string>;
  digested: boolean;
  filters: DdRow[];
}

/** What a survey of a batch found. */
export interface SurveyOutcome {
  /** The patients with a changed scrubber or a new or changed row. */
  changed: BatchPatient[];
  /** The tallies of the rest, and new row-version digests of patients found unchanged. */
  result: BatchResult;
  /** Per table (tableKey), how many destination rows were found for source rows of patients not skipped. */
  present: Record<string, number>;
}

/**
 * True when a survey can tell unchanged patients apart: every patient table copied is H (source
 * hash kept) or C (contents never change). Rows of other tables are rewritten by every
 * incremental run, so a survey could skip nobody.
 */
export function canSurvey(ctx: BatchContext): boolean {
  return ctx.settings.incremental && ctx.patientTables.every((t) => t.hasSrcHash || t.constant);
}

/**
 * The cheap first pass of an incremental run over a batch of patients: compares, for each
 * patient, the keyed scrubber digest and every row with what the secret map and the
 * destination hold, with every read of the batch issued at once and the destination's hashes
 * asked by primary key (as a range where the keys are dense integers, else 500 a statement).
 * The scrubber digest is computed from the identifier values (identifierDigest), so no
 * expression is assembled.
 *
 * Rows are compared in one of two ways. Where the source keeps row versions (a PostgreSQL
 * table), only keys and versions are read: a patient whose rows' versions digest to what the
 * secret map recorded when the patient was last written, and whose every row has its
 * destination row, is unchanged. Patients whose versions differ (or were never recorded) are
 * read again with their source hashes, the source database digesting long text; those found
 * unchanged after all get their new digest recorded. Elsewhere every row's source hash is
 * compared at once.
 *
 * The changed patients are returned, to be run as usual (which decides row by row again).
 */
export async function surveyPatients(ctx: BatchContext, patients: BatchPatient[]): Promise<SurveyOutcome> {
  const result = emptyResult();
  const present: Record<string, number> = {};
  if (!canSurvey(ctx)) return { changed: patients, result, present };
  const pids = patients.map((p) => p.pid);
  const byPid = new Map(patients.map((p) => [String(p.pid), p]));
  const tables = ctx.patientTables;
  const versioned = await ctx.versionedTables(tables);
  // Every read is requested at once: the source database reads one table while the
  // destination answers and this thread compares.
  // The destination is asked by primary key, which it always has indexed (an index on the
  // research ID comes only at the end of a full run, and a fresh table has no statistics
  // that would make the planner use one).
  const reads = tables.map((table) => {
    const rows = settled(surveyRows(ctx, table, pids, versioned.has(table) ? 'versions' : 'hashes'));
    const known = settled(rows.then(({ rows: list }) => existingHashes(ctx.destination, table, ctx.settings.config.sourceHashField, list.flatMap((row) => {
      const patient = byPid.get(String(row[table.pid!.srcField]));
      return patient ? [ctx.destinationKey(table, row, patient)] : [];
    }))));
    return { table, known, rows };
  });
  const identifiers = await gatherIdentifiers(ctx, pids);
  const changed = new Set<string>();
  const skipped = new Set<string>();
  for (const patient of patients) {
    const key = String(patient.pid);
    const ids = identifiers.get(key) ?? noIdentifiers();
    if (missingRequired(ctx, ids).length) {
      skipped.add(key);
      continue;
    }
    // The digest comes from the identifier values themselves: no expression is assembled.
    if (patient.previousScrubberHash === undefined || ctx.scrubberHash(ids) !== patient.previousScrubberHash) changed.add(key);
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
      const stored = known.get(keyString(ctx.destinationKey(table, row, patient)));
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
      if (stored !== undefined && (byVersion || matchesStored(ctx, table, row, stored, read))) t.unchanged += 1;
      else changed.add(pid);
    }
    present[tableKey(table)] = (present[tableKey(table)] ?? 0) + found;
  }
  if (versioned.size) {
    const recheck = patients.filter((p) => {
      const pid = String(p.pid);
      return !changed.has(pid) && !skipped.has(pid) && p.previousRowsVersion !== ctx.rowsVersion(versionLines.get(pid));
    });
    if (recheck.length) {
      const { unchanged, versions } = await recheckByHash(ctx, recheck, [...versioned], knownOf);
      for (const p of recheck) {
        const pid = String(p.pid);
        if (unchanged.has(pid)) result.rowsVersions[pid] = ctx.rowsVersion(versions.get(pid));
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
function matchesStored(ctx: BatchContext, table: TablePlan, row: Record<string, unknown>, stored: string, read: SurveyRead): boolean {
  return table.constant || stored === ctx.changeHasher.hash(serialiseRow(row, read.hashFields, read.longText, read.digested));
}

/**
 * The survey's second look at patients whose row versions changed or were never recorded: their
 * rows in the tables that keep versions, read with source hashes (and versions, in the same
 * statement) and compared with the destination's hashes found by the first look.
 * @returns the patients whose every row is unchanged, and every patient's version lines
 */
async function recheckByHash(ctx: BatchContext, patients: readonly BatchPatient[], tables: readonly TablePlan[], knownOf: ReadonlyMap<TablePlan, Map<string, string>>): Promise<{ unchanged: Set<string>; versions: Map<string, string[]> }> {
  const byPid = new Map(patients.map((p) => [String(p.pid), p]));
  const pids = patients.map((p) => p.pid);
  const changed = new Set<string>();
  const versions = new Map<string, string[]>();
  const reads = tables.map((table) => ({ table, rows: settled(surveyRows(ctx, table, pids, 'hashes and versions')) }));
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
      const stored = known.get(keyString(ctx.destinationKey(table, row, patient)));
      if (stored === undefined || !matchesStored(ctx, table, row, stored, read)) changed.add(pid);
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
async function surveyRows(ctx: BatchContext, table: TablePlan, pids: ReadonlyArray<string | number>, what: 'hashes' | 'versions' | 'hashes and versions'): Promise<SurveyRead> {
  const db = ctx.sourceOf(table);
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
