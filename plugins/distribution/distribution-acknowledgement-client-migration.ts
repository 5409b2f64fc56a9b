// Fourth migration of the distribution plugin: who fetched a file, as the access log line says
// it beyond the client address (the authenticated user and the user agent), so recipients
// behind one address (a clinic's proxy) can be told apart.
import { DataTypes } from 'sequelize';
import type { Migration } from '../../core/api.js';

/** Adds `remote_user` and `user_agent` to `distribution_events`, `acknowledged_user` and `acknowledged_agent` to `distribution_files`. */
export const addAcknowledgementClient: Migration = {
  name: '0004-add-distribution-acknowledgement-client',
  async up({ queryInterface: q }) {
    await q.addColumn('distribution_events', 'remote_user', { type: DataTypes.STRING(200), allowNull: true });
    await q.addColumn('distribution_events', 'user_agent', { type: DataTypes.STRING(500), allowNull: true });
    await q.addColumn('distribution_files', 'acknowledged_user', { type: DataTypes.STRING(200), allowNull: true });
    await q.addColumn('distribution_files', 'acknowledged_agent', { type: DataTypes.STRING(500), allowNull: true });
  },
  async down({ queryInterface: q }) {
    await q.removeColumn('distribution_files', 'acknowledged_agent');
    await q.removeColumn('distribution_files', 'acknowledged_user');
    await q.removeColumn('distribution_events', 'user_agent');
    await q.removeColumn('distribution_events', 'remote_user');
  },
};
