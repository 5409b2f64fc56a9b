// The durable job queue: jobs, their dependencies, and a unique key per live job.
import { DataTypes, Sequelize } from 'sequelize';
import type { Migration, MigrationContext } from '../../plugins/hooks/migrations.js';

const now = () => Sequelize.literal('CURRENT_TIMESTAMP');

/** Creates `jobs` and `job_dependencies`. */
export const jobsTables: Migration = {
  name: '0002-jobs',
  async up({ queryInterface: q, dialect }: MigrationContext): Promise<void> {
    const json = dialect === 'postgres' ? DataTypes.JSONB : DataTypes.JSON;
    await q.createTable('jobs', {
      id: { type: DataTypes.UUID, primaryKey: true },
      type: { type: DataTypes.STRING(100), allowNull: false },
      payload: { type: json, allowNull: false },
      state: { type: DataTypes.STRING(20), allowNull: false },
      priority: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      run_after: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      max_attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 5 },
      timeout_ms: { type: DataTypes.INTEGER, allowNull: true },
      dedupe_key: { type: DataTypes.STRING(300), allowNull: true },
      lease_owner: { type: DataTypes.STRING(100), allowNull: true },
      lease_until: { type: DataTypes.DATE, allowNull: true },
      cancel_requested: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      last_error: { type: DataTypes.TEXT, allowNull: true },
      last_stack: { type: DataTypes.TEXT, allowNull: true },
      result: { type: json, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      started_at: { type: DataTypes.DATE, allowNull: true },
      finished_at: { type: DataTypes.DATE, allowNull: true },
    });
    await q.addIndex('jobs', ['state', 'run_after', 'priority'], { name: 'jobs_claim' });
    await q.addIndex('jobs', ['type', 'state'], { name: 'jobs_type_state' });
    // At most one queued or running job per dedupe key: the database enforces it.
    await q.sequelize.query(`CREATE UNIQUE INDEX jobs_live_dedupe_key ON jobs (dedupe_key) WHERE state IN ('queued', 'running') AND dedupe_key IS NOT NULL`);
    await q.createTable('job_dependencies', {
      job_id: { type: DataTypes.UUID, allowNull: false, primaryKey: true, references: { model: 'jobs', key: 'id' }, onDelete: 'CASCADE' },
      depends_on: { type: DataTypes.UUID, allowNull: false, primaryKey: true, references: { model: 'jobs', key: 'id' }, onDelete: 'CASCADE' },
    });
    await q.addIndex('job_dependencies', ['depends_on'], { name: 'job_dependencies_depends_on' });
  },
  async down({ queryInterface: q }: MigrationContext): Promise<void> {
    await q.dropTable('job_dependencies');
    await q.dropTable('jobs');
  },
};
