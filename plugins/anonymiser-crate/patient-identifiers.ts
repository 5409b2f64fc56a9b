// A batch's patients' identifiers, read from the dictionary's scrub_src fields: their own, their
// third parties', and those of other patients named by thirdparty_xref_pid (followed to the
// configured depth), each with its scrub method. Scrubbers and scrubber digests are built from these.
import { QueryTypes } from 'sequelize';
import { effectiveScrubMethod } from './anon-config.js';
import type { DdRow, ScrubMethod } from './data-dictionary.js';
import type { IdentifierValue } from './patient-scrubber.js';
import { quoteIdentifier } from './sql-dialect.js';
import type { BatchContext } from './batch-context.js';
import { IN_CHUNK } from './source-row-plan.js';

/** One patient's identifiers, and the required scrubber fields (R) that had a value. */
export interface PatientIdentifiers {
  patient: IdentifierValue[];
  thirdParty: IdentifierValue[];
  required: Set<DdRow>;
}

/** A patient with no identifier found. */
export const noIdentifiers = (): PatientIdentifiers => ({ patient: [], thirdParty: [], required: new Set<DdRow>() });

/** The required scrubber fields (R) a patient has no value in: the patient is skipped when any. */
export function missingRequired(ctx: BatchContext, ids: PatientIdentifiers): DdRow[] {
  return ctx.settings.plan.tables.flatMap((t) => t.requiredScrubbers).filter((r) => !ids.required.has(r));
}

/** The scrub method of a scrubber-source field, address components applied (see effectiveScrubMethod). */
function methodOf(ctx: BatchContext, row: DdRow): ScrubMethod {
  return effectiveScrubMethod(row, ctx.settings.config.addressComponentFields)!;
}

/** Every patient's identifiers, third parties' included, from the scrub_src fields, by patient ID as text. */
export async function gatherIdentifiers(ctx: BatchContext, pids: ReadonlyArray<string | number>): Promise<Map<string, PatientIdentifiers>> {
  const out = new Map<string, PatientIdentifiers>();
  const entry = (pid: string): PatientIdentifiers => {
    let e = out.get(pid);
    if (!e) out.set(pid, (e = noIdentifiers()));
    return e;
  };
  const xrefs = new Map<string, Set<string>>();
  const own = await readScrubSources(ctx, pids, ['patient', 'thirdparty', 'thirdparty_xref_pid']);
  for (const { pid, row, value } of own) {
    const e = entry(pid);
    if (row.scrubSrc === 'patient') {
      e.patient.push({ value, method: methodOf(ctx, row) });
      if (row.flags.has('R') && value !== null && value !== undefined && String(value).trim() !== '') e.required.add(row);
    } else if (row.scrubSrc === 'thirdparty') e.thirdParty.push({ value, method: methodOf(ctx, row) });
    else if (value !== null && value !== undefined && String(value) !== '') {
      let set = xrefs.get(pid);
      if (!set) xrefs.set(pid, (set = new Set()));
      set.add(String(value));
    }
  }
  // Other patients named by thirdparty_xref_pid: their own identifiers scrub as third party,
  // and their own cross-references are followed to the configured depth.
  const maxDepth = ctx.settings.config.thirdpartyXrefMaxDepth;
  let frontier = xrefs;
  for (let depth = 1; depth <= maxDepth && frontier.size; depth++) {
    const wanted = [...new Set([...frontier.values()].flatMap((s) => [...s]))];
    const values = await readScrubSources(ctx, wanted, depth < maxDepth ? ['patient', 'thirdparty_xref_pid'] : ['patient']);
    const byOther = new Map<string, Array<{ row: DdRow; value: unknown }>>();
    for (const v of values) byOther.set(v.pid, [...(byOther.get(v.pid) ?? []), v]);
    const next = new Map<string, Set<string>>();
    for (const [pid, others] of frontier) {
      for (const other of others) {
        for (const { row, value } of byOther.get(other) ?? []) {
          if (row.scrubSrc === 'patient') entry(pid).thirdParty.push({ value, method: methodOf(ctx, row) });
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

/** The values of the scrub_src fields of `kinds`, of the given patients, from every patient table. */
async function readScrubSources(ctx: BatchContext, pids: ReadonlyArray<string | number>, kinds: readonly string[]): Promise<Array<{ pid: string; row: DdRow; value: unknown }>> {
  const found: Array<{ pid: string; row: DdRow; value: unknown }> = [];
  if (!pids.length) return found;
  for (const table of ctx.settings.plan.tables) {
    const rows = table.scrubSources.filter((r) => kinds.includes(r.scrubSrc!));
    if (!rows.length || !table.pid) continue;
    const db = ctx.sourceOf(table);
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
