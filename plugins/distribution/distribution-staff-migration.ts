// Fifth migration of the distribution plugin: lab staff who may read the trail (history,
// pending, unacknowledged files, life lines) without being site administrators.
import { DataTypes, Sequelize } from 'sequelize';
import type { Migration } from '../../core/api.js';

/** Creates `distribution_staff`. */
export const createDistributionStaff: Migration = {
  name: '0005-create-distribution-staff',
  async up({ queryInterface: q }) {
    await q.createTable('distribution_staff', {
      user_id: { type: DataTypes.STRING(64), primaryKey: true },
      user_name: { type: DataTypes.STRING(200), allowNull: false },
      granted_by: { type: DataTypes.STRING(200), allowNull: false },
      granted_at: { type: DataTypes.DATE, allowNull: false, defaultValue: Sequelize.literal('CURRENT_TIMESTAMP') },
    });
  },
  async down({ queryInterface: q }) {
    await q.dropTable('distribution_staff');
  },
};
