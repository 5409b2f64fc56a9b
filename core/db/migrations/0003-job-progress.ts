// Progress of a running job (done, total, a short detail), so that `platform jobs show` can
// say how far a long job has got.
import type { Migration, MigrationContext } from '../../plugins/hooks/migrations.js';

/**
 * Adds `jobs.progress`. Plain SQL rather than queryInterface.addColumn: on PostgreSQL
 * sequelize qualifies that statement with "public", which fails for an installation in a
 * schema of its own (`[db] schema`); an unqualified name follows the connection's search_path.
 */
export const jobProgress: Migration = {
  name: '0003-job-progress',
  async up({ sequelize, dialect }: MigrationContext): Promise<void> {
    await sequelize.query(`ALTER TABLE jobs ADD COLUMN progress ${dialect === 'postgres' ? 'JSONB' : 'JSON'}`);
  },
  async down({ sequelize }: MigrationContext): Promise<void> {
    await sequelize.query('ALTER TABLE jobs DROP COLUMN progress');
  },
};
