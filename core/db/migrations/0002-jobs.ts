// The durable job queue: jobs, their dependencies, and a unique key per live job.
// Indexes are few and partial on purpose: every state change of a job writes an entry into
// every index that holds the new row version, and throughput is mostly index writes.
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
      // queued | running | succeeded | dead | cancelled
      state: { type: DataTypes.STRING(20), allowNull: false },
      priority: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      run_after: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      max_attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 5 },
      timeout_ms: { type: DataTypes.INTEGER, allowNull: true },
      dedupe_key: { type: DataTypes.STRING(300), allowNull: true },
      // The worker that holds the lease while running, and that ran the job last afterwards.
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
    // The claim walks this index in order and stops after a batch: it holds queued jobs only.
    await q.sequelize.query(`CREATE INDEX jobs_queued ON jobs (priority DESC, run_after, id) WHERE state = 'queued'`);
    // Running jobs, for lapsed leases and per-worker look-ups. Not on lease_until: renewing a
    // lease then changes no indexed column, so PostgreSQL can update the row in place (HOT).
    await q.sequelize.query(`CREATE INDEX jobs_running ON jobs (lease_owner) WHERE state = 'running'`);
    // Dead jobs, which inspect and operators list. No index spans every state: each would be
    // rewritten on every state change of every job (lists of other states scan the table).
    await q.sequelize.query(`CREATE INDEX jobs_dead ON jobs (created_at) WHERE state = 'dead'`);
    // At most one queued or running job per dedupe key: the database enforces it.
    await q.sequelize.query(`CREATE UNIQUE INDEX jobs_live_dedupe_key ON jobs (dedupe_key) WHERE state IN ('queued', 'running') AND dedupe_key IS NOT NULL`);
    await q.createTable('job_dependencies', {
      job_id: { type: DataTypes.UUID, allowNull: false, primaryKey: true, references: { model: 'jobs', key: 'id' }, onDelete: 'CASCADE' },
      depends_on: { type: DataTypes.UUID, allowNull: false, primaryKey: true, references: { model: 'jobs', key: 'id' }, onDelete: 'CASCADE' },
    });
    await q.addIndex('job_dependencies', ['depends_on'], { name: 'job_dependencies_depends_on' });
    if (dialect === 'postgres') await createPostgresFunctions(q.sequelize);
  },
  async down({ queryInterface: q, dialect }: MigrationContext): Promise<void> {
    if (dialect === 'postgres') {
      for (const fn of ['platform_jobs_complete_and_claim(text, timestamptz, uuid[], jsonb, timestamptz, text[], integer)', 'platform_jobs_claim(text, timestamptz, timestamptz, text[], integer)', 'platform_jobs_complete(text, timestamptz, uuid[], jsonb)', 'platform_jobs_renew(text, uuid[], timestamptz)']) {
        await q.sequelize.query(`DROP FUNCTION IF EXISTS ${fn}`);
      }
    }
    await q.dropTable('job_dependencies');
    await q.dropTable('jobs');
  },
};

/**
 * The worker's hot statements on PostgreSQL, as functions whose plans do not depend on table
 * statistics. A queue table churns faster than autovacuum analyses it: after a burst of
 * enqueues the planner still believes the table is nearly empty, and chose to sort every
 * queued job on each claim, or to scan the partial index of running jobs (full of dead
 * entries until VACUUM) on each completion; a drain of 20,000 jobs slowed to a few hundred
 * a second. So the claim runs with sorts and bitmap scans disabled (the only plan left walks
 * `jobs_queued` in order and stops after the batch), and completion and renewal touch one row
 * at a time by primary key, which the planner always takes.
 */
async function createPostgresFunctions(sequelize: Sequelize): Promise<void> {
  await sequelize.query(`ALTER TABLE jobs SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02)`);
  await sequelize.query(`
    CREATE FUNCTION platform_jobs_claim(p_owner text, p_until timestamptz, p_now timestamptz, p_types text[], p_limit integer)
    RETURNS SETOF jobs LANGUAGE plpgsql
    SET enable_sort = off SET enable_bitmapscan = off SET enable_seqscan = off
    AS $$
    BEGIN
      RETURN QUERY
      UPDATE jobs SET state = 'running', lease_owner = p_owner, lease_until = p_until, attempts = attempts + 1,
        started_at = p_now, updated_at = p_now, cancel_requested = false
      WHERE id = ANY(ARRAY(
        SELECT j.id FROM jobs j
        WHERE j.state = 'queued' AND j.run_after <= p_now AND j.type = ANY(p_types)
          AND NOT EXISTS (SELECT 1 FROM job_dependencies d JOIN jobs p ON p.id = d.depends_on WHERE d.job_id = j.id AND p.state <> 'succeeded')
        ORDER BY j.priority DESC, j.run_after, j.id
        LIMIT p_limit
        FOR UPDATE OF j SKIP LOCKED))
      RETURNING *;
    END $$`);
  await sequelize.query(`
    CREATE FUNCTION platform_jobs_complete(p_owner text, p_now timestamptz, p_ids uuid[], p_results jsonb)
    RETURNS TABLE (job_id uuid, has_dependants boolean) LANGUAGE plpgsql
    AS $$
    DECLARE i integer;
    BEGIN
      FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        UPDATE jobs SET state = 'succeeded', lease_until = NULL, result = p_results -> (i - 1), finished_at = p_now, updated_at = p_now
        WHERE jobs.id = p_ids[i] AND jobs.lease_owner = p_owner AND jobs.state = 'running';
        IF FOUND THEN
          job_id := p_ids[i];
          has_dependants := EXISTS (SELECT 1 FROM job_dependencies d WHERE d.depends_on = p_ids[i]);
          -- Its dependants may run now: wake idle workers.
          IF has_dependants THEN PERFORM pg_notify('platform_jobs', ''); END IF;
          RETURN NEXT;
        END IF;
      END LOOP;
    END $$`);
  // A busy worker records what finished and claims what comes next in one round trip.
  await sequelize.query(`
    CREATE FUNCTION platform_jobs_complete_and_claim(p_owner text, p_now timestamptz, p_ids uuid[], p_results jsonb, p_until timestamptz, p_types text[], p_limit integer)
    RETURNS SETOF jobs LANGUAGE plpgsql
    AS $$
    BEGIN
      PERFORM platform_jobs_complete(p_owner, p_now, p_ids, p_results);
      RETURN QUERY SELECT * FROM platform_jobs_claim(p_owner, p_until, p_now, p_types, p_limit);
    END $$`);
  await sequelize.query(`
    CREATE FUNCTION platform_jobs_renew(p_owner text, p_ids uuid[], p_until timestamptz)
    RETURNS TABLE (job_id uuid, cancel_requested boolean) LANGUAGE plpgsql
    AS $$
    DECLARE i integer; asked boolean;
    BEGIN
      FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        UPDATE jobs SET lease_until = p_until
        WHERE jobs.id = p_ids[i] AND jobs.lease_owner = p_owner AND jobs.state = 'running'
        RETURNING jobs.cancel_requested INTO asked;
        IF FOUND THEN
          job_id := p_ids[i];
          cancel_requested := asked;
          RETURN NEXT;
        END IF;
      END LOOP;
    END $$`);
}
