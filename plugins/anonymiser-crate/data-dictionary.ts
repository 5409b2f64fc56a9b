// The data dictionary: CRATE's TSV format, parsed into typed rows. Parsing never throws on
// bad content; it collects every problem with its line and column so that an author can fix
// the whole file at once (see data-dictionary-validation.ts for the whole-dictionary rules).
import { parseAlterMethods, type AlterMethod } from './alter-method.js';

/** CRATE's columns, in CRATE's order. */
export const DD_COLUMNS = [
  'src_db', 'src_table', 'src_field', 'src_datatype', 'src_flags', 'scrub_src', 'scrub_method', 'decision',
  'inclusion_values', 'exclusion_values', 'alter_method', 'dest_table', 'dest_field', 'dest_datatype', 'index', 'indexlen', 'comment',
] as const;
export type DdColumn = (typeof DD_COLUMNS)[number];

/** One flag letter of `src_flags`. */
export type SrcFlag = 'K' | 'N' | 'H' | 'C' | 'A' | 'P' | '*' | 'M' | '!' | 'R';
export const SRC_FLAGS: readonly SrcFlag[] = ['K', 'N', 'H', 'C', 'A', 'P', '*', 'M', '!', 'R'];
export type ScrubSrc = 'patient' | 'thirdparty' | 'thirdparty_xref_pid';
export const SCRUB_SRCS: readonly ScrubSrc[] = ['patient', 'thirdparty', 'thirdparty_xref_pid'];
export type ScrubMethod = 'words' | 'phrase' | 'phrase_unless_numeric' | 'number' | 'code' | 'date' | 'address';
export const SCRUB_METHODS: readonly ScrubMethod[] = ['words', 'phrase', 'phrase_unless_numeric', 'number', 'code', 'date', 'address'];
export type IndexKind = 'I' | 'U' | 'F';

/** One field of the dictionary. */
export interface DdRow {
  /** 1-based line in the TSV file. */
  line: number;
  srcDb: string;
  srcTable: string;
  srcField: string;
  srcDatatype: string;
  flags: ReadonlySet<SrcFlag>;
  scrubSrc: ScrubSrc | undefined;
  /** The explicit method, or the default for the type when `scrubSrc` is set. */
  scrubMethod: ScrubMethod | undefined;
  include: boolean;
  inclusionValues: unknown[] | undefined;
  exclusionValues: unknown[] | undefined;
  alterMethods: AlterMethod[];
  destTable: string;
  destField: string;
  destDatatype: string;
  index: IndexKind | undefined;
  indexLen: number | undefined;
  comment: string;
}

/** A problem at a place in the file: `line` and `column` are 1-based (column counts TSV columns). */
export interface DdProblem {
  line: number;
  column: DdColumn | undefined;
  message: string;
}

/** Parse result: rows that parsed, and every problem found. */
export interface ParsedDictionary {
  rows: DdRow[];
  problems: DdProblem[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `name` is safe as an SQL identifier on every dialect we write to. */
export function isPlainIdentifier(name: string): boolean {
  return IDENTIFIER.test(name) && name.length <= 63;
}

/** CRATE's default scrub method for a source type: dates as dates, numbers as numbers, else words. */
export function defaultScrubMethod(datatype: string): ScrubMethod {
  const t = datatype.trim().toUpperCase();
  if (/^(DATE|DATETIME|TIMESTAMP|SMALLDATETIME|DATETIME2)\b/.test(t)) return 'date';
  if (/^(INT|INTEGER|BIGINT|SMALLINT|TINYINT|NUMERIC|DECIMAL|FLOAT|REAL|DOUBLE)\b/.test(t)) return 'number';
  return 'words';
}

function jsonList(text: string, line: number, column: DdColumn, problems: DdProblem[]): unknown[] | undefined {
  if (text === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!Array.isArray(value)) throw new Error('not a list');
    return value;
  } catch {
    problems.push({ line, column, message: `${column} must be a JSON list such as [1, "Y"], not ${JSON.stringify(text)}` });
    return undefined;
  }
}

/**
 * Parses a dictionary's TSV text. `#` lines and blank lines are ignored; the first other line
 * must be the header with CRATE's columns.
 * @returns the rows and every problem (the rows of a file with problems must not be used)
 */
export function parseDataDictionary(text: string): ParsedDictionary {
  const problems: DdProblem[] = [];
  const rows: DdRow[] = [];
  const lines = text.split(/\r?\n/);
  let header: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const cells = raw.split('\t');
    if (!header) {
      header = cells.map((c) => c.trim());
      const missing = DD_COLUMNS.filter((c) => !header!.includes(c));
      const unknown = header.filter((c) => !(DD_COLUMNS as readonly string[]).includes(c));
      if (missing.length) problems.push({ line: lineNo, column: undefined, message: `the header lacks the column(s) ${missing.join(', ')}; it must name ${DD_COLUMNS.join(', ')} separated by tabs` });
      if (unknown.length) problems.push({ line: lineNo, column: undefined, message: `the header has unknown column(s) ${unknown.join(', ')}` });
      if (missing.length) return { rows, problems };
      continue;
    }
    if (cells.length !== header.length) {
      problems.push({ line: lineNo, column: undefined, message: `has ${cells.length} tab-separated cells; the header has ${header.length}` });
      continue;
    }
    const cell = (name: DdColumn): string => (cells[header!.indexOf(name)] ?? '').trim();
    const rowProblems: DdProblem[] = [];
    const at = (column: DdColumn, message: string): void => void rowProblems.push({ line: lineNo, column, message });

    for (const name of ['src_db', 'src_table', 'src_field'] as const) {
      if (!cell(name)) at(name, `${name} is empty`);
      else if (!isPlainIdentifier(cell(name))) at(name, `${name} ${JSON.stringify(cell(name))} is not a plain identifier (letters, digits and _, not starting with a digit, at most 63 characters)`);
    }
    const flags = new Set<SrcFlag>();
    for (const ch of cell('src_flags')) {
      if (!(SRC_FLAGS as readonly string[]).includes(ch)) at('src_flags', `unknown flag ${JSON.stringify(ch)}; flags are ${SRC_FLAGS.join(' ')}`);
      else if (flags.has(ch as SrcFlag)) at('src_flags', `flag ${ch} given twice`);
      else flags.add(ch as SrcFlag);
    }
    let scrubSrc: ScrubSrc | undefined;
    if (cell('scrub_src')) {
      if ((SCRUB_SRCS as readonly string[]).includes(cell('scrub_src'))) scrubSrc = cell('scrub_src') as ScrubSrc;
      else at('scrub_src', `scrub_src must be one of ${SCRUB_SRCS.join(', ')} or empty, not ${JSON.stringify(cell('scrub_src'))}`);
    }
    let scrubMethod: ScrubMethod | undefined;
    if (cell('scrub_method')) {
      if (!(SCRUB_METHODS as readonly string[]).includes(cell('scrub_method'))) at('scrub_method', `scrub_method must be one of ${SCRUB_METHODS.join(', ')}, not ${JSON.stringify(cell('scrub_method'))}`);
      else if (!cell('scrub_src')) at('scrub_method', 'scrub_method is set but scrub_src is empty; say where the value scrubs (patient, thirdparty, thirdparty_xref_pid)');
      else scrubMethod = cell('scrub_method') as ScrubMethod;
    } else if (scrubSrc && scrubSrc !== 'thirdparty_xref_pid') scrubMethod = defaultScrubMethod(cell('src_datatype'));
    const decision = cell('decision').toLowerCase();
    if (decision !== 'omit' && decision !== 'include') at('decision', `decision must be OMIT or include, not ${JSON.stringify(cell('decision'))}`);
    const include = decision === 'include';
    if (include && !cell('src_datatype')) at('src_datatype', 'src_datatype is empty; an included field needs a type for its destination column');
    const inclusionValues = jsonList(cell('inclusion_values'), lineNo, 'inclusion_values', rowProblems);
    const exclusionValues = jsonList(cell('exclusion_values'), lineNo, 'exclusion_values', rowProblems);
    const alter = parseAlterMethods(cell('alter_method'));
    for (const message of alter.problems) at('alter_method', message);
    const destTable = cell('dest_table') || cell('src_table');
    const destField = cell('dest_field') || cell('src_field');
    if (include) {
      if (!isPlainIdentifier(destTable)) at('dest_table', `dest_table ${JSON.stringify(destTable)} is not a plain identifier`);
      if (!isPlainIdentifier(destField)) at('dest_field', `dest_field ${JSON.stringify(destField)} is not a plain identifier`);
    }
    const destDatatype = cell('dest_datatype') || cell('src_datatype');
    if (destDatatype && !/^[A-Za-z][A-Za-z0-9 _]*(\(\s*\d+(\s*,\s*\d+)?\s*\)|\(\s*MAX\s*\))?$/i.test(destDatatype)) at(cell('dest_datatype') ? 'dest_datatype' : 'src_datatype', `type ${JSON.stringify(destDatatype)} is not an SQL type such as VARCHAR(50), TEXT or INTEGER`);
    let index: IndexKind | undefined;
    if (cell('index')) {
      if (['I', 'U', 'F'].includes(cell('index'))) index = cell('index') as IndexKind;
      else at('index', `index must be I (index), U (unique), F (full text) or empty, not ${JSON.stringify(cell('index'))}`);
    }
    let indexLen: number | undefined;
    if (cell('indexlen')) {
      const n = Number(cell('indexlen'));
      if (!Number.isInteger(n) || n < 1) at('indexlen', `indexlen must be a whole number of at least 1, not ${JSON.stringify(cell('indexlen'))}`);
      else indexLen = n;
    }
    problems.push(...rowProblems);
    if (rowProblems.length) continue;
    rows.push({
      line: lineNo, srcDb: cell('src_db'), srcTable: cell('src_table'), srcField: cell('src_field'), srcDatatype: cell('src_datatype'),
      flags, scrubSrc, scrubMethod, include, inclusionValues, exclusionValues, alterMethods: alter.methods,
      destTable, destField, destDatatype, index, indexLen, comment: cell('comment'),
    });
  }
  if (!header) problems.push({ line: 1, column: undefined, message: `the dictionary is empty: it needs a header line naming ${DD_COLUMNS.join(', ')}` });
  return { rows, problems };
}

/** Formats problems one per line: `dd.tsv:12: column alter_method: ...`. */
export function formatProblems(file: string, problems: readonly DdProblem[]): string {
  return problems.map((p) => `${file}:${p.line}:${p.column ? ` column ${p.column} (${DD_COLUMNS.indexOf(p.column) + 1}):` : ''} ${p.message}`).join('\n');
}
