// Saved reading positions: how far each access log (and the platform's download events) was read.
import type { Transaction } from 'sequelize';
import type { RowModel } from './distribution-models.js';
import { opt, type Cursor } from './distribution-records.js';

/** Reads and writes `distribution_cursors`. */
export class ReadingCursorsTable {
  constructor(private readonly model: () => RowModel) {}

  /** A saved reading position. */
  async cursor(name: string, transaction?: Transaction): Promise<Cursor | undefined> {
    const row = await this.model().findByPk(name, { transaction });
    if (!row) return undefined;
    const r = row.get({ plain: true });
    return { inode: opt(r.inode as string | null), head: opt(r.head as string | null), position: Number(r.position) };
  }

  /** Saves a reading position (inside the transaction that recorded what was read). */
  async saveCursor(name: string, value: Cursor, transaction?: Transaction): Promise<void> {
    await this.model().upsert({ name, inode: value.inode ?? null, head: value.head ?? null, position: value.position, updatedAt: new Date() }, { transaction });
  }
}
