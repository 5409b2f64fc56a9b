// Keeps the last reports of `platform inspect` in the database (the newest few only), for
// the admin page.
import { randomUUID } from 'node:crypto';
import { QueryTypes } from 'sequelize';
import type { Database } from '../db/database.js';
import type { InspectReport } from './inspect-report.js';

/** Reports kept; older ones are removed when a new one is stored. */
const KEEP = 20;

/** Stores a report and drops all but the newest {@link KEEP}. */
export async function storeInspectReport(db: Database, report: InspectReport): Promise<void> {
  await db.sequelize.query('INSERT INTO inspect_reports (id, finished_at, exit_code, report) VALUES ($1, $2, $3, $4)', {
    bind: [randomUUID(), new Date(report.finishedAt), report.exitCode, JSON.stringify(report)],
    type: QueryTypes.INSERT,
  });
  const old = await db.sequelize.query<{ id: string }>(`SELECT id FROM inspect_reports ORDER BY finished_at DESC LIMIT -1 OFFSET ${KEEP}`.replace('LIMIT -1', db.dialect === 'postgres' ? 'LIMIT ALL' : 'LIMIT -1'), { type: QueryTypes.SELECT });
  for (const { id } of old) await db.sequelize.query('DELETE FROM inspect_reports WHERE id = $1', { bind: [id], type: QueryTypes.DELETE });
}

/** The newest stored report, if any. */
export async function lastInspectReport(db: Database): Promise<InspectReport | undefined> {
  const rows = await db.sequelize.query<{ report: string }>('SELECT report FROM inspect_reports ORDER BY finished_at DESC LIMIT 1', { type: QueryTypes.SELECT });
  return rows[0] ? (JSON.parse(rows[0].report) as InspectReport) : undefined;
}
