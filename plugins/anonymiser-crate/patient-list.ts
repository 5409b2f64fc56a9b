// The patients of a run and who of them opted out: the patient table's IDs (and master IDs),
// less those listed as opted out by a `!` field, an opt-out table, or opt-out files. Shared by
// whole runs and by the anonymisation of single files, so both leave out the same patients.
import { QueryTypes } from 'sequelize';
import { ValidationError } from '../../core/api.js';
import type { AnonConfig } from './anon-config.js';
import type { DictionaryPlan } from './dictionary-plan.js';
import type { OpenDatabase } from './database-connection.js';
import { quoteIdentifier } from './sql-dialect.js';

/** A patient as listed by the patient table. */
export interface ListedPatient {
  pid: string | number;
  mpid: string | undefined;
}

const TRUE_LIKE = (values: readonly string[], v: unknown): boolean => v !== null && v !== undefined && values.includes(String(v).trim().toLowerCase());

/**
 * Lists the patients of the dictionary's patient table, in ID order, and the IDs (as text) of
 * those who opted out.
 * @param sources - the run's open source databases, by name (an opt-out table's source is opened through `open` and added)
 * @throws ValidationError when the opt-out table cannot be read
 */
export async function listPatients(config: AnonConfig, plan: DictionaryPlan, sources: Map<string, OpenDatabase>, open: (url: string, role: string) => Promise<OpenDatabase>): Promise<{ patients: ListedPatient[]; optedOut: Set<string> }> {
  const patients: ListedPatient[] = [];
  const optedOut = new Set<string>();
  const patientTable = plan.patientTable;
  if (!patientTable) return { patients, optedOut };
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
  if (config.optOutTable) {
    const spec = config.optOutTable;
    const sourceName = spec.source ?? patientTable.srcDb;
    const odb = sources.get(sourceName) ?? (await open(config.sources[sourceName]!, `source ${sourceName}`));
    sources.set(sourceName, odb);
    const oq = (n: string): string => quoteIdentifier(odb.dialect, n);
    const columns = [spec.pidField, spec.mpidField].filter((c): c is string => c !== undefined);
    let listed: Array<Record<string, unknown>>;
    try {
      listed = await odb.sequelize.query<Record<string, unknown>>(`SELECT ${columns.map((c, i) => `${oq(c)} AS ${oq(`c${i}`)}`).join(', ')} FROM ${oq(spec.table)}`, { type: QueryTypes.SELECT });
    } catch {
      throw new ValidationError(`cannot read the opt-out table ${spec.table} (columns ${columns.join(', ')}) in source ${sourceName}; check optout_table and its columns`);
    }
    const pidsOut = new Set<string>();
    const mpidsOut = new Set<string>();
    for (const r of listed) {
      columns.forEach((c, i) => {
        const v = r[`c${i}`];
        if (v === null || v === undefined || String(v).trim() === '') return;
        (c === spec.pidField ? pidsOut : mpidsOut).add(String(v).trim());
      });
    }
    for (const p of patients) if (pidsOut.has(String(p.pid)) || (p.mpid !== undefined && mpidsOut.has(p.mpid.trim()))) optedOut.add(String(p.pid));
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
  return { patients, optedOut };
}
