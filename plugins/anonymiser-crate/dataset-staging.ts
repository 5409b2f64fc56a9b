// Datasets as sources and destination of a run. A dataset source's CSV/JSON resources (one
// per table) are read through core's dataset service and depot and loaded into a scratch
// SQLite database, typed by the dictionary's src_datatype (or inferred), with the dictionary's
// primary key; the run then reads that database like any other, on any thread. A dataset
// destination is a scratch SQLite database too (seeded from the previous output for an
// incremental run), whose tables are written as resources of the dataset once the run has
// finished. Every problem with a file is reported with its line before anything is written.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { QueryTypes, type Sequelize } from 'sequelize';
import { ActionRunnerId, DatasetServiceId, ResourceIntakeId, ValidationError, type ActionContext, type Actor, type Services } from '../../core/api.js';
import type { AnonConfig } from './anon-config.js';
import type { DictionaryPlan } from './dictionary-plan.js';
import { openDatabase } from './database-connection.js';
import { destinationColumns, prepareDestination, type AddedColumns } from './destination-schema.js';
import { keyString } from './row-keys.js';
import { formatCsv, formatJsonTable, parseCsv, parseJsonTable, TableFileError, type ParsedTable } from './tabular-resource.js';

/** Reads and writes files of datasets (core's services, or a fake in a unit test). */
export interface DatasetFiles {
  /**
   * The bytes of a dataset's resource.
   * @returns undefined when the dataset has no stored resource of that name
   * @throws NotFoundError for an unknown dataset; ValidationError when several resources have the name
   */
  read(dataset: string, resource: string): Promise<{ bytes: Buffer; format: string } | undefined>;
  /** Stores `bytes` as the resource `resource` of the dataset, creating it or replacing its file. */
  write(dataset: string, resource: string, format: 'CSV' | 'JSON', bytes: Buffer): Promise<void>;
}

const ACTOR: Actor = { kind: 'system', name: 'anonymiser-crate' };

/** DatasetFiles over core's dataset service, depots and resource intake, acting as the system. */
export function datasetFilesOf(services: Services): DatasetFiles {
  const ctx = (action: string): ActionContext => ({ action, actor: ACTOR, address: '', requestId: 'anonymiser-crate', transaction: undefined, services, emit: () => undefined });
  const find = async (dataset: string, name: string): Promise<{ datasetId: string; resource: import('../../core/api.js').ResourceRecord | undefined }> => {
    const shown = await services.get(DatasetServiceId).show(dataset, ctx('package_show'));
    const named = shown.resources.filter((r) => r.name === name && r.state !== 'deleted');
    if (named.length > 1) throw new ValidationError(`dataset "${shown.dataset.name}" has ${named.length} resources named "${name}"; rename or delete all but one`);
    return { datasetId: shown.dataset.id, resource: named[0] };
  };
  return {
    async read(dataset, resource) {
      const { resource: found } = await find(dataset, resource);
      if (!found?.depot || !found.location) return undefined;
      const depot = services.get(ResourceIntakeId).depot(found.depot);
      if (!depot) throw new ValidationError(`resource "${resource}" is in depot "${found.depot}", which no enabled plugin provides`);
      const chunks: Buffer[] = [];
      for await (const chunk of await depot.open(found.location)) chunks.push(Buffer.from(chunk as Buffer));
      return { bytes: Buffer.concat(chunks), format: found.format };
    },
    async write(dataset, resource, format, bytes) {
      const { datasetId, resource: existing } = await find(dataset, resource);
      const id = existing?.id ?? ((await services.get(ActionRunnerId).run('resource_create', { package_id: datasetId, name: resource, format }, { actor: ACTOR })) as { id: string }).id;
      await services.get(ResourceIntakeId).storeStream(id, Readable.from([bytes]), { size: bytes.length }, { actor: ACTOR, protocol: 'anonymiser-crate' });
    },
  };
}

/** How a column is typed and its text converted. */
type Kind = 'integer' | 'real' | 'boolean' | 'date' | 'bytes' | 'text';

function kindOf(type: string): Kind {
  const t = type.trim().toUpperCase();
  if (/^(INT|INTEGER|BIGINT|SMALLINT|TINYINT|MEDIUMINT)\b/.test(t)) return 'integer';
  if (/^(NUMERIC|DECIMAL|FLOAT|REAL|DOUBLE)\b/.test(t)) return 'real';
  if (/^(BOOLEAN|BOOL|BIT)\b/.test(t)) return 'boolean';
  if (/^(DATE|DATETIME|DATETIME2|SMALLDATETIME|TIMESTAMP)\b/.test(t)) return 'date';
  if (/^(BLOB|LONGBLOB|BYTEA|VARBINARY|BINARY)\b/.test(t)) return 'bytes';
  return 'text';
}

const INTEGER = /^[+-]?\d+$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A value converted for the column, or an Error whose message says what is wrong (never the value). */
function convert(value: unknown, kind: Kind): unknown {
  if (value === null || value === undefined) return null;
  const s = typeof value === 'string' ? value.trim() : value;
  switch (kind) {
    case 'integer':
      if (typeof s === 'number' && Number.isInteger(s)) return s;
      if (typeof s === 'string' && INTEGER.test(s)) return Number.isSafeInteger(Number(s)) ? Number(s) : s;
      return new Error('is not a whole number');
    case 'real':
      if (typeof s === 'number') return s;
      if (typeof s === 'string' && NUMBER.test(s)) return Number(s);
      return new Error('is not a number');
    case 'boolean':
      if (typeof s === 'boolean') return s ? 1 : 0;
      if (s === 1 || s === 0) return s;
      if (typeof s === 'string' && /^(1|t|true|y|yes)$/i.test(s)) return 1;
      if (typeof s === 'string' && /^(0|f|false|n|no)$/i.test(s)) return 0;
      return new Error('is not true or false');
    case 'date':
      if (typeof s === 'string' && s !== '' && !Number.isNaN(Date.parse(s))) return s;
      return new Error('is not a date (use ISO 8601, e.g. 2024-03-01)');
    case 'bytes':
      if (typeof s === 'string' && /^[A-Za-z0-9+/\s]*={0,2}$/.test(s)) return Buffer.from(s, 'base64');
      return new Error('is not base64');
    default:
      return typeof value === 'string' ? value : typeof value === 'boolean' ? (value ? 'true' : 'false') : String(value);
  }
}

/** Infers a column's type from its values (for columns the dictionary does not name). */
function inferType(values: readonly unknown[]): string {
  const present = values.filter((v) => v !== null && v !== undefined && v !== '');
  if (!present.length) return 'TEXT';
  if (present.every((v) => (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && INTEGER.test(v.trim()) && Number.isSafeInteger(Number(v))))) return 'INTEGER';
  if (present.every((v) => typeof v === 'number' || (typeof v === 'string' && NUMBER.test(v.trim())))) return 'REAL';
  return 'TEXT';
}

/** Parses a resource's bytes by its format or extension. @throws TableFileError */
function parseResource(name: string, format: string, bytes: Buffer): ParsedTable {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TableFileError(['the file is not UTF-8 text']);
  }
  const json = /^(json|jsonl|ndjson|json lines)$/i.test(format.trim()) || /\.(json|jsonl|ndjson)$/i.test(name);
  return json ? parseJsonTable(text) : parseCsv(text);
}

const sqliteQuote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Creates `table` and inserts the rows (bound parameters, in one transaction). */
async function loadTable(sequelize: Sequelize, table: string, columns: ReadonlyArray<{ name: string; type: string }>, keys: readonly string[], rows: ReadonlyArray<readonly unknown[]>): Promise<void> {
  const defs = columns.map((c) => `${sqliteQuote(c.name)} ${c.type}`);
  if (keys.length) defs.push(`PRIMARY KEY (${keys.map(sqliteQuote).join(', ')})`);
  await sequelize.query(`DROP TABLE IF EXISTS ${sqliteQuote(table)}`);
  await sequelize.query(`CREATE TABLE ${sqliteQuote(table)} (${defs.join(', ')})`);
  if (!rows.length || !columns.length) return;
  const per = Math.max(1, Math.floor(30000 / columns.length));
  const head = `INSERT INTO ${sqliteQuote(table)} (${columns.map((c) => sqliteQuote(c.name)).join(', ')}) VALUES `;
  await sequelize.transaction(async (transaction) => {
    for (let i = 0; i < rows.length; i += per) {
      const slice = rows.slice(i, i + per);
      let n = 0;
      const tuples = slice.map(() => `(${columns.map(() => `$${++n}`).join(', ')})`);
      await sequelize.query(head + tuples.join(', '), { bind: slice.flat() as unknown[], transaction, type: QueryTypes.INSERT });
    }
  });
}

/** The scratch databases of a run over datasets; `cleanup` removes them. */
export interface DatasetStage {
  /** The config with dataset sources (and a dataset destination) pointing at scratch databases. */
  config: AnonConfig;
  /** Writes the destination tables as resources (a dataset destination only; else nothing). */
  publish(plan: DictionaryPlan, added: AddedColumns): Promise<string[]>;
  cleanup(): void;
}

/**
 * Loads every dataset source into a scratch SQLite database and, for a dataset destination,
 * prepares a scratch destination (with the previous output when `incremental`). Nothing is
 * written anywhere else, so a malformed file leaves every destination untouched.
 * @throws ValidationError listing every problem of every file, by resource and line
 */
export async function stageDatasets(config: AnonConfig, plan: DictionaryPlan, files: DatasetFiles | undefined, incremental: boolean, added: AddedColumns): Promise<DatasetStage> {
  const usesDatasets = Object.keys(config.datasetSources).length > 0 || config.destinationDataset !== undefined;
  if (!usesDatasets) return { config, publish: async () => [], cleanup: () => undefined };
  if (!files) throw new ValidationError('this run reads or writes dataset resources, which needs the platform\'s services: start it with platform anonymise run or as a job');
  const dir = mkdtempSync(join(tmpdir(), 'anon-dataset-'));
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const sources = { ...config.sources };
    const problems: string[] = [];
    for (const [name, spec] of Object.entries(config.datasetSources)) {
      const url = `sqlite:${join(dir, `source-${name}.sqlite`)}`;
      const db = await openDatabase(url, `scratch source ${name}`);
      try {
        const wanted = plan.tables.filter((t) => t.srcDb === name);
        for (const t of wanted) {
          if (!spec.tables.some((r) => r.table.toLowerCase() === t.srcTable.toLowerCase())) problems.push(`[source:${name}]: the dictionary's table ${t.srcTable} has no resource; add it to resources (${t.srcTable}=FILE.csv)`);
        }
        for (const { table, resource } of spec.tables) {
          const where = `dataset "${spec.dataset}", resource "${resource}"`;
          const file = await files.read(spec.dataset, resource);
          if (!file) {
            problems.push(`${where}: no stored file of that name`);
            continue;
          }
          let parsed: ParsedTable;
          try {
            parsed = parseResource(resource, file.format, file.bytes);
          } catch (error) {
            if (!(error instanceof TableFileError)) throw error;
            problems.push(...error.problems.map((p) => `${where}: ${p}`));
            continue;
          }
          const tablePlan = wanted.find((t) => t.srcTable.toLowerCase() === table.toLowerCase());
          const byName = new Map(parsed.columns.map((c, i) => [c.toLowerCase(), i]));
          for (const row of tablePlan?.rows ?? []) if (!byName.has(row.srcField.toLowerCase())) problems.push(`${where}: no column ${row.srcField}, which the dictionary names (line ${row.line})`);
          const columns = parsed.columns.map((c, i) => {
            const described = tablePlan?.rows.find((r) => r.srcField.toLowerCase() === c.toLowerCase());
            const type = described ? described.srcDatatype : inferType(parsed.rows.map((r) => r.values[i]));
            return { name: c, type, kind: kindOf(type) };
          });
          const keyIndexes = (tablePlan?.keys ?? []).map((k) => byName.get(k.srcField.toLowerCase())).filter((i): i is number => i !== undefined);
          const seen = new Map<string, number>();
          const rows: unknown[][] = [];
          for (const r of parsed.rows) {
            if (problems.length >= 50) break;
            const values = r.values.map((v, i) => {
              const converted = convert(v, columns[i]!.kind);
              if (converted instanceof Error) {
                problems.push(`${where}: line ${r.line}: column ${columns[i]!.name} ${converted.message}`);
                return null;
              }
              return converted;
            });
            if (keyIndexes.length) {
              if (keyIndexes.some((i) => values[i] === null)) problems.push(`${where}: line ${r.line}: a primary key field is empty`);
              const key = keyString(keyIndexes.map((i) => values[i]));
              const first = seen.get(key);
              if (first !== undefined) problems.push(`${where}: line ${r.line}: the same primary key as line ${first}`);
              else seen.set(key, r.line);
            }
            rows.push(values);
          }
          if (!problems.length) await loadTable(db.sequelize, table, columns, keyIndexes.map((i) => columns[i]!.name), rows);
        }
      } finally {
        await db.close();
      }
      sources[name] = url;
    }
    if (problems.length) throw new ValidationError(`the dataset resources have ${problems.length} problem(s); nothing was written:\n${problems.join('\n')}`, { resources: problems });

    let destinationUrl = config.destinationUrl;
    const target = config.destinationDataset;
    if (target) {
      destinationUrl = `sqlite:${join(dir, 'destination.sqlite')}`;
      if (incremental) await seedDestination(destinationUrl, plan, added, target, files);
    }
    const staged: AnonConfig = { ...config, sources, destinationUrl };
    return {
      config: staged,
      async publish(finalPlan, finalAdded) {
        if (!target) return [];
        const db = await openDatabase(destinationUrl, 'scratch destination');
        const written: string[] = [];
        try {
          // Everything is read and formatted before the first resource is stored.
          const documents: Array<{ name: string; bytes: Buffer }> = [];
          for (const table of finalPlan.tables) {
            if (!table.included.length) continue;
            const columns = destinationColumns('sqlite', table, finalAdded).map((c) => c.name);
            const rows = await db.sequelize.query<Record<string, unknown>>(`SELECT ${columns.map(sqliteQuote).join(', ')} FROM ${sqliteQuote(table.destTable)} ORDER BY ${table.keys.map((k) => sqliteQuote(k.destField)).join(', ')}`, { type: QueryTypes.SELECT });
            const name = `${table.destTable}.${target.format}`;
            documents.push({ name, bytes: Buffer.from(target.format === 'csv' ? formatCsv(columns, rows) : formatJsonTable(columns, rows)) });
          }
          for (const d of documents) {
            await files.write(target.dataset, d.name, target.format === 'csv' ? 'CSV' : 'JSON', d.bytes);
            written.push(d.name);
          }
        } finally {
          await db.close();
        }
        return written;
      },
      cleanup,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/**
 * Loads the resources a previous run wrote into the scratch destination, so that an
 * incremental run compares with them and rewrites only what changed.
 * @throws ValidationError when a previous resource does not fit the dictionary's destination columns
 */
async function seedDestination(url: string, plan: DictionaryPlan, added: AddedColumns, target: NonNullable<AnonConfig['destinationDataset']>, files: DatasetFiles): Promise<void> {
  const db = await openDatabase(url, 'scratch destination');
  try {
    await prepareDestination(db.sequelize, 'sqlite', plan.tables, added, true);
    for (const table of plan.tables) {
      if (!table.included.length) continue;
      const name = `${table.destTable}.${target.format}`;
      const file = await files.read(target.dataset, name);
      if (!file || /^\s*\[\s*\]\s*$/.test(file.bytes.toString('utf8'))) continue;
      let parsed: ParsedTable;
      try {
        parsed = parseResource(name, target.format, file.bytes);
      } catch (error) {
        if (!(error instanceof TableFileError)) throw error;
        throw new ValidationError(`the previous output ${name} of dataset "${target.dataset}" cannot be read (${error.problems[0]}); run without --incremental to rewrite it`);
      }
      const expected = destinationColumns('sqlite', table, added).map((c) => c.name);
      if (parsed.columns.length !== expected.length || parsed.columns.some((c, i) => c !== expected[i])) {
        throw new ValidationError(`the previous output ${name} of dataset "${target.dataset}" has other columns than the dictionary gives now; run without --incremental to rewrite it`);
      }
      const kinds = table.included.map((r) => kindOf(r.destDatatype));
      const rows = parsed.rows.map((r) => r.values.map((v, i) => (kinds[i] === 'bytes' && typeof v === 'string' ? Buffer.from(v, 'base64') : v)));
      const per = Math.max(1, Math.floor(30000 / expected.length));
      for (let i = 0; i < rows.length; i += per) {
        const slice = rows.slice(i, i + per);
        let n = 0;
        await db.sequelize.query(`INSERT INTO ${sqliteQuote(table.destTable)} (${expected.map(sqliteQuote).join(', ')}) VALUES ${slice.map(() => `(${expected.map(() => `$${++n}`).join(', ')})`).join(', ')}`, { bind: slice.flat(), type: QueryTypes.INSERT });
      }
    }
  } finally {
    await db.close();
  }
}
