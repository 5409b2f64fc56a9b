// Inspect: client tables whose storage lacks columns their definitions declare, and devices
// that left an upload batch open (pending changes that nobody will commit).
import { DatabaseId, type InspectCheck, type InspectFinding } from '../../core/api.js';
import type { ClientTableRegistry } from './client-table-registry.js';
import { storageTableName } from './client-table-registry.js';
import { syncClientTables } from './client-table-schema.js';
import { rollbackAll, clearBatch } from './upload-batch.js';
import { SqlRunner } from './sql-runner.js';

const STALE_BATCH_HOURS = 24;

/** The plugin's inspect check. */
export function clientTablesCheck(tables: () => ClientTableRegistry): InspectCheck {
  return {
    area: 'camcops',
    name: 'client tables and open upload batches',
    async run(ctx) {
      const db = ctx.services.get(DatabaseId);
      const sql = new SqlRunner(db.sequelize, db.dialect, undefined);
      const findings: InspectFinding[] = [];
      const missing: string[] = [];
      for (const table of tables().ordered()) {
        try {
          await sql.select(`SELECT ${table.columns.map((c) => `"${c.name}"`).join(', ')} FROM "${storageTableName(table)}" WHERE 1 = 0`);
        } catch {
          missing.push(table.name);
        }
      }
      if (missing.length) {
        findings.push({
          severity: 'problem',
          title: `${missing.length} CamCOPS client table(s) lack their table or declared columns`,
          why: 'uploads to them fail until the storage matches the definitions',
          fix: 'platform inspect --only camcops --repair (or restart the server, which creates them)',
          details: missing,
          repair: { description: 'create missing client tables and columns', apply: async () => (await syncClientTables(sql, tables().ordered()), `synchronised ${missing.join(', ')}`) },
        });
      }
      const cutoff = new Date(Date.now() - STALE_BATCH_HOURS * 3_600_000).toISOString();
      const stale = await sql.select<{ id: number | string; name: string; ongoing_upload_batch_utc: string }>('SELECT id, name, ongoing_upload_batch_utc FROM camcops_devices WHERE ongoing_upload_batch_utc IS NOT NULL AND ongoing_upload_batch_utc < $1', [cutoff]);
      if (stale.length) {
        findings.push({
          severity: 'warning',
          title: `${stale.length} CamCOPS device(s) left an upload unfinished for over ${STALE_BATCH_HOURS} hours`,
          why: 'their staged changes are not visible as current records and will be rolled back at their next upload',
          fix: 'platform inspect --only camcops --repair rolls them back now',
          details: stale.map((d) => `${d.name}: batch started ${d.ongoing_upload_batch_utc}`),
          repair: {
            description: `roll back ${stale.length} unfinished upload(s)`,
            apply: async () => {
              await db.transaction(async (transaction) => {
                const inTx = new SqlRunner(db.sequelize, db.dialect, transaction);
                for (const d of stale) {
                  await rollbackAll(inTx, tables(), Number(d.id));
                  await clearBatch(inTx, Number(d.id));
                }
              });
              return `rolled back ${stale.map((d) => d.name).join(', ')}`;
            },
          },
        });
      }
      if (!findings.length) findings.push({ severity: 'ok', title: 'CamCOPS client tables match their definitions; no stale uploads' });
      return findings;
    },
  };
}
