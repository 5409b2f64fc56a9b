// Reads and writes the plugin's tables: each file's current state, the append-only events of
// its life, the remote folders table and saved reading positions.
import { randomUUID } from 'node:crypto';
import { DataTypes, Op, QueryTypes, UniqueConstraintError, col, fn, where as where_, type Model, type ModelStatic, type Transaction, type WhereOptions } from 'sequelize';
import type { Database } from '../../core/api.js';

/** Where a file is in its life. `acknowledged` is not a state: see `acknowledgedAt`. */
export type FileState = 'received' | 'routed' | 'unroutable' | 'sending' | 'sent' | 'archived' | 'failed' | 'rejected';

/** What happened to a file, as recorded in its history. */
export type EventKind = 'received' | 'checked' | 'routed' | 'unroutable' | 'anonymised' | 'sending' | 'sent' | 'failed' | 'archived' | 'acknowledged' | 'rejected' | 'duplicate';

/** How a file entered distribution. */
export type FileSource = 'drop' | 'cli' | 'upload' | 'resource';

/** One file known to distribution. */
export interface DistributedFile {
  id: string;
  name: string;
  sha256: string | undefined;
  size: number | undefined;
  mimeType: string | undefined;
  source: FileSource;
  sourceRef: string | undefined;
  state: FileState;
  reason: string | undefined;
  label: string | undefined;
  tag: string | undefined;
  destination: string | undefined;
  folder: string | undefined;
  remoteLocation: string | undefined;
  localPath: string | undefined;
  /** What is sent, when it differs from what was received (an anonymised copy): its sha256 and size. */
  sentSha256: string | undefined;
  sentSize: number | undefined;
  /** The name the anonymised copy is sent under, when the anonymiser changed it. */
  sentName: string | undefined;
  receivedAt: Date;
  sentAt: Date | undefined;
  archivedAt: Date | undefined;
  acknowledgedAt: Date | undefined;
  acknowledgedBy: string | undefined;
  acknowledgedFrom: string | undefined;
  updatedAt: Date;
}

/** One event of a file's life. */
export interface FileEvent {
  id: number;
  fileId: string | undefined;
  fileName: string;
  kind: EventKind;
  at: Date;
  actor: string | undefined;
  address: string | undefined;
  detail: string | undefined;
}

/** A row of the remote folders table. */
export interface RemoteFolder {
  label: string;
  tag: string;
  folder: string;
  base: string;
}

/** How far an upload to a resumable destination got (a tus upload's URL and offset). */
export interface TransferPoint {
  destination: string;
  folder: string;
  /** The sha256 of the bytes being uploaded: a point is only resumed for the same bytes. */
  sha256: string;
  url: string;
  offset: number;
}

/** A saved reading position: of a log file (inode, head fingerprint, byte offset) or of an event id. */
export interface Cursor {
  inode: string | undefined;
  head?: string | undefined;
  position: number;
}

/** Filters of history searches. */
export interface FileFilter {
  since?: Date;
  until?: Date;
  label?: string;
  folder?: string;
  /** A state, or `pending` (received, not sent), `acknowledged`, `unacknowledged` (sent, not acknowledged). */
  state?: FileState | 'pending' | 'acknowledged' | 'unacknowledged';
  /** Substring of the file name. */
  name?: string;
  /** Sent before this moment (for "unacknowledged after N days"). */
  sentBefore?: Date;
  limit?: number;
}

/** Fields of a new file. */
export type NewFile = Pick<DistributedFile, 'name' | 'source'> & Partial<Pick<DistributedFile, 'sha256' | 'size' | 'mimeType' | 'sourceRef' | 'localPath'>>;

/** An event to record together with a change. */
export interface EventInput {
  kind: EventKind;
  detail?: string;
  actor?: string;
  address?: string;
  at?: Date;
}

export const PENDING_STATES: readonly FileState[] = ['received', 'routed', 'unroutable', 'sending', 'failed'];

type Row = Record<string, unknown>;

/** Column names of `distribution_events` by field name. */
const EVENT_COLUMNS: Record<string, string> = { fileId: 'file_id', fileName: 'file_name', kind: 'kind', at: 'at', actor: 'actor', address: 'address', detail: 'detail' };

/** Fields that usually differ from file to file within a batch (set through CASE). */
const PER_FILE = new Set(['localPath', 'remoteLocation', 'reason', 'sentSha256', 'sentSize', 'sentName']);

/** Column names of `distribution_files` by field name. */
const COLUMNS: Record<string, string> = {
  name: 'name', sha256: 'sha256', size: 'size', mimeType: 'mime_type', source: 'source', sourceRef: 'source_ref', state: 'state', reason: 'reason',
  label: 'label', tag: 'tag', destination: 'destination', folder: 'folder', remoteLocation: 'remote_location', localPath: 'local_path',
  sentSha256: 'sent_sha256', sentSize: 'sent_size', sentName: 'sent_name',
  receivedAt: 'received_at', sentAt: 'sent_at', archivedAt: 'archived_at', acknowledgedAt: 'acknowledged_at', acknowledgedBy: 'acknowledged_by',
  acknowledgedFrom: 'acknowledged_from', updatedAt: 'updated_at',
};
type AnyModel = ModelStatic<Model<Row, Row>>;

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
const date = (v: unknown): Date | undefined => (v === null || v === undefined ? undefined : v instanceof Date ? v : new Date(String(v)));

function toFile(r: Row): DistributedFile {
  return {
    id: String(r.id), name: String(r.name), sha256: opt(r.sha256 as string | null), size: r.size === null || r.size === undefined ? undefined : Number(r.size),
    mimeType: opt(r.mimeType as string | null), source: r.source as FileSource, sourceRef: opt(r.sourceRef as string | null), state: r.state as FileState,
    reason: opt(r.reason as string | null), label: opt(r.label as string | null), tag: opt(r.tag as string | null), destination: opt(r.destination as string | null),
    folder: opt(r.folder as string | null), remoteLocation: opt(r.remoteLocation as string | null), localPath: opt(r.localPath as string | null),
    sentSha256: opt(r.sentSha256 as string | null), sentSize: r.sentSize === null || r.sentSize === undefined ? undefined : Number(r.sentSize),
    sentName: opt(r.sentName as string | null),
    receivedAt: date(r.receivedAt)!, sentAt: date(r.sentAt), archivedAt: date(r.archivedAt), acknowledgedAt: date(r.acknowledgedAt),
    acknowledgedBy: opt(r.acknowledgedBy as string | null), acknowledgedFrom: opt(r.acknowledgedFrom as string | null), updatedAt: date(r.updatedAt)!,
  };
}

function toEvent(r: Row): FileEvent {
  return { id: Number(r.id), fileId: opt(r.fileId as string | null), fileName: String(r.fileName), kind: r.kind as EventKind, at: date(r.at)!, actor: opt(r.actor as string | null), address: opt(r.address as string | null), detail: opt(r.detail as string | null) };
}

/** The result of recording a new file: its record, or the file it duplicates. */
export type ReceiveOutcome = { file: DistributedFile } | { duplicateOf: DistributedFile; by: 'name' | 'sha256' };

/** The name a file has at its destination: its anonymised copy's, when the anonymiser renamed it. */
export function remoteName(file: Pick<DistributedFile, 'name' | 'sentName'>): string {
  return file.sentName ?? file.name;
}

/** Access to the distribution tables. */
export class DistributionStore {
  private models: { files: AnyModel; events: AnyModel; folders: AnyModel; cursors: AnyModel; transfers: AnyModel } | undefined;

  constructor(private readonly db: () => Database) {}

  /** The database (for transactions). */
  database(): Database {
    return this.db();
  }

  private m(): { files: AnyModel; events: AnyModel; folders: AnyModel; cursors: AnyModel; transfers: AnyModel } {
    if (this.models) return this.models;
    const s = this.db().sequelize;
    const common = { underscored: true, timestamps: false } as const;
    this.models = {
      files: s.define('distribution_files', {
        id: { type: DataTypes.UUID, primaryKey: true }, name: DataTypes.STRING, sha256: DataTypes.STRING, size: DataTypes.BIGINT, mimeType: DataTypes.STRING,
        source: DataTypes.STRING, sourceRef: DataTypes.STRING, state: DataTypes.STRING, reason: DataTypes.TEXT, label: DataTypes.STRING, tag: DataTypes.STRING,
        destination: DataTypes.STRING, folder: DataTypes.STRING, remoteLocation: DataTypes.STRING, localPath: DataTypes.STRING, sentSha256: DataTypes.STRING, sentSize: DataTypes.BIGINT, sentName: DataTypes.STRING, receivedAt: DataTypes.DATE,
        sentAt: DataTypes.DATE, archivedAt: DataTypes.DATE, acknowledgedAt: DataTypes.DATE, acknowledgedBy: DataTypes.STRING, acknowledgedFrom: DataTypes.STRING, updatedAt: DataTypes.DATE,
      }, { ...common, tableName: 'distribution_files' }) as unknown as AnyModel,
      events: s.define('distribution_events', {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, fileId: DataTypes.UUID, fileName: DataTypes.STRING, kind: DataTypes.STRING,
        at: DataTypes.DATE, actor: DataTypes.STRING, address: DataTypes.STRING, detail: DataTypes.TEXT,
      }, { ...common, tableName: 'distribution_events' }) as unknown as AnyModel,
      folders: s.define('distribution_folders', {
        label: { type: DataTypes.STRING, primaryKey: true }, tag: { type: DataTypes.STRING, primaryKey: true }, folder: DataTypes.STRING, base: DataTypes.STRING, updatedAt: DataTypes.DATE,
      }, { ...common, tableName: 'distribution_folders' }) as unknown as AnyModel,
      cursors: s.define('distribution_cursors', {
        name: { type: DataTypes.STRING, primaryKey: true }, inode: DataTypes.STRING, head: DataTypes.STRING, position: DataTypes.BIGINT, updatedAt: DataTypes.DATE,
      }, { ...common, tableName: 'distribution_cursors' }) as unknown as AnyModel,
      transfers: s.define('distribution_transfers', {
        fileId: { type: DataTypes.UUID, primaryKey: true }, destination: DataTypes.STRING, folder: DataTypes.STRING, sha256: DataTypes.STRING, url: DataTypes.STRING,
        uploadOffset: DataTypes.BIGINT, updatedAt: DataTypes.DATE,
      }, { ...common, tableName: 'distribution_transfers' }) as unknown as AnyModel,
    };
    return this.models;
  }

  private async event(file: { id: string | undefined; name: string }, e: EventInput, transaction?: Transaction): Promise<void> {
    await this.m().events.create({ fileId: file.id ?? null, fileName: file.name, kind: e.kind, at: e.at ?? new Date(), actor: e.actor ?? null, address: e.address ?? null, detail: e.detail ?? null }, { transaction });
  }

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

  /** A file not rejected with this name or content, if any. */
  async findLive(name: string, sha256: string | undefined, transaction?: Transaction): Promise<{ file: DistributedFile; by: 'name' | 'sha256' } | undefined> {
    const byName = await this.m().files.findOne({ where: { name, state: { [Op.ne]: 'rejected' } }, transaction });
    if (byName) return { file: toFile(byName.get({ plain: true })), by: 'name' };
    if (!sha256) return undefined;
    const bySha = await this.m().files.findOne({ where: { sha256, state: { [Op.ne]: 'rejected' } }, transaction });
    return bySha ? { file: toFile(bySha.get({ plain: true })), by: 'sha256' } : undefined;
  }

  /** Records a received file (state `received`) unless a live file has its name or sha256. */
  async receive(input: NewFile, e: EventInput): Promise<ReceiveOutcome> {
    try {
      return await this.db().transaction(async (transaction) => {
        const existing = await this.findLive(input.name, input.sha256, transaction);
        if (existing) return { duplicateOf: existing.file, by: existing.by };
        const now = new Date();
        const row = await this.m().files.create({ id: randomUUID(), ...input, state: 'received', receivedAt: now, updatedAt: now }, { transaction });
        const file = toFile(row.get({ plain: true }));
        await this.event(file, e, transaction);
        return { file };
      });
    } catch (error) {
      // Two intakes of one name at once: the partial unique index lets one win.
      if (error instanceof UniqueConstraintError) {
        const existing = await this.findLive(input.name, input.sha256);
        if (existing) return { duplicateOf: existing.file, by: existing.by };
      }
      throw error;
    }
  }

  /** Records a file refused at intake, with its reason, so it is listed and never lost. */
  async recordRejected(input: NewFile, reason: string, e: Omit<EventInput, 'kind'> = {}): Promise<DistributedFile> {
    return this.db().transaction(async (transaction) => {
      const now = new Date();
      const row = await this.m().files.create({ id: randomUUID(), ...input, state: 'rejected', reason, receivedAt: now, updatedAt: now }, { transaction });
      const file = toFile(row.get({ plain: true }));
      await this.event(file, { ...e, kind: 'received' }, transaction);
      await this.event(file, { ...e, kind: 'rejected', detail: reason }, transaction);
      return file;
    });
  }

  /**
   * Changes a file and records the event in one transaction. With `from`, only when the file
   * is in one of those states (@returns undefined otherwise: another worker moved it on).
   */
  async update(id: string, fields: Partial<Omit<DistributedFile, 'id'>>, e: EventInput | undefined, from?: readonly FileState[]): Promise<DistributedFile | undefined> {
    return this.db().transaction(async (transaction) => {
      const where: WhereOptions<Row> = from ? { id, state: { [Op.in]: [...from] } } : { id };
      const values: Row = { ...fields, updatedAt: new Date() };
      for (const [k, v] of Object.entries(values)) if (v === undefined) values[k] = null;
      const [count] = await this.m().files.update(values, { where, transaction });
      if (!count) return undefined;
      const row = await this.m().files.findByPk(id, { transaction });
      const file = toFile(row!.get({ plain: true }));
      if (e) await this.event(file, e, transaction);
      return file;
    });
  }

  /**
   * Applies many changes in one transaction (one commit for a whole batch): each change sets
   * fields of a file, only when it is in one of `from` (when given), and records its events.
   * @returns the ids whose change applied.
   */
  async applyMany(changes: ReadonlyArray<{ file: DistributedFile; fields: Partial<Omit<DistributedFile, 'id'>>; events: EventInput[]; from?: readonly FileState[] }>): Promise<Set<string>> {
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
        const live = (await this.m().files.findAll({ where: { state: { [Op.ne]: 'rejected' }, [Op.or]: [{ name: { [Op.in]: names } }, { sha256: { [Op.in]: shas } }] } as WhereOptions<Row>, transaction })).map((r) => toFile(r.get({ plain: true })));
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
      for (const { file, event } of inputs) outcomes.push(await this.receive(file, event));
      return outcomes;
    }
  }

  /** Records an event without changing the file. */
  async note(file: { id: string | undefined; name: string }, e: EventInput): Promise<void> {
    await this.event(file, e);
  }

  /** Records an acknowledgement; the first one also sets the file's acknowledged fields. */
  async acknowledge(file: DistributedFile, by: { actor: string; at: Date; address: string | undefined; via: string }, transaction?: Transaction): Promise<void> {
    await this.event(file, { kind: 'acknowledged', actor: by.actor, at: by.at, address: by.address, detail: by.via }, transaction);
    await this.m().files.update(
      { acknowledgedAt: by.at, acknowledgedBy: by.actor, acknowledgedFrom: by.address ?? null, updatedAt: new Date() },
      { where: { id: file.id, acknowledgedAt: null }, transaction },
    );
  }

  async get(id: string): Promise<DistributedFile | undefined> {
    const row = await this.m().files.findByPk(id);
    return row ? toFile(row.get({ plain: true })) : undefined;
  }

  async getMany(ids: readonly string[]): Promise<DistributedFile[]> {
    if (!ids.length) return [];
    const rows = await this.m().files.findAll({ where: { id: { [Op.in]: [...ids] } } });
    return rows.map((r) => toFile(r.get({ plain: true })));
  }

  /** Sent (or archived) files with this name, newest first. */
  async sentByName(names: readonly string[]): Promise<DistributedFile[]> {
    if (!names.length) return [];
    // The name the recipient sees: the sent name of an anonymised copy that was renamed, else the received name.
    const list = [...names];
    const rows = await this.m().files.findAll({
      where: { state: { [Op.in]: ['sent', 'archived'] }, [Op.or]: [{ sentName: { [Op.in]: list } }, { sentName: null, name: { [Op.in]: list } }] },
      order: [['sentAt', 'DESC']],
    });
    return rows.map((r) => toFile(r.get({ plain: true })));
  }

  /** Files sent to a platform resource, by the resource's id (in `remoteLocation` as `resource:<id>`). */
  async sentAsResources(resourceIds: readonly string[]): Promise<DistributedFile[]> {
    if (!resourceIds.length) return [];
    const rows = await this.m().files.findAll({ where: { remoteLocation: { [Op.in]: resourceIds.map((id) => `resource:${id}`) }, state: { [Op.in]: ['sent', 'archived'] } } });
    return rows.map((r) => toFile(r.get({ plain: true })));
  }

  /** Files matching a filter, newest first. */
  async list(filter: FileFilter = {}): Promise<DistributedFile[]> {
    const where: Record<string | symbol, unknown> = {};
    const received: Record<symbol, Date> = {};
    if (filter.since) received[Op.gte] = filter.since;
    if (filter.until) received[Op.lt] = filter.until;
    if (filter.since || filter.until) where.receivedAt = received;
    if (filter.label) where.label = filter.label;
    if (filter.folder) where.folder = filter.folder;
    // A plain substring (LIKE would need an ESCAPE clause for _ and %, which SQLite lacks by default).
    const position = this.db().dialect === 'postgres' ? 'strpos' : 'instr';
    const nameMatch = filter.name ? where_(fn(position, col('name'), filter.name), Op.gt, 0) : undefined;
    if (filter.state === 'pending') where.state = { [Op.in]: [...PENDING_STATES] };
    else if (filter.state === 'acknowledged') where.acknowledgedAt = { [Op.ne]: null };
    else if (filter.state === 'unacknowledged') {
      where.state = { [Op.in]: ['sent', 'archived'] };
      where.acknowledgedAt = null;
    } else if (filter.state) where.state = filter.state;
    if (filter.sentBefore) where.sentAt = { [Op.lt]: filter.sentBefore };
    const combined = (nameMatch ? { [Op.and]: [where, nameMatch] } : where) as WhereOptions<Row>;
    const rows = await this.m().files.findAll({ where: combined, order: [['receivedAt', 'DESC'], ['name', 'ASC']], limit: filter.limit ?? 1000 });
    return rows.map((r) => toFile(r.get({ plain: true })));
  }

  /** Counts per state. */
  async counts(): Promise<Record<string, number>> {
    const rows = (await this.m().files.findAll({ attributes: ['state', [this.db().sequelize.fn('COUNT', '*'), 'n']], group: ['state'], raw: true })) as unknown as Array<{ state: string; n: number | string }>;
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** Events of files (or all), oldest first; `kind` restricts them. */
  async events(filter: { fileIds?: readonly string[]; kind?: EventKind; since?: Date; until?: Date; limit?: number } = {}): Promise<FileEvent[]> {
    const where: Record<string, unknown> = {};
    if (filter.fileIds) where.fileId = { [Op.in]: [...filter.fileIds] };
    if (filter.kind) where.kind = filter.kind;
    const at: Record<symbol, Date> = {};
    if (filter.since) at[Op.gte] = filter.since;
    if (filter.until) at[Op.lt] = filter.until;
    if (filter.since || filter.until) where.at = at;
    const rows = await this.m().events.findAll({ where: where as WhereOptions<Row>, order: [['id', 'ASC']], limit: filter.limit ?? 10_000 });
    return rows.map((r) => toEvent(r.get({ plain: true })));
  }

  /** The remote folder for a label and tag. */
  async folder(label: string, tag: string): Promise<RemoteFolder | undefined> {
    const row = await this.m().folders.findOne({ where: { label, tag } });
    if (!row) return undefined;
    const r = row.get({ plain: true });
    return { label: String(r.label), tag: String(r.tag), folder: String(r.folder), base: String(r.base) };
  }

  /** Every remote folder. */
  async folders(): Promise<RemoteFolder[]> {
    const rows = await this.m().folders.findAll({ order: [['label', 'ASC'], ['tag', 'ASC']] });
    return rows.map((row) => {
      const r = row.get({ plain: true });
      return { label: String(r.label), tag: String(r.tag), folder: String(r.folder), base: String(r.base) };
    });
  }

  /** Adds or updates remote folders in one transaction. @returns how many were added, updated, unchanged. */
  async upsertFolders(rows: readonly RemoteFolder[]): Promise<{ added: number; updated: number; unchanged: number }> {
    return this.db().transaction(async (transaction) => {
      const counts = { added: 0, updated: 0, unchanged: 0 };
      for (const row of rows) {
        const existing = await this.m().folders.findOne({ where: { label: row.label, tag: row.tag }, transaction });
        if (!existing) {
          await this.m().folders.create({ ...row, updatedAt: new Date() }, { transaction });
          counts.added++;
          continue;
        }
        const r = existing.get({ plain: true });
        if (r.folder === row.folder && r.base === row.base) {
          counts.unchanged++;
          continue;
        }
        await this.m().folders.update({ folder: row.folder, base: row.base, updatedAt: new Date() }, { where: { label: row.label, tag: row.tag }, transaction });
        counts.updated++;
      }
      return counts;
    });
  }

  /** A saved reading position. */
  async cursor(name: string, transaction?: Transaction): Promise<Cursor | undefined> {
    const row = await this.m().cursors.findByPk(name, { transaction });
    if (!row) return undefined;
    const r = row.get({ plain: true });
    return { inode: opt(r.inode as string | null), head: opt(r.head as string | null), position: Number(r.position) };
  }

  /** Saves a reading position (inside the transaction that recorded what was read). */
  async saveCursor(name: string, value: Cursor, transaction?: Transaction): Promise<void> {
    await this.m().cursors.upsert({ name, inode: value.inode ?? null, head: value.head ?? null, position: value.position, updatedAt: new Date() }, { transaction });
  }

  /** Where an interrupted upload of a file stands, if one was recorded. */
  async transfer(fileId: string): Promise<TransferPoint | undefined> {
    const row = await this.m().transfers.findByPk(fileId);
    if (!row) return undefined;
    const r = row.get({ plain: true });
    return { destination: String(r.destination), folder: String(r.folder ?? ''), sha256: String(r.sha256), url: String(r.url), offset: Number(r.uploadOffset) };
  }

  /** Records how far an upload got (after it was created, and after each part the destination acknowledged). */
  async saveTransfer(fileId: string, point: TransferPoint): Promise<void> {
    await this.m().transfers.upsert({ fileId, destination: point.destination, folder: point.folder, sha256: point.sha256, url: point.url, uploadOffset: point.offset, updatedAt: new Date() });
  }

  /** Forgets an upload (finished, or gone at the destination). */
  async clearTransfer(fileId: string): Promise<void> {
    await this.m().transfers.destroy({ where: { fileId } });
  }
}
