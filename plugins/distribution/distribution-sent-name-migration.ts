// Third migration of the distribution plugin: the name an anonymised copy is sent under, when
// the anonymiser changed it (a received name can carry a patient identifier).
import { DataTypes } from 'sequelize';
import type { Migration } from '../../core/api.js';

/** Adds `sent_name` to `distribution_files`. */
export const addDistributionSentName: Migration = {
  name: '0003-add-distribution-sent-name',
  async up({ queryInterface: q }) {
    // Set only when what is sent has another name than what was received.
    await q.addColumn('distribution_files', 'sent_name', { type: DataTypes.STRING(255), allowNull: true });
  },
  async down({ queryInterface: q }) {
    await q.removeColumn('distribution_files', 'sent_name');
  },
};
