// The plugin's fixed tables: devices, sessions, dirty tables of stepwise uploads, ID number
// definitions, per-group ID policies, users' upload groups and extra strings. Client tables
// (patient, tasks, ...) are declared by definitions and created by ClientTableSchema.
import type { Migration } from '../../core/api.js';

/** Creates the fixed tables. */
export const createCamcopsTables: Migration = {
  name: '0001-create-camcops-tables',
  async up({ sequelize, dialect }) {
    const serial = dialect === 'postgres' ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    const statements = [
      `CREATE TABLE camcops_devices (
        id ${serial},
        name VARCHAR(255) NOT NULL UNIQUE,
        friendly_name TEXT,
        camcops_version VARCHAR(32),
        registered_by_user_id VARCHAR(36),
        when_registered_utc VARCHAR(32),
        last_upload_batch_utc VARCHAR(32),
        ongoing_upload_batch_utc VARCHAR(32),
        uploading_user_id VARCHAR(36),
        currently_preserving INTEGER NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE camcops_sessions (
        id ${serial},
        token_sha256 VARCHAR(64) NOT NULL,
        address VARCHAR(64) NOT NULL,
        user_id VARCHAR(36),
        last_activity_ms BIGINT NOT NULL
      )`,
      `CREATE INDEX camcops_sessions_activity ON camcops_sessions (last_activity_ms)`,
      `CREATE TABLE camcops_dirty_tables (
        device_id INTEGER NOT NULL,
        tablename VARCHAR(64) NOT NULL,
        PRIMARY KEY (device_id, tablename)
      )`,
      `CREATE TABLE camcops_idnum_definitions (
        which_idnum INTEGER PRIMARY KEY,
        description TEXT NOT NULL,
        short_description VARCHAR(64) NOT NULL,
        validation_method VARCHAR(32) NOT NULL DEFAULT ''
      )`,
      `CREATE TABLE camcops_group_policies (
        organization_id VARCHAR(36) PRIMARY KEY,
        upload_policy TEXT NOT NULL DEFAULT '',
        finalize_policy TEXT NOT NULL DEFAULT ''
      )`,
      `CREATE TABLE camcops_upload_groups (
        user_id VARCHAR(36) PRIMARY KEY,
        organization_id VARCHAR(36) NOT NULL
      )`,
      `CREATE TABLE camcops_extra_strings (
        task VARCHAR(64) NOT NULL,
        name VARCHAR(255) NOT NULL,
        language VARCHAR(16) NOT NULL DEFAULT '',
        value TEXT NOT NULL,
        PRIMARY KEY (task, name, language)
      )`,
    ];
    for (const sql of statements) await sequelize.query(sql);
  },
  async down({ sequelize }) {
    for (const table of ['camcops_extra_strings', 'camcops_upload_groups', 'camcops_group_policies', 'camcops_idnum_definitions', 'camcops_dirty_tables', 'camcops_sessions', 'camcops_devices']) {
      await sequelize.query(`DROP TABLE IF EXISTS ${table}`);
    }
  },
};

/** Patients registered on the server (reached by access key), and the users made for their tablets. */
export const createServerPatients: Migration = {
  name: '0002-create-camcops-server-patients',
  async up({ sequelize, dialect }) {
    const serial = dialect === 'postgres' ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    await sequelize.query(`CREATE TABLE camcops_server_patients (
      id ${serial},
      uuid VARCHAR(36) NOT NULL UNIQUE,
      organization_id VARCHAR(36) NOT NULL,
      forename TEXT, surname TEXT, sex VARCHAR(1), dob VARCHAR(10), address TEXT, gp TEXT, other TEXT, email TEXT,
      idnums TEXT NOT NULL DEFAULT '{}',
      created_by_user_id VARCHAR(36),
      created_at VARCHAR(32) NOT NULL
    )`);
    await sequelize.query(`CREATE TABLE camcops_patient_users (
      user_id VARCHAR(36) PRIMARY KEY,
      organization_id VARCHAR(36) NOT NULL,
      server_patient_id INTEGER NOT NULL
    )`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE IF EXISTS camcops_patient_users');
    await sequelize.query('DROP TABLE IF EXISTS camcops_server_patients');
  },
};

/** Counts, per device and table, the records a stepwise upload found already preserved (a resent preserving upload), for its audit line. */
export const countAlreadyPreserved: Migration = {
  name: '0003-camcops-dirty-tables-already-preserved',
  async up({ sequelize }) {
    await sequelize.query('ALTER TABLE camcops_dirty_tables ADD COLUMN already_preserved INTEGER NOT NULL DEFAULT 0');
  },
  async down({ sequelize }) {
    await sequelize.query('ALTER TABLE camcops_dirty_tables DROP COLUMN already_preserved');
  },
};

/**
 * Task schedules (CamCOPS's _task_schedule, _task_schedule_item, _patient_task_schedule) and
 * each group's intellectual-property use flags (CamCOPS's _security_ip_use).
 */
export const createTaskSchedules: Migration = {
  name: '0004-camcops-task-schedules-and-ip-use',
  async up({ sequelize, dialect }) {
    const serial = dialect === 'postgres' ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    const statements = [
      `CREATE TABLE camcops_task_schedules (
        id ${serial},
        organization_id VARCHAR(36) NOT NULL,
        name TEXT NOT NULL,
        created_at VARCHAR(32) NOT NULL
      )`,
      'CREATE INDEX camcops_task_schedules_org ON camcops_task_schedules (organization_id)',
      `CREATE TABLE camcops_task_schedule_items (
        id ${serial},
        schedule_id INTEGER NOT NULL,
        task_table_name VARCHAR(64) NOT NULL,
        due_from VARCHAR(64) NOT NULL,
        due_by VARCHAR(64) NOT NULL
      )`,
      'CREATE INDEX camcops_task_schedule_items_schedule ON camcops_task_schedule_items (schedule_id)',
      `CREATE TABLE camcops_patient_task_schedules (
        id ${serial},
        server_patient_id INTEGER NOT NULL,
        schedule_id INTEGER NOT NULL,
        start_datetime VARCHAR(32),
        settings TEXT NOT NULL DEFAULT '{}'
      )`,
      'CREATE INDEX camcops_patient_task_schedules_patient ON camcops_patient_task_schedules (server_patient_id)',
      `CREATE TABLE camcops_group_ip_use (
        organization_id VARCHAR(36) PRIMARY KEY,
        clinical INTEGER NOT NULL DEFAULT 0,
        commercial INTEGER NOT NULL DEFAULT 0,
        educational INTEGER NOT NULL DEFAULT 0,
        research INTEGER NOT NULL DEFAULT 0
      )`,
    ];
    for (const sql of statements) await sequelize.query(sql);
  },
  async down({ sequelize }) {
    for (const table of ['camcops_group_ip_use', 'camcops_patient_task_schedules', 'camcops_task_schedule_items', 'camcops_task_schedules']) {
      await sequelize.query(`DROP TABLE IF EXISTS ${table}`);
    }
  },
};

/** Special notes that server users attach to a task or patient (CamCOPS's _special_notes). */
export const createSpecialNotes: Migration = {
  name: '0005-camcops-special-notes',
  async up({ sequelize, dialect }) {
    const serial = dialect === 'postgres' ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    await sequelize.query(`CREATE TABLE camcops_special_notes (
      note_id ${serial},
      basetable VARCHAR(64) NOT NULL,
      task_id INTEGER NOT NULL,
      device_id INTEGER NOT NULL,
      era VARCHAR(32) NOT NULL,
      group_id VARCHAR(36) NOT NULL,
      note_at VARCHAR(32) NOT NULL,
      user_id VARCHAR(36),
      note TEXT NOT NULL,
      hidden INTEGER NOT NULL DEFAULT 0
    )`);
    await sequelize.query('CREATE INDEX camcops_special_notes_record ON camcops_special_notes (basetable, device_id, era, task_id)');
    await sequelize.query('CREATE INDEX camcops_special_notes_group ON camcops_special_notes (group_id)');
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE IF EXISTS camcops_special_notes');
  },
};

/** The server's index of current task records (CamCOPS's _task_index), for fast listing. */
export const createTaskIndex: Migration = {
  name: '0006-camcops-task-index',
  async up({ sequelize, dialect }) {
    const serial = dialect === 'postgres' ? 'SERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT';
    await sequelize.query(`CREATE TABLE camcops_task_index (
      index_entry_pk ${serial},
      task_table_name VARCHAR(64) NOT NULL,
      task_pk INTEGER NOT NULL,
      patient_pk INTEGER,
      device_id INTEGER NOT NULL,
      era VARCHAR(32) NOT NULL,
      group_id VARCHAR(36) NOT NULL,
      when_created_iso VARCHAR(40),
      when_created_utc VARCHAR(32),
      when_added_batch_utc VARCHAR(32),
      adding_user_id VARCHAR(36),
      task_is_complete INTEGER NOT NULL DEFAULT 0,
      indexed_at_utc VARCHAR(32) NOT NULL
    )`);
    await sequelize.query('CREATE UNIQUE INDEX camcops_task_index_task ON camcops_task_index (task_table_name, task_pk)');
    await sequelize.query('CREATE INDEX camcops_task_index_device ON camcops_task_index (device_id, era)');
    await sequelize.query('CREATE INDEX camcops_task_index_group ON camcops_task_index (group_id, task_table_name, when_created_utc)');
    await sequelize.query('CREATE INDEX camcops_task_index_patient ON camcops_task_index (patient_pk)');
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE IF EXISTS camcops_task_index');
  },
};

/** CamCOPS's "may register devices": a user may register tablets in their upload group without its register role. */
export const mayRegisterDevices: Migration = {
  name: '0007-camcops-may-register-devices',
  async up({ sequelize }) {
    await sequelize.query('ALTER TABLE camcops_upload_groups ADD COLUMN may_register_devices INTEGER NOT NULL DEFAULT 0');
  },
  async down({ sequelize }) {
    await sequelize.query('ALTER TABLE camcops_upload_groups DROP COLUMN may_register_devices');
  },
};
