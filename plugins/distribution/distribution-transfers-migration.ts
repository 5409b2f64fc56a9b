// Second migration of the distribution plugin: what an anonymised file's sent copy hashes to,
// and how far interrupted uploads to resumable destinations got.
import { DataTypes, Sequelize } from 'sequelize';
import type { Migration } from '../../core/api.js';

/** Adds `sent_sha256`/`sent_size` to `distribution_files`, and creates `distribution_transfers`. */
export const addDistributionTransfers: Migration = {
  name: '0002-add-distribution-transfers',
  async up({ queryInterface: q }) {
    const now = Sequelize.literal('CURRENT_TIMESTAMP');
    // Set only when what is sent differs from what was received (an anonymised copy).
    await q.addColumn('distribution_files', 'sent_sha256', { type: DataTypes.STRING(64), allowNull: true });
    await q.addColumn('distribution_files', 'sent_size', { type: DataTypes.BIGINT, allowNull: true });
    // One unfinished upload per file: the tus upload URL there and the offset it acknowledged.
    await q.createTable('distribution_transfers', {
      file_id: { type: DataTypes.UUID, primaryKey: true },
      destination: { type: DataTypes.STRING(100), allowNull: false },
      folder: { type: DataTypes.STRING(500), allowNull: false, defaultValue: '' },
      sha256: { type: DataTypes.STRING(64), allowNull: false },
      url: { type: DataTypes.STRING(1000), allowNull: false },
      upload_offset: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now },
    });
  },
  async down({ queryInterface: q }) {
    await q.dropTable('distribution_transfers');
    await q.removeColumn('distribution_files', 'sent_size');
    await q.removeColumn('distribution_files', 'sent_sha256');
  },
};
