// Writes of whole batches (a drop folder's files, a delivery's archive step): one transaction and
// a few plain statements for many files, rather than a model instance and a statement per row.
import { randomUUID } from 'node:crypto';
import { Op, QueryTypes, UniqueConstraintError, type Transaction, type WhereOptions } from 'sequelize';
import type { Database } from '../../core/api.js';
import type { DistributionModels } from './distribution-models.js';
import { COLUMNS, EVENT_COLUMNS, PER_FILE, toFile, type DistributedFile, type EventInput, type FileState, type NewFile, type ReceiveOutcome, type Row } from './distribution-records.js';

/** One change of a batch: fields of a file, only when it is in one of `from` (when given), and its events. */
export interface FileChange {
  file: DistributedFile;
  fields: Partial<Omit<DistributedFile, 'id'>>;
  events: EventInput[];
  from?: readonly FileState[];
}

/** Batch writes to `distribution_files` and `distribution_events`. */
export class FileBatchWriter {
  /** `receiveOne` records one file on its own: the fallback when a batch meets a concurrent intake. */
  constructor(private readonly db: () => Database, private readonly models: () => DistributionModels, private readonly receiveOne: (file: NewFile, event: EventInput) => Promise<ReceiveOutcome>) {}

  /** Inserts rows (field names) with one plain statement: no model instances for a batch. */
  private async insertRows(table: string, rows: readonly Row[], transaction: Transaction): Promise<void> {
    if (!rows.length) return;
    const columns: Record<string, string> = table === 'distribution_files' ? COLUMNS : EVENT_COLUMNS;
    const keys = Object.keys(columns).filter((k) => rows.some((r) => k in r));
    if (table === 'distribution_files') keys.unshift('id');
    const values = rows.map((r) => keys.map((k) => (r[k] === undefined ? null : r[k])));
    const sql = `INSERT INTO ${table} (${keys.map((k) => (k === 'id' ? 'id' : columns[k])).join(', ')}) VALUES ${values.map((v) => `(${v.map(() => '?').join(', ')})`).join(', ')}`;
    await this.db().sequelize.query(sql, { replacements: values.flat(), type: QueryTypes.INSERT, transaction });
  }

  private async insertEvents(events: readonly Row[], transaction: Transaction): Promise<void> {
    for (let i = 0; i < events.length; i += 500) await this.insertRows('distribution_events', events.slice(i, i + 500), transaction);
  }

  /**
   * Applies many changes in one transaction (one commit for a whole batch): each change sets
   * fields of a file, only when it is in one of `from` (when given), and records its events.
   * @returns the ids whose change applied.
   */
  async applyMany(changes: ReadonlyArray<FileChange>): Promise<Set<string>> {
    if (!changes.length) return new Set();
    return this.db().transaction(async (transaction) => {
      const now = new Date();
      const sequelize = this.db().sequelize;
      // Which files are still in the states the changes expect.
      const ids = [...new Set(changes.map((c) => c.file.id))];
      const current = new Map<string, string>();
      for (let i = 0; i < ids.length; i += 500) {
        const part = ids.slice(i, i + 500);
        const rows = (await sequelize.query(`SELECT id, state FROM distribution_files WHERE id IN (${part.map(() => '?').join(', ')})`, { replacements: part, type: QueryTypes.SELECT, transaction })) as Array<{ id: string; state: string }>;
        for (const r of rows) current.set(String(r.id), r.state);
      }
      const eligible = changes.filter((c) => current.has(c.file.id) && (!c.from || c.from.includes(current.get(c.file.id) as FileState)));
      // One statement per group of changes that set the same values, the per-file texts through CASE.
      const groups = new Map<string, typeof eligible>();
      for (const change of eligible) {
        const uniform = Object.entries(change.fields).filter(([k]) => !PER_FILE.has(k)).sort(([a], [b]) => a.localeCompare(b));
        const key = JSON.stringify([uniform, Object.keys(change.fields).filter((k) => PER_FILE.has(k)).sort()]);
        groups.set(key, [...(groups.get(key) ?? []), change]);
      }
      for (const group of groups.values()) {
        const fields = group[0]!.fields as Row;
        const sets: string[] = [];
        const params: unknown[] = [];
        for (const [k, v] of Object.entries(fields)) {
          if (PER_FILE.has(k)) continue;
          sets.push(`${COLUMNS[k] ?? k} = ?`);
          params.push(v === undefined ? null : v);
        }
        for (const k of Object.keys(fields).filter((f) => PER_FILE.has(f))) {
          sets.push(`${COLUMNS[k]} = CASE id ${group.map(() => 'WHEN ? THEN ?').join(' ')} ELSE ${COLUMNS[k]} END`);
          for (const c of group) params.push(c.file.id, (c.fields as Row)[k] ?? null);
        }
        sets.push('updated_at = ?');
        params.push(now);
        params.push(...group.map((c) => c.file.id));
        await sequelize.query(`UPDATE distribution_files SET ${sets.join(', ')} WHERE id IN (${group.map(() => '?').join(', ')})`, { replacements: params, type: QueryTypes.UPDATE, transaction });
      }
      const applied = new Set(eligible.map((c) => c.file.id));
      const events = changes.filter((c) => applied.has(c.file.id)).flatMap((c) => c.events.map((e) => ({ fileId: c.file.id, fileName: c.file.name, kind: e.kind, at: e.at ?? now, actor: e.actor ?? null, address: e.address ?? null, detail: e.detail ?? null })));
      await this.insertEvents(events, transaction);
      return applied;
    });
  }

  /**
   * Records many received files in one transaction, skipping those whose name or sha256 a
   * live file (or an earlier one of the batch) already has.
   * @returns per input, the new record or the file it duplicates.
   */
  async receiveMany(inputs: ReadonlyArray<{ file: NewFile; event: EventInput }>): Promise<ReceiveOutcome[]> {
    if (!inputs.length) return [];
    try {
      return await this.db().transaction(async (transaction) => {
        const names = inputs.map((i) => i.file.name);
        const shas = inputs.map((i) => i.file.sha256).filter((x): x is string => Boolean(x));
        const live = (await this.models().files.findAll({ where: { state: { [Op.ne]: 'rejected' }, [Op.or]: [{ name: { [Op.in]: names } }, { sha256: { [Op.in]: shas } }] } as WhereOptions<Row>, transaction })).map((r) => toFile(r.get({ plain: true })));
        const byName = new Map(live.map((f) => [f.name, f]));
        const bySha = new Map(live.filter((f) => f.sha256).map((f) => [f.sha256!, f]));
        const now = new Date();
        const outcomes: ReceiveOutcome[] = [];
        const rows: Row[] = [];
        const events: Row[] = [];
        for (const { file, event } of inputs) {
          const dupName = byName.get(file.name);
          if (dupName) {
            outcomes.push({ duplicateOf: dupName, by: 'name' });
            continue;
          }
          const dupSha = file.sha256 ? bySha.get(file.sha256) : undefined;
          if (dupSha) {
            outcomes.push({ duplicateOf: dupSha, by: 'sha256' });
            continue;
          }
          const row: Row = { id: randomUUID(), ...file, state: 'received', receivedAt: now, updatedAt: now };
          for (const [k, v] of Object.entries(row)) if (v === undefined) row[k] = null;
          const record = toFile(row);
          rows.push(row);
          events.push({ fileId: record.id, fileName: record.name, kind: event.kind, at: event.at ?? now, actor: event.actor ?? null, address: event.address ?? null, detail: event.detail ?? null });
          byName.set(record.name, record);
          if (record.sha256) bySha.set(record.sha256, record);
          outcomes.push({ file: record });
        }
        if (rows.length) await this.insertRows('distribution_files', rows, transaction);
        await this.insertEvents(events, transaction);
        return outcomes;
      });
    } catch (error) {
      // Another process took one of the names at the same moment: fall back to one at a time.
      if (!(error instanceof UniqueConstraintError)) throw error;
      const outcomes: ReceiveOutcome[] = [];
      for (const { file, event } of inputs) outcomes.push(await this.receiveOne(file, event));
      return outcomes;
    }
  }
}
