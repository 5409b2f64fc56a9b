// Progress of a running job (done, total, a short detail), so that `platform jobs show` can
// say how far a long job has got.
import { DataTypes } from 'sequelize';
import type { Migration, MigrationContext } from '../../plugins/hooks/migrations.js';

/** Adds `jobs.progress`. */
export const jobProgress: Migration = {
  name: '0003-job-progress',
  async up({ queryInterface: q, dialect }: MigrationContext): Promise<void> {
    await q.addColumn('jobs', 'progress', { type: dialect === 'postgres' ? DataTypes.JSONB : DataTypes.JSON, allowNull: true });
  },
  async down({ queryInterface: q }: MigrationContext): Promise<void> {
    await q.removeColumn('jobs', 'progress');
  },
};
