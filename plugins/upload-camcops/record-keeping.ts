// The server's record-keeping columns on every client table. The client owns `id`,
// `when_last_modified` and `_move_off_tablet`; every other `_` column is the server's.

/** The era of records still on the tablet (not yet preserved). */
export const ERA_NOW = 'NOW';

/** Server columns with their SQL types per dialect. */
export const RECORD_KEEPING_COLUMNS: ReadonlyArray<{ name: string; sqlite: string; postgres: string }> = [
  { name: '_device_id', sqlite: 'INTEGER NOT NULL', postgres: 'INTEGER NOT NULL' },
  { name: '_group_id', sqlite: 'VARCHAR(36) NOT NULL', postgres: 'VARCHAR(36) NOT NULL' },
  { name: '_era', sqlite: 'VARCHAR(32) NOT NULL', postgres: 'VARCHAR(32) NOT NULL' },
  { name: '_current', sqlite: 'INTEGER NOT NULL', postgres: 'INTEGER NOT NULL' },
  { name: '_addition_pending', sqlite: 'INTEGER NOT NULL', postgres: 'INTEGER NOT NULL' },
  { name: '_removal_pending', sqlite: 'INTEGER NOT NULL', postgres: 'INTEGER NOT NULL' },
  { name: '_predecessor_pk', sqlite: 'INTEGER', postgres: 'INTEGER' },
  { name: '_successor_pk', sqlite: 'INTEGER', postgres: 'INTEGER' },
  { name: '_when_added_exact', sqlite: 'VARCHAR(32)', postgres: 'VARCHAR(32)' },
  { name: '_when_added_batch_utc', sqlite: 'VARCHAR(32)', postgres: 'VARCHAR(32)' },
  { name: '_adding_user_id', sqlite: 'VARCHAR(36)', postgres: 'VARCHAR(36)' },
  { name: '_when_removed_exact', sqlite: 'VARCHAR(32)', postgres: 'VARCHAR(32)' },
  { name: '_when_removed_batch_utc', sqlite: 'VARCHAR(32)', postgres: 'VARCHAR(32)' },
  { name: '_removing_user_id', sqlite: 'VARCHAR(36)', postgres: 'VARCHAR(36)' },
  { name: '_preserving_user_id', sqlite: 'VARCHAR(36)', postgres: 'VARCHAR(36)' },
  { name: '_forcibly_preserved', sqlite: 'INTEGER NOT NULL DEFAULT 0', postgres: 'INTEGER NOT NULL DEFAULT 0' },
  { name: '_camcops_version', sqlite: 'VARCHAR(32)', postgres: 'VARCHAR(32)' },
];

/** Every reserved name a client may not send (`_pk` and the record-keeping columns). */
export const RESERVED_FIELDS: ReadonlySet<string> = new Set(['_pk', ...RECORD_KEEPING_COLUMNS.map((c) => c.name)]);

/** Client-owned columns that start with an underscore. */
export const MOVE_OFF_TABLET = '_move_off_tablet';
