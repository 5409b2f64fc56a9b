// Acknowledgements from the platform itself: core writes an audit event `resource.download`
// for every download from its depot; a sent file delivered as a platform resource is
// acknowledged by the first such event (who, when, from where). Reads on from a saved event id.
import { Op } from 'sequelize';
import type { DistributionStore } from './distribution-store.js';

const CURSOR = 'audit:resource.download';

/** Reads core's download audit events after the saved one. */
export class DownloadAcknowledger {
  constructor(private readonly store: DistributionStore) {}

  /** Acknowledges files downloaded since the last call. @returns how many events were acknowledgements. */
  async read(): Promise<{ events: number; acknowledged: number }> {
    const db = this.store.database();
    const result = { events: 0, acknowledged: 0 };
    for (;;) {
      const after = (await this.store.cursor(CURSOR))?.position ?? 0;
      const rows = await db.models.AuditEvent.findAll({ where: { action: 'resource.download', id: { [Op.gt]: after } }, order: [['id', 'ASC']], limit: 1000 });
      if (!rows.length) return result;
      const events = rows.map((r) => r.get({ plain: true }) as unknown as { id: number; at: Date | string; actor: string; address: string | null; objectId: string | null });
      const files = await this.store.sentAsResources([...new Set(events.map((e) => e.objectId).filter((id): id is string => Boolean(id)))]);
      const byResource = new Map(files.map((f) => [f.remoteLocation!.slice('resource:'.length), f]));
      await db.transaction(async (transaction) => {
        for (const e of events) {
          const file = e.objectId ? byResource.get(e.objectId) : undefined;
          if (!file) continue;
          await this.store.acknowledge(file, { actor: e.actor, user: e.actor, at: new Date(e.at), address: e.address ?? undefined, via: `platform download (audit event ${e.id})` }, transaction);
          result.acknowledged++;
        }
        await this.store.saveCursor(CURSOR, { inode: undefined, position: events[events.length - 1]!.id }, transaction);
      });
      result.events += events.length;
    }
  }
}
