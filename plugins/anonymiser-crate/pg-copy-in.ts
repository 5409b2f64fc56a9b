// Rows written into a PostgreSQL table by `COPY ... FROM STDIN` in text format, on a pg client.
// The server neither parses a statement of thousands of parameters nor plans a VALUES list for
// it: for the anonymiser's destination writes COPY took about half the server CPU of a
// multi-row INSERT with bound parameters (docs/benchmarks.md, "Anonymiser"). Values are
// converted exactly as pg converts bound parameters (its own prepareValue), so a row stores the
// same either way; byte buffers go as bytea's hex text.
import { createRequire } from 'node:module';
import type pg from 'pg';
import { quoteIdentifier } from './sql-dialect.js';

/** pg's conversion of a JavaScript value to a parameter's text (or a Buffer, sent as bytes). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): string | Buffer | null };

/** The parts of pg's connection a COPY needs; the public types leave the copy messages out. */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

const SPECIAL = /[\\\n\r\t]/;

/**
 * A text with COPY's text-format escapes: backslash (first, so that the escapes added after it
 * are not doubled), newline, carriage return and tab. Four native passes run about twice as
 * fast as one expression with a replacement callback on note text.
 */
function escapeCopyText(text: string): string {
  if (!SPECIAL.test(text)) return text;
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r').replaceAll('\t', '\\t');
}

/** One value as a field of COPY's text format (`\N` for null). */
export function copyField(value: unknown): string {
  const prepared = prepareValue(value);
  if (prepared === null) return '\\N';
  // bytea's hex form, whose leading backslash COPY's text format doubles.
  if (Buffer.isBuffer(prepared)) return `\\\\x${prepared.toString('hex')}`;
  return escapeCopyText(prepared);
}

/** One row as a line of COPY's text format: fields separated by tabs, ended by a newline. */
function copyLine(columns: readonly string[], row: Record<string, unknown>): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) line += (i ? '\t' : '') + copyField(row[columns[i]!]);
  return `${line}\n`;
}

/** Rows as COPY's text format, in one text (for tests and small batches). */
export function copyLines(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): string {
  return rows.map((row) => copyLine(columns, row)).join('');
}

/** Bytes of COPY data per CopyData message (and per piece the rows are encoded in). */
const PIECE_BYTES = 1 << 20;

/**
 * Rows as COPY's text format in UTF-8 pieces of about PIECE_BYTES: no text of the whole batch is
 * built, so a batch may exceed the longest string JavaScript allows.
 */
function copyPieces(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): Buffer[] {
  const pieces: Buffer[] = [];
  let text = '';
  for (const row of rows) {
    text += copyLine(columns, row);
    if (text.length >= PIECE_BYTES) {
      pieces.push(Buffer.from(text, 'utf8'));
      text = '';
    }
  }
  if (text) pieces.push(Buffer.from(text, 'utf8'));
  return pieces;
}

/** A `COPY ... FROM STDIN` sending one prepared body, as a pg submittable. */
class CopyIn implements pg.Submittable {
  private failed = false;
  private rowCount = 0;
  readonly done: Promise<number>;
  private settle!: { resolve(n: number): void; reject(e: Error): void };

  constructor(private readonly statement: string, private readonly pieces: readonly Buffer[]) {
    this.done = new Promise<number>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  submit(connection: pg.Connection): void {
    (connection as unknown as CopyConnection).query(this.statement);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    // One CopyData message per piece (its length is a 32-bit count); the server starts on the
    // first rows while the rest arrive.
    for (const piece of this.pieces) connection.sendCopyFromChunk(piece);
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text?: string }): void {
    const count = /^COPY (\d+)/.exec(message.text ?? '');
    if (count) this.rowCount = Number(count[1]);
  }

  // Settled at once, as pg's own queries are: a lost connection sends no ReadyForQuery after
  // the error, and a statement queued behind this one (a ROLLBACK) waits for it anyway.
  handleError(error: Error): void {
    this.failed = true;
    this.settle.reject(error);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.settle.resolve(this.rowCount);
  }

  // Messages a COPY FROM never draws; pg calls them on the active query if they come.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}

/**
 * Copies rows into a table on `client` (inside the caller's transaction, if one is open).
 * @param table - the table's name, already quoted
 * @param columns - the columns' names, unquoted (plain identifiers, as the data dictionary requires); every row supplies them
 * @returns the number of rows the server reports copied
 */
export async function copyRowsIn(client: pg.Client, table: string, columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>): Promise<number> {
  const quoted = columns.map((c) => quoteIdentifier('postgres', c)).join(', ');
  const copy = new CopyIn(`COPY ${table} (${quoted}) FROM STDIN`, copyPieces(columns, rows));
  client.query(copy);
  return copy.done;
}
