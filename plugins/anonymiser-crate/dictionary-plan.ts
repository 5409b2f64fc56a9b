// Whole-dictionary validation and the per-table plan a run follows. Row-level checks live in
// the parser; here are the rules that need several rows or the run's configuration (one
// primary key per table, possibly of several K fields, H and * on the right fields, unique
// destinations, known sources and hash sections), each reported at the line and column that
// must change.
import type { DdProblem, DdRow } from './data-dictionary.js';

/** What a run does with one source table. */
export interface TablePlan {
  srcDb: string;
  srcTable: string;
  destTable: string;
  /** Every dictionary row of the table, in file order. */
  rows: DdRow[];
  /** Rows copied to the destination, in file order. */
  included: DdRow[];
  /**
   * The primary key's fields (K), in dictionary order: one for a simple key, several for a
   * composite one; empty when the table has none. Rows are identified, ordered, paged and
   * compared by these fields together.
   */
  keys: DdRow[];
  /** The patient ID field (P), replaced by the research ID. */
  pid: DdRow | undefined;
  /** The master ID field (M), hashed to the MRID. */
  mpid: DdRow | undefined;
  /** H on the key: the destination keeps a hash of the source row for incremental runs. */
  hasSrcHash: boolean;
  /** A on the key: rows are only ever added (incremental runs never delete). */
  addOnly: boolean;
  /** C on the key: a row's contents never change (incremental runs skip rows already present). */
  constant: boolean;
  /** `*` with P: this table lists the patients. */
  definesPatients: boolean;
  optOutFields: DdRow[];
  requiredScrubbers: DdRow[];
  /** Rows whose values feed scrubbers (scrub_src set). */
  scrubSources: DdRow[];
}

/** The validated dictionary: tables in file order. */
export interface DictionaryPlan {
  tables: TablePlan[];
  /** The table with `*` (the patient list). */
  patientTable: TablePlan | undefined;
}

/** What validation checks against besides the dictionary itself. */
export interface PlanContext {
  /** Source names the config defines; undefined skips the check (e.g. for a lone dictionary). */
  sources?: readonly string[];
  /** `[hash:SECTION]` names the config defines. */
  hashSections?: readonly string[];
  /** Column names the run adds to destination tables (trid, mrid, source hash). */
  reservedFields: readonly string[];
}

/**
 * Builds the plan from parsed rows, collecting every whole-dictionary problem.
 * @returns the plan and problems; a plan with problems must not run
 */
export function planDictionary(rows: readonly DdRow[], context: PlanContext): { plan: DictionaryPlan; problems: DdProblem[] } {
  const problems: DdProblem[] = [];
  const at = (row: DdRow, column: DdProblem['column'], message: string): void => void problems.push({ line: row.line, column, message });
  const byTable = new Map<string, DdRow[]>();
  const seen = new Map<string, DdRow>();
  for (const row of rows) {
    const key = `${row.srcDb}.${row.srcTable}.${row.srcField}`.toLowerCase();
    const first = seen.get(key);
    if (first) at(row, 'src_field', `${row.srcDb}.${row.srcTable}.${row.srcField} is described twice (first at line ${first.line})`);
    else seen.set(key, row);
    if (context.sources && !context.sources.includes(row.srcDb)) at(row, 'src_db', `src_db "${row.srcDb}" names no source of the config; sources are: ${context.sources.join(', ') || '(none)'}`);
    const tableKey = `${row.srcDb}.${row.srcTable}`;
    byTable.set(tableKey, [...(byTable.get(tableKey) ?? []), row]);
  }
  const tables: TablePlan[] = [];
  const destOwners = new Map<string, string>();
  const starRows: DdRow[] = [];
  for (const [tableKey, tableRows] of byTable) {
    const withFlag = (f: Parameters<DdRow['flags']['has']>[0]): DdRow[] => tableRows.filter((r) => r.flags.has(f));
    const pks = withFlag('K');
    const pids = withFlag('P');
    const mpids = withFlag('M');
    for (const extra of pids.slice(1)) at(extra, 'src_flags', `${tableKey} has a second P field (first at line ${pids[0]!.line})`);
    for (const extra of mpids.slice(1)) at(extra, 'src_flags', `${tableKey} has a second M field (first at line ${mpids[0]!.line})`);
    const pid = pids[0];
    for (const flag of ['H', 'A', 'C'] as const) {
      for (const row of withFlag(flag)) if (!row.flags.has('K')) at(row, 'src_flags', `flag ${flag} belongs on the table's primary key field (K)`);
    }
    // In a composite key, H, A and C describe the table: they may sit on any of its K fields.
    const keyFlag = (f: 'H' | 'A' | 'C'): boolean => pks.some((k) => k.flags.has(f));
    for (const row of pks) {
      if (row.flags.has('M')) at(row, 'src_flags', 'a master ID field (M) is replaced by its hash and cannot be part of the primary key (K)');
    }
    for (const row of withFlag('*')) {
      if (!row.flags.has('P')) at(row, 'src_flags', 'flag * (patient list) needs P on the same field');
      else starRows.push(row);
    }
    for (const row of pids) if (!row.include) at(row, 'decision', 'a patient ID field (P) must be included: its value is replaced by the research ID');
    for (const row of mpids) {
      if (!pid) at(row, 'src_flags', `a master ID field (M) needs a patient ID field (P) in ${tableKey}`);
      if (row.flags.has('P')) at(row, 'src_flags', 'a field cannot be both P and M');
    }
    for (const row of withFlag('!')) if (!pid) at(row, 'src_flags', `an opt-out field (!) needs a patient ID field (P) in ${tableKey}`);
    for (const row of withFlag('R')) {
      if (row.scrubSrc !== 'patient') at(row, 'src_flags', 'flag R (required scrubber) needs scrub_src patient');
    }
    for (const row of tableRows) {
      if (row.scrubSrc && !pid) at(row, 'scrub_src', `scrub_src needs a patient ID field (P) in ${tableKey}, to know whose identifier this is`);
      if (row.flags.has('K') && !row.flags.has('P') && row.alterMethods.length) at(row, 'alter_method', 'a primary key field (K) is copied as it is; give it no alter_method');
      if ((row.flags.has('P') || row.flags.has('M')) && row.alterMethods.length) at(row, 'alter_method', 'patient and master ID fields are replaced by keyed hashes; give them no alter_method');
      for (const m of row.alterMethods) {
        if (m.kind === 'hash' && context.hashSections && !context.hashSections.includes(m.section)) at(row, 'alter_method', `hash=${m.section} names no [hash:${m.section}] section of the config`);
        if (m.kind === 'binary_to_text' && !tableRows.some((r) => r.srcField === m.extensionField)) at(row, 'alter_method', `binary_to_text=${m.extensionField} names no field of ${tableKey}`);
      }
    }
    const included = tableRows.filter((r) => r.include);
    const destTables = [...new Set(included.map((r) => r.destTable))];
    if (destTables.length > 1) at(included.find((r) => r.destTable !== destTables[0])!, 'dest_table', `${tableKey} writes to more than one dest_table (${destTables.join(', ')}); use one`);
    const destTable = destTables[0] ?? tableRows[0]!.srcTable;
    if (included.length) {
      if (!pks.length) at(included[0]!, 'src_flags', `${tableKey} has included fields but no primary key field (K); runs need it to resume and to work incrementally`);
      for (const key of pks) {
        if (!key.include) at(key, 'decision', pks.length > 1 ? `every field of ${tableKey}'s composite primary key (K) must be included, or the destination could not tell its rows apart` : 'the primary key field (K) of a table with included fields must be included');
      }
      const owner = destOwners.get(destTable.toLowerCase());
      if (owner) at(included[0]!, 'dest_table', `dest_table ${destTable} is written by ${owner} already`);
      destOwners.set(destTable.toLowerCase(), tableKey);
      const destFields = new Map<string, DdRow>();
      for (const row of included) {
        const lower = row.destField.toLowerCase();
        const other = destFields.get(lower);
        if (other) at(row, 'dest_field', `dest_field ${row.destField} of ${destTable} is also written by line ${other.line}`);
        destFields.set(lower, row);
        if (context.reservedFields.some((f) => f.toLowerCase() === lower)) at(row, 'dest_field', `dest_field ${row.destField} is a column the run adds itself (${context.reservedFields.join(', ')}); rename it`);
      }
    }
    tables.push({
      srcDb: tableRows[0]!.srcDb, srcTable: tableRows[0]!.srcTable, destTable, rows: tableRows, included, keys: pks, pid, mpid: mpids[0],
      hasSrcHash: keyFlag('H'), addOnly: keyFlag('A'), constant: keyFlag('C'),
      definesPatients: Boolean(pid?.flags.has('*')), optOutFields: withFlag('!'), requiredScrubbers: withFlag('R'),
      scrubSources: tableRows.filter((r) => r.scrubSrc !== undefined),
    });
  }
  for (const extra of starRows.slice(1)) at(extra, 'src_flags', `a second patient list (*); the first is at line ${starRows[0]!.line}`);
  const patientTables = tables.filter((t) => t.pid);
  if (patientTables.length && !starRows.length) at(patientTables[0]!.pid!, 'src_flags', 'tables have patient ID fields (P) but no field defines the patient list: put * on the P field of the master patient table');
  const patientTable = tables.find((t) => t.definesPatients);
  return { plan: { tables, patientTable }, problems: problems.sort((a, b) => a.line - b.line) };
}
