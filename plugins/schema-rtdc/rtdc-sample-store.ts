// The event samples kept by RT-DC checks (table rtdc_event_samples): written when a check
// passes, replaced by the next check of the resource, dropped when it fails or the resource
// or its dataset is deleted, read by the rtdc_event_sample action.
import { DataTypes, Op, type Model, type ModelStatic } from 'sequelize';
import type { Database } from '../../core/api.js';
import type { RtdcEventSample } from './rtdc-inspection.js';

interface SampleRow {
  resourceId: string;
  feature: string;
  location: string;
  totalEvents: number | string;
  sample: Buffer;
  createdAt: Date;
}

type SampleModel = ModelStatic<Model<SampleRow, Partial<SampleRow>>>;

/** The stored sample of some features of one resource. */
export interface StoredSample {
  /** The stored file it was read from. */
  location: string;
  totalEvents: number;
  /** Values per feature, at the same events; NaN where the file holds NaN. */
  values: Record<string, Float64Array>;
}

/** Reads and writes `rtdc_event_samples`. */
export class RtdcSampleStore {
  private model: SampleModel | undefined;

  constructor(private readonly db: () => Database) {}

  private rows(): SampleModel {
    this.model ??= this.db().sequelize.define<Model<SampleRow, Partial<SampleRow>>>(
      'rtdc_event_samples',
      {
        resourceId: { type: DataTypes.UUID, primaryKey: true },
        feature: { type: DataTypes.STRING(100), primaryKey: true },
        location: DataTypes.STRING(1000),
        totalEvents: DataTypes.BIGINT,
        sample: DataTypes.BLOB,
        createdAt: DataTypes.DATE,
      },
      { tableName: 'rtdc_event_samples', underscored: true, timestamps: true, updatedAt: false },
    );
    return this.model;
  }

  /** Replaces the resource's sample by `sample`, read from the file at `location`, at once. */
  async replace(resourceId: string, location: string, sample: RtdcEventSample): Promise<void> {
    const rows = Object.entries(sample.values).map(([feature, base64]) => ({ resourceId, feature, location, totalEvents: sample.totalEvents, sample: Buffer.from(base64, 'base64') }));
    await this.db().transaction(async (transaction) => {
      await this.rows().destroy({ where: { resourceId }, transaction });
      if (rows.length) await this.rows().bulkCreate(rows, { transaction });
    });
  }

  /** Forgets the resource's sample. */
  async remove(resourceId: string): Promise<void> {
    await this.rows().destroy({ where: { resourceId } });
  }

  /** Forgets the samples of every resource of a dataset (the dataset was deleted). */
  async removeForDataset(datasetId: string): Promise<void> {
    const resources = await this.db().models.Resource.findAll({ attributes: ['id'], where: { datasetId } });
    const ids = resources.map((r) => String(r.get('id')));
    if (ids.length) await this.rows().destroy({ where: { resourceId: { [Op.in]: ids } } });
  }

  /** The sample of `features` of a resource; undefined when any of them has none. */
  async read(resourceId: string, features: readonly string[]): Promise<StoredSample | undefined> {
    const rows = (await this.rows().findAll({ where: { resourceId, feature: { [Op.in]: [...features] } } })).map((r) => r.get({ plain: true }));
    if (rows.length !== features.length) return undefined;
    const values: Record<string, Float64Array> = {};
    for (const row of rows) {
      const bytes = Buffer.from(row.sample);
      // Copied into an aligned buffer: a Buffer from the driver may start at any byte.
      values[row.feature] = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
    const first = rows[0];
    if (!first || rows.some((r) => r.location !== first.location)) return undefined;
    return { location: first.location, totalEvents: Number(first.totalEvents), values };
  }

  /** Ids of the resources among `resourceIds` that have a stored sample. */
  async withSample(resourceIds: readonly string[]): Promise<Set<string>> {
    if (resourceIds.length === 0) return new Set();
    const rows = await this.rows().findAll({ attributes: ['resourceId'], where: { resourceId: { [Op.in]: [...resourceIds] } }, group: ['resource_id'] });
    return new Set(rows.map((r) => String(r.get('resourceId' as never))));
  }
}
