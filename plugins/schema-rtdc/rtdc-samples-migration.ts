// schema-rtdc's table: the event sample each passing check keeps, one row per scalar feature,
// so that scatter plots never read the file again (and work the same with any depot).
import { DataTypes, Sequelize } from 'sequelize';
import type { Migration } from '../../core/api.js';

/** Creates `rtdc_event_samples`. */
export const createRtdcEventSamples: Migration = {
  name: '0001-create-rtdc-event-samples',
  async up({ queryInterface: q }) {
    await q.createTable('rtdc_event_samples', {
      resource_id: { type: DataTypes.UUID, primaryKey: true },
      feature: { type: DataTypes.STRING(100), primaryKey: true },
      // The stored file the sample was read from: a new file of the resource makes it stale.
      location: { type: DataTypes.STRING(1000), allowNull: false },
      total_events: { type: DataTypes.BIGINT, allowNull: false },
      // Little-endian float64 values at the sampled events (NaN kept).
      sample: { type: DataTypes.BLOB, allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: Sequelize.literal('CURRENT_TIMESTAMP') },
    });
  },
  async down({ queryInterface: q }) {
    await q.dropTable('rtdc_event_samples');
  },
};
