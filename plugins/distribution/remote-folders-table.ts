// The remote folders table (label and tag → folder at a destination), loaded from CSV.
import type { Database } from '../../core/api.js';
import type { RowModel } from './distribution-models.js';
import type { RemoteFolder } from './distribution-records.js';

const toFolder = (r: Record<string, unknown>): RemoteFolder => ({ label: String(r.label), tag: String(r.tag), folder: String(r.folder), base: String(r.base) });

/** Reads and writes `distribution_folders`. */
export class RemoteFoldersTable {
  constructor(private readonly db: () => Database, private readonly model: () => RowModel) {}

  /** The remote folder for a label and tag. */
  async folder(label: string, tag: string): Promise<RemoteFolder | undefined> {
    const row = await this.model().findOne({ where: { label, tag } });
    return row ? toFolder(row.get({ plain: true })) : undefined;
  }

  /** Every remote folder. */
  async folders(): Promise<RemoteFolder[]> {
    const rows = await this.model().findAll({ order: [['label', 'ASC'], ['tag', 'ASC']] });
    return rows.map((row) => toFolder(row.get({ plain: true })));
  }

  /** Adds or updates remote folders in one transaction. @returns how many were added, updated, unchanged. */
  async upsertFolders(rows: readonly RemoteFolder[]): Promise<{ added: number; updated: number; unchanged: number }> {
    return this.db().transaction(async (transaction) => {
      const counts = { added: 0, updated: 0, unchanged: 0 };
      for (const row of rows) {
        const existing = await this.model().findOne({ where: { label: row.label, tag: row.tag }, transaction });
        if (!existing) {
          await this.model().create({ ...row, updatedAt: new Date() }, { transaction });
          counts.added++;
          continue;
        }
        const r = existing.get({ plain: true });
        if (r.folder === row.folder && r.base === row.base) {
          counts.unchanged++;
          continue;
        }
        await this.model().update({ folder: row.folder, base: row.base, updatedAt: new Date() }, { where: { label: row.label, tag: row.tag }, transaction });
        counts.updated++;
      }
      return counts;
    });
  }
}
