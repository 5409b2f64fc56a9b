// Core's tables as Sequelize models, defined per Sequelize instance (never module-global,
// so two databases can live in one process). The tables themselves are made by migrations.
import { DataTypes, type Model, type ModelStatic, type Optional, type Sequelize } from 'sequelize';
import type { Dialect } from './dialect.js';
import type { DatasetRecord, ResourceRecord } from '../datasets/dataset-types.js';

export interface UserRow {
  id: string;
  name: string;
  email: string;
  fullname: string;
  passwordHash: string | null;
  sysadmin: boolean;
  state: 'active' | 'deleted';
  failedLogins: number;
  lockedUntil: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiTokenRow {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  hash: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

export interface OrganizationRow {
  id: string;
  name: string;
  title: string;
  description: string;
  state: 'active' | 'deleted';
  createdAt: Date;
  updatedAt: Date;
}

export type MemberRole = 'member' | 'editor' | 'admin';

export interface MembershipRow {
  id: string;
  organizationId: string;
  userId: string;
  role: MemberRole;
  createdAt: Date;
}

/**
 * A record as its table row holds it: NULL where the record says undefined. Rows derive from
 * the records plugins see, so a column added to one cannot be forgotten in the other.
 */
type RowOf<T> = { [K in keyof T]-?: undefined extends T[K] ? Exclude<T[K], undefined> | null : T[K] };

/** A dataset row: the record, plus the text the search index reads. */
export type DatasetRow = RowOf<DatasetRecord> & { searchText: string };

/** A resource row. */
export type ResourceRow = RowOf<ResourceRecord>;

export interface AuditEventRow {
  id: number;
  at: Date;
  actor: string;
  actorId: string | null;
  action: string;
  objectType: string;
  objectId: string | null;
  address: string | null;
  details: Record<string, unknown>;
}

type Creation<T, Optionals extends keyof T> = Optional<T, Optionals>;
export type RowModel<T extends object, C extends object = T> = ModelStatic<Model<T, C>>;

export interface CoreModels {
  User: RowModel<UserRow, Creation<UserRow, 'fullname' | 'passwordHash' | 'sysadmin' | 'state' | 'failedLogins' | 'lockedUntil' | 'createdAt' | 'updatedAt'>>;
  ApiToken: RowModel<ApiTokenRow, Creation<ApiTokenRow, 'expiresAt' | 'lastUsedAt' | 'revokedAt' | 'createdAt'>>;
  Organization: RowModel<OrganizationRow, Creation<OrganizationRow, 'title' | 'description' | 'state' | 'createdAt' | 'updatedAt'>>;
  Membership: RowModel<MembershipRow, Creation<MembershipRow, 'createdAt'>>;
  Dataset: RowModel<DatasetRow, Creation<DatasetRow, 'createdAt' | 'modifiedAt'>>;
  Resource: RowModel<ResourceRow, Creation<ResourceRow, 'createdAt' | 'modifiedAt'>>;
  AuditEvent: RowModel<AuditEventRow, Creation<AuditEventRow, 'id' | 'at'>>;
}

const json = (dialect: Dialect) => (dialect === 'postgres' ? DataTypes.JSONB : DataTypes.JSON);

/** Defines core's models on a Sequelize instance. */
export function defineCoreModels(sequelize: Sequelize, dialect: Dialect): CoreModels {
  const common = { underscored: true, freezeTableName: true } as const;
  const User = sequelize.define<Model<UserRow, Creation<UserRow, 'fullname' | 'passwordHash' | 'sysadmin' | 'state' | 'failedLogins' | 'lockedUntil' | 'createdAt' | 'updatedAt'>>>(
    'users',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      email: { type: DataTypes.STRING(254), allowNull: false },
      fullname: { type: DataTypes.STRING(200), allowNull: false, defaultValue: '' },
      passwordHash: { type: DataTypes.STRING(300), allowNull: true },
      sysadmin: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      state: { type: DataTypes.STRING(20), allowNull: false, defaultValue: 'active' },
      failedLogins: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      lockedUntil: { type: DataTypes.DATE, allowNull: true },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...common, timestamps: true },
  );
  const ApiToken = sequelize.define<Model<ApiTokenRow, Creation<ApiTokenRow, 'expiresAt' | 'lastUsedAt' | 'revokedAt' | 'createdAt'>>>(
    'api_tokens',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      userId: { type: DataTypes.UUID, allowNull: false },
      name: { type: DataTypes.STRING(200), allowNull: false },
      prefix: { type: DataTypes.STRING(32), allowNull: false, unique: true },
      hash: { type: DataTypes.STRING(64), allowNull: false },
      expiresAt: { type: DataTypes.DATE, allowNull: true },
      lastUsedAt: { type: DataTypes.DATE, allowNull: true },
      revokedAt: { type: DataTypes.DATE, allowNull: true },
      createdAt: DataTypes.DATE,
    },
    { ...common, timestamps: true, updatedAt: false },
  );
  const Organization = sequelize.define<Model<OrganizationRow, Creation<OrganizationRow, 'title' | 'description' | 'state' | 'createdAt' | 'updatedAt'>>>(
    'organizations',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      title: { type: DataTypes.STRING(200), allowNull: false, defaultValue: '' },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      state: { type: DataTypes.STRING(20), allowNull: false, defaultValue: 'active' },
      createdAt: DataTypes.DATE,
      updatedAt: DataTypes.DATE,
    },
    { ...common, timestamps: true },
  );
  const Membership = sequelize.define<Model<MembershipRow, Creation<MembershipRow, 'createdAt'>>>(
    'memberships',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      organizationId: { type: DataTypes.UUID, allowNull: false },
      userId: { type: DataTypes.UUID, allowNull: false },
      role: { type: DataTypes.STRING(20), allowNull: false },
      createdAt: DataTypes.DATE,
    },
    { ...common, timestamps: true, updatedAt: false },
  );
  const Dataset = sequelize.define<Model<DatasetRow, Creation<DatasetRow, 'createdAt' | 'modifiedAt'>>>(
    'datasets',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false, unique: true },
      title: { type: DataTypes.STRING(300), allowNull: false, defaultValue: '' },
      notes: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      type: { type: DataTypes.STRING(100), allowNull: false },
      ownerOrgId: { type: DataTypes.UUID, allowNull: false },
      private: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      state: { type: DataTypes.STRING(20), allowNull: false },
      licenseId: { type: DataTypes.STRING(100), allowNull: true },
      tags: { type: json(dialect), allowNull: false },
      extras: { type: json(dialect), allowNull: false },
      searchText: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      creatorUserId: { type: DataTypes.UUID, allowNull: true },
      createdAt: DataTypes.DATE,
      modifiedAt: DataTypes.DATE,
    },
    { ...common, timestamps: true, updatedAt: 'modifiedAt' },
  );
  const Resource = sequelize.define<Model<ResourceRow, Creation<ResourceRow, 'createdAt' | 'modifiedAt'>>>(
    'resources',
    {
      id: { type: DataTypes.UUID, primaryKey: true },
      datasetId: { type: DataTypes.UUID, allowNull: false },
      name: { type: DataTypes.STRING(255), allowNull: false },
      format: { type: DataTypes.STRING(100), allowNull: false, defaultValue: '' },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      url: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      size: { type: DataTypes.BIGINT, allowNull: true, get(this: Model) { const v = this.getDataValue('size' as never) as unknown; return v === null || v === undefined ? null : Number(v); } },
      sha256: { type: DataTypes.STRING(64), allowNull: true },
      depot: { type: DataTypes.STRING(50), allowNull: true },
      location: { type: DataTypes.TEXT, allowNull: true },
      state: { type: DataTypes.STRING(20), allowNull: false },
      metadata: { type: json(dialect), allowNull: false },
      position: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      createdAt: DataTypes.DATE,
      modifiedAt: DataTypes.DATE,
    },
    { ...common, timestamps: true, updatedAt: 'modifiedAt' },
  );
  const AuditEvent = sequelize.define<Model<AuditEventRow, Creation<AuditEventRow, 'id' | 'at'>>>(
    'audit_events',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
      actor: { type: DataTypes.STRING(200), allowNull: false },
      actorId: { type: DataTypes.UUID, allowNull: true },
      action: { type: DataTypes.STRING(100), allowNull: false },
      objectType: { type: DataTypes.STRING(50), allowNull: false },
      objectId: { type: DataTypes.STRING(100), allowNull: true },
      address: { type: DataTypes.STRING(100), allowNull: true },
      details: { type: json(dialect), allowNull: false },
    },
    { ...common, timestamps: false },
  );
  return { User, ApiToken, Organization, Membership, Dataset, Resource, AuditEvent } as unknown as CoreModels;
}
