// The upload-tus plugin's table: one row per unfinished upload, so any node can resume it.
import { DataTypes, Sequelize } from 'sequelize';
import type { Migration } from '../../core/api.js';

/** Creates `tus_uploads`. */
export const createTusUploads: Migration = {
  name: '0001-create-tus-uploads',
  async up({ queryInterface: q, dialect }) {
    await q.createTable('tus_uploads', {
      id: { type: DataTypes.STRING(64), primaryKey: true },
      resource_id: { type: DataTypes.UUID, allowNull: false },
      dataset_id: { type: DataTypes.UUID, allowNull: false },
      user_id: { type: DataTypes.UUID, allowNull: false },
      depot: { type: DataTypes.STRING(50), allowNull: false },
      length: { type: DataTypes.BIGINT, allowNull: false },
      offset: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      metadata: { type: dialect === 'postgres' ? DataTypes.JSONB : DataTypes.JSON, allowNull: false },
      declared_sha256: { type: DataTypes.STRING(64), allowNull: true },
      expires_at: { type: DataTypes.DATE, allowNull: false },
      locked_until: { type: DataTypes.DATE, allowNull: true },
      lock_owner: { type: DataTypes.STRING(64), allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: Sequelize.literal('CURRENT_TIMESTAMP') },
      updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: Sequelize.literal('CURRENT_TIMESTAMP') },
    });
    await q.addIndex('tus_uploads', ['user_id']);
    await q.addIndex('tus_uploads', ['expires_at']);
  },
  async down({ queryInterface: q }) {
    await q.dropTable('tus_uploads');
  },
};
