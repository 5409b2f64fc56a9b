// Reads the remote folders table from CSV (`label,tag,folder,base`), keeping good rows and
// naming each bad row by its line number and what is wrong with it.
import type { RemoteFolder } from './distribution-store.js';
import { folderProblem } from './routing-rules.js';

/** Good rows and the problems of bad ones. */
export interface ParsedFolders {
  rows: RemoteFolder[];
  bad: Array<{ line: number; reason: string }>;
}

/** Splits CSV text into records of fields, with the line each record starts on (RFC 4180 quoting). */
export function csvRecords(text: string): Array<{ line: number; fields: string[] }> {
  const out: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let start = 1;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') (quoted = true), (any = true);
    else if (ch === ',') fields.push(field), (field = ''), (any = true);
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      if (any || field !== '') out.push({ line: start, fields: [...fields, field] });
      fields = [];
      field = '';
      any = false;
      line++;
      start = line;
    } else (field += ch), (any = true);
  }
  if (any || field !== '') out.push({ line: start, fields: [...fields, field] });
  return out;
}

const COLUMNS = ['label', 'tag', 'folder', 'base'] as const;

/** Parses the CSV; `destinations` are the names a `base` may take. */
export function parseRemoteFolders(text: string, destinations: ReadonlySet<string>): ParsedFolders {
  const records = csvRecords(text.replace(/^\uFEFF/, ''));
  const bad: ParsedFolders['bad'] = [];
  const rows: RemoteFolder[] = [];
  const header = records.shift();
  const names = header?.fields.map((f) => f.trim().toLowerCase()) ?? [];
  const index = COLUMNS.map((c) => names.indexOf(c));
  if (!header || index.some((i) => i < 0)) {
    return { rows, bad: [{ line: header?.line ?? 1, reason: `the first line must name the columns ${COLUMNS.join(',')} (found ${names.join(',') || 'nothing'})` }] };
  }
  const seen = new Map<string, number>();
  for (const { line, fields } of records) {
    if (fields.length !== names.length) {
      bad.push({ line, reason: `has ${fields.length} field(s), the header ${names.length}` });
      continue;
    }
    const [label, tag, folder, base] = index.map((i) => fields[i]!.trim()) as [string, string, string, string];
    const problems: string[] = [];
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(label)) problems.push(`label "${label}" must be 1-100 letters, digits and . _ -`);
    if (!tag || tag.length > 200) problems.push('tag must be 1-200 characters');
    const fp = folderProblem(folder);
    if (fp) problems.push(fp);
    if (!base) problems.push('base is empty');
    else if (!destinations.has(base)) problems.push(`base "${base}" is not a destination of the rules file (${[...destinations].join(', ') || 'none declared'})`);
    const key = `${label}\u0000${tag}`;
    if (seen.has(key)) problems.push(`label "${label}" and tag "${tag}" already appear on line ${seen.get(key)}`);
    if (problems.length) {
      bad.push({ line, reason: problems.join('; ') });
      continue;
    }
    seen.set(key, line);
    rows.push({ label, tag, folder, base });
  }
  return { rows, bad };
}
