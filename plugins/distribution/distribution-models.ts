// The sequelize models of the distribution tables, defined once per database connection.
import { DataTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize';
import type { Row } from './distribution-records.js';

/** A model read and written through plain rows. */
export type RowModel = ModelStatic<Model<Row, Row>>;

/** The five tables: files, their events, remote folders, reading positions, upload points. */
export interface DistributionModels {
  files: RowModel;
  events: RowModel;
  folders: RowModel;
  cursors: RowModel;
  transfers: RowModel;
}

/** Defines the models on a connection (the tables themselves come from the migrations). */
export function defineDistributionModels(s: Sequelize): DistributionModels {
  const common = { underscored: true, timestamps: false } as const;
  return {
    files: s.define('distribution_files', {
      id: { type: DataTypes.UUID, primaryKey: true }, name: DataTypes.STRING, sha256: DataTypes.STRING, size: DataTypes.BIGINT, mimeType: DataTypes.STRING,
      source: DataTypes.STRING, sourceRef: DataTypes.STRING, state: DataTypes.STRING, reason: DataTypes.TEXT, label: DataTypes.STRING, tag: DataTypes.STRING,
      destination: DataTypes.STRING, folder: DataTypes.STRING, remoteLocation: DataTypes.STRING, localPath: DataTypes.STRING, sentSha256: DataTypes.STRING, sentSize: DataTypes.BIGINT, sentName: DataTypes.STRING, receivedAt: DataTypes.DATE,
      sentAt: DataTypes.DATE, archivedAt: DataTypes.DATE, acknowledgedAt: DataTypes.DATE, acknowledgedBy: DataTypes.STRING, acknowledgedFrom: DataTypes.STRING,
      acknowledgedUser: DataTypes.STRING, acknowledgedAgent: DataTypes.STRING, updatedAt: DataTypes.DATE,
    }, { ...common, tableName: 'distribution_files' }) as unknown as RowModel,
    events: s.define('distribution_events', {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true }, fileId: DataTypes.UUID, fileName: DataTypes.STRING, kind: DataTypes.STRING,
      at: DataTypes.DATE, actor: DataTypes.STRING, address: DataTypes.STRING, remoteUser: DataTypes.STRING, userAgent: DataTypes.STRING, detail: DataTypes.TEXT,
    }, { ...common, tableName: 'distribution_events' }) as unknown as RowModel,
    folders: s.define('distribution_folders', {
      label: { type: DataTypes.STRING, primaryKey: true }, tag: { type: DataTypes.STRING, primaryKey: true }, folder: DataTypes.STRING, base: DataTypes.STRING, updatedAt: DataTypes.DATE,
    }, { ...common, tableName: 'distribution_folders' }) as unknown as RowModel,
    cursors: s.define('distribution_cursors', {
      name: { type: DataTypes.STRING, primaryKey: true }, inode: DataTypes.STRING, head: DataTypes.STRING, position: DataTypes.BIGINT, updatedAt: DataTypes.DATE,
    }, { ...common, tableName: 'distribution_cursors' }) as unknown as RowModel,
    transfers: s.define('distribution_transfers', {
      fileId: { type: DataTypes.UUID, primaryKey: true }, destination: DataTypes.STRING, folder: DataTypes.STRING, sha256: DataTypes.STRING, url: DataTypes.STRING,
      uploadOffset: DataTypes.BIGINT, updatedAt: DataTypes.DATE,
    }, { ...common, tableName: 'distribution_transfers' }) as unknown as RowModel,
  };
}
