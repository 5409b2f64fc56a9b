// Copies the rows of one table (a batch's patients' rows, or a key range of a table without
// patients) from the source to the destination: pages read by key, each row filtered, compared
// with what the destination holds (incremental runs), altered and scrubbed, and written every N
// rows or M bytes. Reading, computing and writing overlap.
import { QueryTypes } from 'sequelize';
import type { TablePlan } from './dictionary-plan.js';
import type { Scrubber } from './patient-scrubber.js';
import { serialiseRow } from './row-serialisation.js';
import { pagedSelect, quoteIdentifier } from './sql-dialect.js';
import { keyBound, keyMatch, keyString, type KeyTuple } from './row-keys.js';
import { alterValue, SKIP_ROW, type AlterContext } from './value-alterers.js';
import type { BatchContext } from './batch-context.js';
import type { BatchPatient, BatchResult } from './batch-task.js';
import { existingHashes } from './destination-hashes.js';
import { writeRows } from './destination-writer.js';
import { byteSize, hashPlan, IN_CHUNK, passesFilters, pushLine, ROW_VERSION, ROW_VERSION_SQL, versionLine, type VersionCollector } from './source-row-plan.js';

const PAGE_ROWS = 2000;
/**
 * Rows of a processor's first commit to each table: the first rows of a run reach the
 * destination after a few notes are scrubbed rather than a whole batch's, so that a run shows
 * its output (and a wrong dictionary its effect) at once. Later commits are commit_rows /
 * commit_mb large.
 */
const FIRST_COMMIT_ROWS = 20;

/** Which rows of a table to copy: those of the given patients, or a key range. */
export type CopyScope = { pids: ReadonlyArray<string | number> } | { after: KeyTuple | undefined; upTo: KeyTuple | undefined };

/**
 * Copies rows of `table` (those of `scope.pids`, or the key range) to the destination.
 * @param patients - the batch's patients by ID as text (undefined for tables without patients)
 * @param shouldRedo - false for a row whose patient's scrubber is unchanged (incremental)
 * @param versions - where to collect row versions, for tables that keep them
 */
export async function copyTable(
  ctx: BatchContext,
  table: TablePlan,
  scope: CopyScope,
  patients: Map<string, BatchPatient> | undefined,
  scrubberOf: (row: Record<string, unknown>) => Scrubber,
  shouldRedo: (row: Record<string, unknown>) => boolean,
  result: BatchResult,
  versions?: VersionCollector,
): Promise<void> {
  const db = ctx.sourceOf(table);
  const dest = ctx.destination;
  const qs = (n: string): string => quoteIdentifier(db.dialect, n);
  const keyFields = table.keys.map((k) => k.srcField);
  const sourceKey = (row: Record<string, unknown>): KeyTuple => keyFields.map((f) => row[f]);
  const { config, incremental } = ctx.settings;
  const { hashFields, longText, filters, digestFunction } = hashPlan(table, db.dialect);
  // Tables without patients are scrubbed by the non-specific scrubber: its digest is part of
  // what their source hash covers, so that changing its settings redoes their rows.
  const scrubs = table.included.some((r) => r.alterMethods.some((m) => m.kind === 'scrub'));
  const salt = !patients && scrubs ? `scrubber:${ctx.nonspecific.digest};` : '';
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
    inflight = writeRows(dest.sequelize, dest.dialect, table, rows, keys);
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
      const destKey = (row: Record<string, unknown>): KeyTuple => (table.pid ? ctx.destinationKey(table, row, patients!.get(pidOf(row))!) : sourceKey(row));
      const existing = incremental ? await existingHashes(dest, table, config.sourceHashField, page.map(destKey)) : undefined;
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
          else if (known !== undefined && known === ctx.changeHasher.hash(serialiseRow(row, hashFields, longText, true) + salt) && !shouldRedo(row)) result.rowsUnchanged += 1;
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
        const srcHash = table.hasSrcHash ? ctx.changeHasher.hash(serialiseRow(row, hashFields, longText) + salt) : undefined;
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
        const out = await destinationRow(ctx, table, row, patients, scrubberOf, srcHash);
        if (out === undefined) {
          result.rowsSkipped += 1;
          versions?.incomplete.add(pidOf(row));
          continue;
        }
        pending.push(out);
        for (const v of Object.values(out)) pendingBytes += byteSize(v);
        result.rowsWritten += 1;
        if (pending.length >= config.commitRows || pendingBytes >= config.commitBytes || (!ctx.committed.has(table) && pending.length >= FIRST_COMMIT_ROWS)) {
          ctx.committed.add(table);
          await flush();
        }
      }
    }
  }
  await flush();
  await inflight;
}

/** The destination row, or undefined when an extraction failed and the row is skipped. */
async function destinationRow(ctx: BatchContext, table: TablePlan, row: Record<string, unknown>, patients: Map<string, BatchPatient> | undefined, scrubberOf: (row: Record<string, unknown>) => Scrubber, srcHash: string | undefined): Promise<Record<string, unknown> | undefined> {
  const { config } = ctx.settings;
  const out: Record<string, unknown> = {};
  const patient = table.pid ? patients?.get(String(row[table.pid.srcField])) : undefined;
  let scrubber: Scrubber | undefined;
  const alter: AlterContext = {
    scrub: (text) => (scrubber ??= scrubberOf(row)).scrub(text),
    hasher: (section) => ctx.hashers.get(section)!,
    row,
    extractionTimeoutMs: config.extractionTimeoutMs,
  };
  for (const field of table.included) {
    const value = row[field.srcField];
    if (field === table.pid) out[field.destField] = patient!.rid;
    else if (field === table.mpid) out[field.destField] = patient?.mrid ?? null;
    else if (!field.alterMethods.length) out[field.destField] = value ?? null;
    else {
      const altered = await alterValue(value, field.alterMethods, alter);
      if (altered === SKIP_ROW) return undefined;
      out[field.destField] = altered ?? null;
    }
  }
  if (table.pid) {
    out[config.tridField] = patient!.trid;
    out[config.mridField] = patient!.mrid ?? null;
  }
  if (table.hasSrcHash) out[config.sourceHashField] = srcHash;
  return out;
}
