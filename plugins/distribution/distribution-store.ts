// Reads and writes the plugin's tables through one object: each file's current state and the
// append-only events of its life here; batches, remote folders, reading positions and upload
// points in their own files, reached through this store.
import { randomUUID } from 'node:crypto';
import { Op, UniqueConstraintError, col, fn, where as where_, type Transaction, type WhereOptions } from 'sequelize';
import type { Database } from '../../core/api.js';
import { defineDistributionModels, type DistributionModels } from './distribution-models.js';
import { PENDING_STATES, toEvent, toFile, type Cursor, type DistributedFile, type EventInput, type EventKind, type FileEvent, type FileFilter, type FileState, type NewFile, type ReceiveOutcome, type RemoteFolder, type Row, type TransferPoint } from './distribution-records.js';
import { FileBatchWriter, type FileChange } from './file-batch-writer.js';
import { RemoteFoldersTable } from './remote-folders-table.js';
import { ReadingCursorsTable } from './reading-cursors-table.js';
import { TransferPointsTable } from './transfer-points-table.js';

export * from './distribution-records.js';
export type { FileChange } from './file-batch-writer.js';

/** Access to the distribution tables. */
export class DistributionStore {
  private models: DistributionModels | undefined;
  private readonly folderTable = new RemoteFoldersTable(() => this.db(), () => this.m().folders);
  private readonly cursorTable = new ReadingCursorsTable(() => this.m().cursors);
  private readonly transferTable = new TransferPointsTable(() => this.m().transfers);
  private readonly batches = new FileBatchWriter(() => this.db(), () => this.m(), (file, event) => this.receive(file, event));

  constructor(private readonly db: () => Database) {}

  /** The database (for transactions). */
  database(): Database {
    return this.db();
  }

  private m(): DistributionModels {
    this.models ??= defineDistributionModels(this.db().sequelize);
    return this.models;
  }

  private async event(file: { id: string | undefined; name: string }, e: EventInput, transaction?: Transaction): Promise<void> {
    await this.m().events.create({ fileId: file.id ?? null, fileName: file.name, kind: e.kind, at: e.at ?? new Date(), actor: e.actor ?? null, address: e.address ?? null, remoteUser: e.remoteUser ?? null, userAgent: e.userAgent ?? null, detail: e.detail ?? null }, { transaction });
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

  /**
   * Records a file refused at intake, with its reason, so it is listed and never lost: its
   * `received` event (with `e`'s detail: where it came from), then one refusal event, `kind`
   * (`duplicate` for a file already known by name or content), with the reason.
   */
  async recordRejected(input: NewFile, reason: string, e: Omit<EventInput, 'kind'> = {}, kind: 'rejected' | 'duplicate' = 'rejected'): Promise<DistributedFile> {
    return this.db().transaction(async (transaction) => {
      const now = new Date();
      const row = await this.m().files.create({ id: randomUUID(), ...input, state: 'rejected', reason, receivedAt: now, updatedAt: now }, { transaction });
      const file = toFile(row.get({ plain: true }));
      await this.event(file, { ...e, kind: 'received' }, transaction);
      await this.event(file, { ...e, kind, detail: reason }, transaction);
      return file;
    });
  }

  /**
   * Changes a file and records the event in one transaction. With `from`, only when the file
   * is in one of those states (@returns undefined otherwise: another worker moved it on).
   * Inside `outer` when given (an action's transaction), else in a transaction of its own.
   */
  async update(id: string, fields: Partial<Omit<DistributedFile, 'id'>>, e: EventInput | undefined, from?: readonly FileState[], outer?: Transaction): Promise<DistributedFile | undefined> {
    const run = async (transaction: Transaction): Promise<DistributedFile | undefined> => {
      const where: WhereOptions<Row> = from ? { id, state: { [Op.in]: [...from] } } : { id };
      const values: Row = { ...fields, updatedAt: new Date() };
      for (const [k, v] of Object.entries(values)) if (v === undefined) values[k] = null;
      const [count] = await this.m().files.update(values, { where, transaction });
      if (!count) return undefined;
      const row = await this.m().files.findByPk(id, { transaction });
      const file = toFile(row!.get({ plain: true }));
      if (e) await this.event(file, e, transaction);
      return file;
    };
    return outer ? run(outer) : this.db().transaction(run);
  }

  /** One file, read inside `transaction` when given. */
  async find(id: string, transaction?: Transaction): Promise<DistributedFile | undefined> {
    const row = await this.m().files.findByPk(id, { transaction });
    return row ? toFile(row.get({ plain: true })) : undefined;
  }

  /**
   * Applies many changes in one transaction (one commit for a whole batch).
   * @returns the ids whose change applied.
   */
  async applyMany(changes: ReadonlyArray<FileChange>): Promise<Set<string>> {
    return this.batches.applyMany(changes);
  }

  /**
   * Records many received files in one transaction, skipping those whose name or sha256 a
   * live file (or an earlier one of the batch) already has.
   * @returns per input, the new record or the file it duplicates.
   */
  async receiveMany(inputs: ReadonlyArray<{ file: NewFile; event: EventInput }>): Promise<ReceiveOutcome[]> {
    return this.batches.receiveMany(inputs);
  }

  /** Records an event without changing the file. */
  async note(file: { id: string | undefined; name: string }, e: EventInput): Promise<void> {
    await this.event(file, e);
  }

  /**
   * Records an acknowledgement; the first one also sets the file's acknowledged fields.
   * `user` and `userAgent` are what the source names beyond the address (an access log's
   * `$remote_user` and `$http_user_agent`), so recipients behind one address can be told apart.
   */
  async acknowledge(file: DistributedFile, by: { actor: string; at: Date; address: string | undefined; via: string; user?: string | undefined; userAgent?: string | undefined }, transaction?: Transaction): Promise<void> {
    const user = by.user?.slice(0, 200);
    const userAgent = by.userAgent?.slice(0, 500);
    await this.event(file, { kind: 'acknowledged', actor: by.actor, at: by.at, address: by.address, ...(user ? { remoteUser: user } : {}), ...(userAgent ? { userAgent } : {}), detail: by.via }, transaction);
    await this.m().files.update(
      { acknowledgedAt: by.at, acknowledgedBy: by.actor, acknowledgedFrom: by.address ?? null, acknowledgedUser: user ?? null, acknowledgedAgent: userAgent ?? null, updatedAt: new Date() },
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
    // In any case: lower() folds ASCII letters on both databases (SQLite's folds no others).
    const nameMatch = filter.name ? where_(fn(position, fn('lower', col('name')), filter.name.toLowerCase()), Op.gt, 0) : undefined;
    const sent: Record<symbol, Date | null> = {};
    if (filter.state === 'pending') where.state = { [Op.in]: [...PENDING_STATES] };
    else if (filter.state === 'acknowledged') where.acknowledgedAt = { [Op.ne]: null };
    else if (filter.state === 'unacknowledged') {
      where.state = { [Op.in]: ['sent', 'archived'] };
      where.acknowledgedAt = null;
    } else if (filter.state === 'sent') sent[Op.ne] = null; // every file that was sent, whatever happened after (archived)
    else if (filter.state) where.state = filter.state;
    if (filter.sentBefore) sent[Op.lt] = filter.sentBefore;
    if (Object.getOwnPropertySymbols(sent).length) where.sentAt = sent;
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
    return this.folderTable.folder(label, tag);
  }

  /** Every remote folder. */
  async folders(): Promise<RemoteFolder[]> {
    return this.folderTable.folders();
  }

  /** Adds or updates remote folders in one transaction. @returns how many were added, updated, unchanged. */
  async upsertFolders(rows: readonly RemoteFolder[]): Promise<{ added: number; updated: number; unchanged: number }> {
    return this.folderTable.upsertFolders(rows);
  }

  /** A saved reading position. */
  async cursor(name: string, transaction?: Transaction): Promise<Cursor | undefined> {
    return this.cursorTable.cursor(name, transaction);
  }

  /** Saves a reading position (inside the transaction that recorded what was read). */
  async saveCursor(name: string, value: Cursor, transaction?: Transaction): Promise<void> {
    await this.cursorTable.saveCursor(name, value, transaction);
  }

  /** Where an interrupted upload of a file stands, if one was recorded. */
  async transfer(fileId: string): Promise<TransferPoint | undefined> {
    return this.transferTable.transfer(fileId);
  }

  /** Records how far an upload got (after it was created, and after each part the destination acknowledged). */
  async saveTransfer(fileId: string, point: TransferPoint): Promise<void> {
    await this.transferTable.saveTransfer(fileId, point);
  }

  /** Forgets an upload (finished, or gone at the destination). */
  async clearTransfer(fileId: string): Promise<void> {
    await this.transferTable.clearTransfer(fileId);
  }
}
