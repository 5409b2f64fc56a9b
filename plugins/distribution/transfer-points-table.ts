// How far interrupted uploads to resumable destinations got, so a retry resumes instead of restarting.
import type { RowModel } from './distribution-models.js';
import type { TransferPoint } from './distribution-records.js';

/** Reads and writes `distribution_transfers`. */
export class TransferPointsTable {
  constructor(private readonly model: () => RowModel) {}

  /** Where an interrupted upload of a file stands, if one was recorded. */
  async transfer(fileId: string): Promise<TransferPoint | undefined> {
    const row = await this.model().findByPk(fileId);
    if (!row) return undefined;
    const r = row.get({ plain: true });
    return { destination: String(r.destination), folder: String(r.folder ?? ''), sha256: String(r.sha256), url: String(r.url), offset: Number(r.uploadOffset) };
  }

  /** Records how far an upload got (after it was created, and after each part the destination acknowledged). */
  async saveTransfer(fileId: string, point: TransferPoint): Promise<void> {
    await this.model().upsert({ fileId, destination: point.destination, folder: point.folder, sha256: point.sha256, url: point.url, uploadOffset: point.offset, updatedAt: new Date() });
  }

  /** Forgets an upload (finished, or gone at the destination). */
  async clearTransfer(fileId: string): Promise<void> {
    await this.model().destroy({ where: { fileId } });
  }
}
