// Tables in files: CSV (RFC 4180: a header row, comma-separated fields, quoted fields that may
// hold commas, doubled quotes and line breaks) and JSON (an array of objects, or JSON lines: one
// object per line), parsed into rows with the line each starts on, and written back the same
// way. An empty unquoted CSV field is NULL and a quoted empty one ("") the empty string, so a
// table written and read again keeps its NULLs. Problems name the line (and column), never the
// content: a field may hold an identifier.

/** A parsed table: column names and rows of values in column order. */
export interface ParsedTable {
  columns: string[];
  /** Values are strings (CSV), or JSON scalars; NULL is null. */
  rows: Array<{ line: number; values: unknown[] }>;
}

/** Thrown with every problem found (line-numbered), when a file is not a well-formed table. */
export class TableFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

const MAX_PROBLEMS = 50;

/**
 * Parses CSV text with a header row.
 * @throws TableFileError naming the line of every malformed record
 */
export function parseCsv(text: string): ParsedTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const problems: string[] = [];
  const records: Array<{ line: number; values: Array<string | null> }> = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const start = line;
    const values: Array<string | null> = [];
    let blank = true;
    let broken = false;
    for (;;) {
      // One field.
      if (text[i] === '"') {
        blank = false;
        let value = '';
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            problems.push(`line ${start}: a quoted field opened at line ${line} is never closed`);
            broken = true;
            i = n;
            break;
          }
          const chunk = text.slice(j, q);
          for (let k = chunk.indexOf('\n'); k >= 0; k = chunk.indexOf('\n', k + 1)) line += 1;
          value += chunk;
          if (text[q + 1] === '"') {
            value += '"';
            j = q + 2;
            continue;
          }
          i = q + 1;
          break;
        }
        if (broken) break;
        values.push(value);
        if (i < n && text[i] !== ',' && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) {
          problems.push(`line ${line}: text after the closing quote of field ${values.length}; double a quote inside a quoted field ("")`);
          broken = true;
          while (i < n && text[i] !== '\n') i++;
        }
      } else {
        let j = i;
        while (j < n && text[j] !== ',' && text[j] !== '\n' && !(text[j] === '\r' && text[j + 1] === '\n')) {
          if (text[j] === '"') {
            if (!broken) problems.push(`line ${line}: a quote inside unquoted field ${values.length + 1}; quote the whole field and double the quote`);
            broken = true;
          }
          j++;
        }
        const raw = text.slice(i, j);
        if (raw !== '' || (j < n && text[j] === ',')) blank = false;
        values.push(raw === '' ? null : raw);
        i = j;
      }
      if (i >= n) break;
      if (text[i] === ',') {
        i++;
        if (i >= n) {
          values.push(null);
          break;
        }
        continue;
      }
      // End of record.
      i += text[i] === '\r' ? 2 : 1;
      line += 1;
      break;
    }
    if (problems.length >= MAX_PROBLEMS) break;
    if (broken || (blank && values.length === 1)) continue;
    records.push({ line: start, values });
  }
  if (!records.length && !problems.length) problems.push('line 1: no header row; the first line must name the columns');
  const header = records.shift();
  const columns = header ? header.values.map((v) => v ?? '') : [];
  if (header) checkColumns(columns, `line ${header.line}`, problems);
  for (const r of records) {
    if (problems.length >= MAX_PROBLEMS) break;
    if (r.values.length !== columns.length) problems.push(`line ${r.line}: ${r.values.length} field(s), but the header names ${columns.length} column(s)`);
  }
  if (problems.length) throw new TableFileError(problems.slice(0, MAX_PROBLEMS));
  return { columns, rows: records };
}

function checkColumns(columns: readonly string[], where: string, problems: string[]): void {
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (c.trim() === '') problems.push(`${where}: column ${i + 1} has no name`);
    else if (seen.has(c.toLowerCase())) problems.push(`${where}: column "${c}" is named twice`);
    seen.add(c.toLowerCase());
  });
}

/** 1-based line and column of a character offset. */
function place(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let k = text.indexOf('\n'); k >= 0 && k < offset; k = text.indexOf('\n', k + 1)) {
    line += 1;
    lineStart = k + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Checks JSON syntax without building values; JSON.parse's messages name no position on some
 * errors and quote the text on others, so a failure is located here instead.
 * @returns the offset of the first error (undefined when the text is valid), and the offsets at which the top-level array's items start
 */
function scanJson(text: string): { error: number | undefined; items: number[] } {
  let i = 0;
  const items: number[] = [];
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const string = (): void => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else fail();
      } else i++;
    }
  };
  const value = (depth: number, top: boolean): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value(depth + 1, false);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (top) items.push(i);
        value(depth + 1, false);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    } else if (c === '"') string();
    else {
      const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
      if (!m) fail();
      i += m![0].length;
    }
  };
  try {
    value(0, true);
    ws();
    if (i < text.length) fail();
    return { error: undefined, items };
  } catch (at) {
    if (typeof at !== 'number') throw at;
    return { error: at, items };
  }
}

/**
 * Parses JSON: an array of objects, or JSON lines (one object per line; blank lines skipped).
 * Columns are the union of the objects' keys in order of appearance; a missing key is NULL;
 * nested objects and arrays become their JSON text.
 * @throws TableFileError naming the line of every malformed item
 */
export function parseJsonTable(text: string): ParsedTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const problems: string[] = [];
  const objects: Array<{ line: number; value: unknown }> = [];
  if (text.trimStart().startsWith('[')) {
    let parsed: unknown;
    let items: number[] = [];
    try {
      parsed = JSON.parse(text);
      items = scanJson(text).items;
    } catch {
      const scan = scanJson(text);
      const at = place(text, scan.error ?? text.length);
      throw new TableFileError([`line ${at.line}, column ${at.column}: not valid JSON here`]);
    }
    (parsed as unknown[]).forEach((value, k) => objects.push({ line: place(text, items[k] ?? 0).line, value }));
  } else {
    const lines = text.split('\n');
    lines.forEach((raw, k) => {
      if (raw.trim() === '' || problems.length >= MAX_PROBLEMS) return;
      try {
        objects.push({ line: k + 1, value: JSON.parse(raw) });
      } catch {
        const scan = scanJson(raw);
        problems.push(`line ${k + 1}, column ${(scan.error ?? raw.length) + 1}: not valid JSON here (JSON lines: one object per line)`);
      }
    });
  }
  const columns: string[] = [];
  const index = new Map<string, number>();
  for (const o of objects) {
    if (o.value === null || typeof o.value !== 'object' || Array.isArray(o.value)) {
      if (problems.length < MAX_PROBLEMS) problems.push(`line ${o.line}: each item must be an object of column names and values`);
      continue;
    }
    for (const key of Object.keys(o.value)) {
      if (index.has(key)) continue;
      const lower = [...index.keys()].find((k) => k.toLowerCase() === key.toLowerCase());
      if (lower !== undefined) {
        if (problems.length < MAX_PROBLEMS) problems.push(`line ${o.line}: column "${key}" differs from "${lower}" only in case`);
        continue;
      }
      index.set(key, columns.length);
      columns.push(key);
    }
  }
  if (!objects.length && !problems.length) problems.push('line 1: no rows; give an array of objects or one object per line');
  checkColumns(columns, 'line 1', problems);
  if (problems.length) throw new TableFileError(problems.slice(0, MAX_PROBLEMS));
  const rows = objects.map((o) => ({
    line: o.line,
    values: columns.map((c) => {
      const v = (o.value as Record<string, unknown>)[c];
      return v === undefined ? null : v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
    }),
  }));
  return { columns, rows };
}

/** A value as CSV or JSON text holds it: dates as ISO 8601, bytes as base64. */
function plain(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** CSV text (CRLF line ends, as RFC 4180): NULL unquoted and empty, the empty string as "". */
export function formatCsv(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  const field = (v: unknown): string => {
    const p = plain(v);
    if (p === null) return '';
    const s = String(p);
    return s === '' || /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.map(field), ...rows.map((r) => columns.map((c) => field(r[c])))].map((cells) => `${cells.join(',')}\r\n`).join('');
}

/** A JSON array of objects, one per line. */
export function formatJsonTable(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  if (!rows.length) return '[]\n';
  return `[\n${rows.map((r) => JSON.stringify(Object.fromEntries(columns.map((c) => [c, plain(r[c])])))).join(',\n')}\n]\n`;
}
