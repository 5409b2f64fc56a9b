// Unfinished tus uploads in the database: creation, lookup, offsets, and a per-upload lock
// with a lease, so two PATCHes to one upload never interleave, on any node.
import { randomBytes } from 'node:crypto';
import { DataTypes, Op, type Model, type ModelStatic } from 'sequelize';
import type { Database } from '../../core/api.js';

/** One unfinished upload. */
export interface TusUpload {
  id: string;
  resourceId: string;
  datasetId: string;
  userId: string;
  depot: string;
  length: number;
  offset: number;
  metadata: Record<string, string>;
  declaredSha256: string | undefined;
  expiresAt: Date;
  createdAt: Date;
}

interface TusUploadRow {
  id: string;
  resourceId: string;
  datasetId: string;
  userId: string;
  depot: string;
  length: number | string;
  offset: number | string;
  metadata: Record<string, string> | string;
  declaredSha256: string | null;
  expiresAt: Date;
  lockedUntil: Date | null;
  lockOwner: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type TusUploadModel = ModelStatic<Model<TusUploadRow, Partial<TusUploadRow>>>;

function toUpload(row: TusUploadRow): TusUpload {
  return {
    id: row.id, resourceId: row.resourceId, datasetId: row.datasetId, userId: row.userId, depot: row.depot,
    length: Number(row.length), offset: Number(row.offset),
    metadata: typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as Record<string, string>) : row.metadata,
    declaredSha256: row.declaredSha256 ?? undefined, expiresAt: row.expiresAt, createdAt: row.createdAt,
  };
}

/** Reads and writes `tus_uploads`. */
export class TusUploadStore {
  private model: TusUploadModel | undefined;

  constructor(private readonly db: () => Database) {}

  private rows(): TusUploadModel {
    this.model ??= this.db().sequelize.define<Model<TusUploadRow, Partial<TusUploadRow>>>(
      'tus_uploads',
      {
        id: { type: DataTypes.STRING(64), primaryKey: true },
        resourceId: DataTypes.UUID,
        datasetId: DataTypes.UUID,
        userId: DataTypes.UUID,
        depot: DataTypes.STRING(50),
        length: DataTypes.BIGINT,
        offset: DataTypes.BIGINT,
        metadata: this.db().dialect === 'postgres' ? DataTypes.JSONB : DataTypes.JSON,
        declaredSha256: DataTypes.STRING(64),
        expiresAt: DataTypes.DATE,
        lockedUntil: DataTypes.DATE,
        lockOwner: DataTypes.STRING(64),
        createdAt: DataTypes.DATE,
        updatedAt: DataTypes.DATE,
      },
      { tableName: 'tus_uploads', underscored: true, timestamps: true },
    );
    return this.model;
  }

  /** Records a new upload and returns it. */
  async create(input: Omit<TusUpload, 'id' | 'offset' | 'createdAt'>): Promise<TusUpload> {
    const id = randomBytes(16).toString('hex');
    const row = await this.rows().create({ ...input, id, offset: 0, declaredSha256: input.declaredSha256 ?? null });
    return toUpload(row.get({ plain: true }));
  }

  /** An upload by id (expired ones included). */
  async find(id: string): Promise<TusUpload | undefined> {
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
    const row = await this.rows().findByPk(id);
    return row ? toUpload(row.get({ plain: true })) : undefined;
  }

  /** Bytes a user still has to send across unfinished, unexpired uploads. */
  async bytesInFlight(userId: string): Promise<number> {
    const rows = await this.rows().findAll({ where: { userId, expiresAt: { [Op.gt]: new Date() } }, attributes: ['length', 'offset'] });
    return rows.reduce((sum, r) => sum + Number(r.get('length' as never)) - Number(r.get('offset' as never)), 0);
  }

  /** True when a resource name is already being uploaded to a dataset. */
  async nameInFlight(datasetId: string, name: string): Promise<boolean> {
    const rows = await this.rows().findAll({ where: { datasetId, expiresAt: { [Op.gt]: new Date() } }, attributes: ['metadata'] });
    return rows.some((r) => toUpload({ ...(r.get({ plain: true }) as TusUploadRow) }).metadata.filename === name);
  }

  /**
   * Takes the upload's lock for `seconds` (renewable). @returns false when another request
   * holds it.
   */
  async lock(id: string, owner: string, seconds: number): Promise<boolean> {
    const now = new Date();
    const [count] = await this.rows().update(
      { lockedUntil: new Date(now.getTime() + seconds * 1000), lockOwner: owner },
      { where: { id, [Op.or]: [{ lockedUntil: null }, { lockedUntil: { [Op.lt]: now } }, { lockOwner: owner }] } },
    );
    return count === 1;
  }

  /** Releases the lock if this owner holds it. */
  async unlock(id: string, owner: string): Promise<void> {
    await this.rows().update({ lockedUntil: null, lockOwner: null }, { where: { id, lockOwner: owner } });
  }

  /** Records progress and slides the expiry. */
  async setOffset(id: string, offset: number, expiresAt: Date): Promise<void> {
    await this.rows().update({ offset, expiresAt }, { where: { id } });
  }

  /** Forgets an upload. */
  async remove(id: string): Promise<void> {
    await this.rows().destroy({ where: { id } });
  }

  /** Uploads past their expiry. */
  async expired(now = new Date()): Promise<TusUpload[]> {
    const rows = await this.rows().findAll({ where: { expiresAt: { [Op.lte]: now } } });
    return rows.map((r) => toUpload(r.get({ plain: true })));
  }

  /** Ids of every recorded upload (to find partial files that no row owns). */
  async ids(): Promise<Set<string>> {
    const rows = await this.rows().findAll({ attributes: ['id'] });
    return new Set(rows.map((r) => String(r.get('id' as never))));
  }
}
