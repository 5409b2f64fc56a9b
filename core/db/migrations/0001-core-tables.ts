// Core's first migration: users, tokens, organisations, memberships, datasets, resources, audit.
import { DataTypes, Sequelize } from 'sequelize';
import type { Migration, MigrationContext } from '../../plugins/hooks/migrations.js';

const now = () => Sequelize.literal('CURRENT_TIMESTAMP');

/** Creates core's tables and their indexes. */
export const coreTables: Migration = {
  name: '0001-core-tables',
  async up({ queryInterface: q, dialect }: MigrationContext): Promise<void> {
    const json = dialect === 'postgres' ? DataTypes.JSONB : DataTypes.JSON;
    await q.createTable('users', {
      id: { type: DataTypes.UUID, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      email: { type: DataTypes.STRING(254), allowNull: false },
      fullname: { type: DataTypes.STRING(200), allowNull: false, defaultValue: '' },
      password_hash: { type: DataTypes.STRING(300), allowNull: true },
      sysadmin: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      state: { type: DataTypes.STRING(20), allowNull: false, defaultValue: 'active' },
      failed_logins: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      locked_until: { type: DataTypes.DATE, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
    });
    await q.createTable('api_tokens', {
      id: { type: DataTypes.UUID, primaryKey: true },
      user_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
      name: { type: DataTypes.STRING(200), allowNull: false },
      prefix: { type: DataTypes.STRING(32), allowNull: false, unique: true },
      hash: { type: DataTypes.STRING(64), allowNull: false },
      expires_at: { type: DataTypes.DATE, allowNull: true },
      last_used_at: { type: DataTypes.DATE, allowNull: true },
      revoked_at: { type: DataTypes.DATE, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
    });
    await q.addIndex('api_tokens', ['user_id']);
    await q.createTable('organizations', {
      id: { type: DataTypes.UUID, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      title: { type: DataTypes.STRING(200), allowNull: false, defaultValue: '' },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      state: { type: DataTypes.STRING(20), allowNull: false, defaultValue: 'active' },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      updated_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
    });
    await q.createTable('memberships', {
      id: { type: DataTypes.UUID, primaryKey: true },
      organization_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'organizations', key: 'id' }, onDelete: 'CASCADE' },
      user_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'users', key: 'id' }, onDelete: 'CASCADE' },
      role: { type: DataTypes.STRING(20), allowNull: false },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
    });
    await q.addIndex('memberships', ['organization_id', 'user_id'], { unique: true });
    await q.addIndex('memberships', ['user_id']);
    await q.createTable('datasets', {
      id: { type: DataTypes.UUID, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      title: { type: DataTypes.STRING(300), allowNull: false, defaultValue: '' },
      notes: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      type: { type: DataTypes.STRING(100), allowNull: false },
      owner_org_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'organizations', key: 'id' } },
      private: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      state: { type: DataTypes.STRING(20), allowNull: false },
      license_id: { type: DataTypes.STRING(100), allowNull: true },
      tags: { type: json, allowNull: false },
      extras: { type: json, allowNull: false },
      search_text: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      creator_user_id: { type: DataTypes.UUID, allowNull: true },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      modified_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
    });
    await q.addIndex('datasets', ['owner_org_id']);
    await q.addIndex('datasets', ['state', 'private', 'modified_at']);
    await q.addIndex('datasets', ['type']);
    if (dialect === 'postgres') {
      // Word-prefix search over name, title, notes and tags (package_search q).
      await q.sequelize.query(
        `ALTER TABLE datasets ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED`,
      );
      await q.sequelize.query(`CREATE INDEX datasets_search_vector ON datasets USING GIN (search_vector)`);
    }
    await q.createTable('resources', {
      id: { type: DataTypes.UUID, primaryKey: true },
      dataset_id: { type: DataTypes.UUID, allowNull: false, references: { model: 'datasets', key: 'id' }, onDelete: 'CASCADE' },
      name: { type: DataTypes.STRING(255), allowNull: false },
      format: { type: DataTypes.STRING(100), allowNull: false, defaultValue: '' },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      url: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      size: { type: DataTypes.BIGINT, allowNull: true },
      sha256: { type: DataTypes.STRING(64), allowNull: true },
      depot: { type: DataTypes.STRING(50), allowNull: true },
      location: { type: DataTypes.TEXT, allowNull: true },
      state: { type: DataTypes.STRING(20), allowNull: false },
      metadata: { type: json, allowNull: false },
      position: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      created_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      modified_at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
    });
    await q.addIndex('resources', ['dataset_id', 'position']);
    await q.createTable('audit_events', {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      at: { type: DataTypes.DATE, allowNull: false, defaultValue: now() },
      actor: { type: DataTypes.STRING(200), allowNull: false },
      actor_id: { type: DataTypes.UUID, allowNull: true },
      action: { type: DataTypes.STRING(100), allowNull: false },
      object_type: { type: DataTypes.STRING(50), allowNull: false },
      object_id: { type: DataTypes.STRING(100), allowNull: true },
      address: { type: DataTypes.STRING(100), allowNull: true },
      details: { type: json, allowNull: false },
    });
    await q.addIndex('audit_events', ['object_type', 'object_id']);
    await q.addIndex('audit_events', ['at']);
  },
  async down({ queryInterface: q }: MigrationContext): Promise<void> {
    for (const table of ['audit_events', 'resources', 'datasets', 'memberships', 'organizations', 'api_tokens', 'users']) await q.dropTable(table);
  },
};
