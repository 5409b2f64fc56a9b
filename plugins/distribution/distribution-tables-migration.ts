// The distribution plugin's tables: files and the events of their lives, remote folders,
// and saved reading positions (access logs, audit events).
import { DataTypes, Sequelize } from 'sequelize';
import type { Migration } from '../../core/api.js';

/** Creates `distribution_files`, `distribution_events`, `distribution_folders`, `distribution_cursors`. */
export const createDistributionTables: Migration = {
  name: '0001-create-distribution-tables',
  async up({ queryInterface: q, sequelize }) {
    const now = Sequelize.literal('CURRENT_TIMESTAMP');
    await q.createTable('distribution_files', {
      id: { type: DataTypes.UUID, primaryKey: true },
      name: { type: DataTypes.STRING(255), allowNull: false },
      sha256: { type: DataTypes.STRING(64), allowNull: true },
      size: { type: DataTypes.BIGINT, allowNull: true },
      mime_type: { type: DataTypes.STRING(100), allowNull: true },
      source: { type: DataTypes.STRING(20), allowNull: false },
      source_ref: { type: DataTypes.STRING(500), allowNull: true },
      state: { type: DataTypes.STRING(20), allowNull: false },
      reason: { type: DataTypes.TEXT, allowNull: true },
      label: { type: DataTypes.STRING(100), allowNull: true },
      tag: { type: DataTypes.STRING(200), allowNull: true },
      destination: { type: DataTypes.STRING(100), allowNull: true },
      folder: { type: DataTypes.STRING(500), allowNull: true },
      remote_location: { type: DataTypes.STRING(1000), allowNull: true },
      local_path: { type: DataTypes.STRING(1000), allowNull: true },
      received_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now },
      sent_at: { type: DataTypes.DATE, allowNull: true },
      archived_at: { type: DataTypes.DATE, allowNull: true },
      acknowledged_at: { type: DataTypes.DATE, allowNull: true },
      acknowledged_by: { type: DataTypes.STRING(200), allowNull: true },
      acknowledged_from: { type: DataTypes.STRING(100), allowNull: true },
      updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now },
    });
    // A name or a content is taken once among files not rejected; rejected ones may come again.
    await sequelize.query(`CREATE UNIQUE INDEX distribution_files_live_name ON distribution_files (name) WHERE state <> 'rejected'`);
    await sequelize.query(`CREATE INDEX distribution_files_live_sha256 ON distribution_files (sha256) WHERE state <> 'rejected'`);
    await q.addIndex('distribution_files', ['state', 'received_at']);
    await q.addIndex('distribution_files', ['label']);
    await q.createTable('distribution_events', {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      file_id: { type: DataTypes.UUID, allowNull: true },
      file_name: { type: DataTypes.STRING(255), allowNull: false },
      kind: { type: DataTypes.STRING(20), allowNull: false },
      at: { type: DataTypes.DATE, allowNull: false, defaultValue: now },
      actor: { type: DataTypes.STRING(200), allowNull: true },
      address: { type: DataTypes.STRING(100), allowNull: true },
      detail: { type: DataTypes.TEXT, allowNull: true },
    });
    await q.addIndex('distribution_events', ['file_id', 'id']);
    await q.addIndex('distribution_events', ['kind', 'at']);
    await q.createTable('distribution_folders', {
      label: { type: DataTypes.STRING(100), primaryKey: true },
      tag: { type: DataTypes.STRING(200), primaryKey: true },
      folder: { type: DataTypes.STRING(500), allowNull: false },
      base: { type: DataTypes.STRING(100), allowNull: false },
      updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now },
    });
    await q.createTable('distribution_cursors', {
      name: { type: DataTypes.STRING(1000), primaryKey: true },
      inode: { type: DataTypes.STRING(40), allowNull: true },
      // `<n>:<sha256>` of the first n bytes (n ≤ 64): recognises the file after rotation or truncation.
      head: { type: DataTypes.STRING(80), allowNull: true },
      position: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now },
    });
  },
  async down({ queryInterface: q }) {
    for (const table of ['distribution_cursors', 'distribution_folders', 'distribution_events', 'distribution_files']) await q.dropTable(table);
  },
};
