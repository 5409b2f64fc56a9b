// The reports `platform inspect` stores, so that the admin page shows the last one from any
// node (a file on the machine that ran inspect would be seen by that machine only).
import type { Migration, MigrationContext } from '../../plugins/hooks/migrations.js';

export const inspectReports: Migration = {
  name: '0013-inspect-reports',
  async up({ sequelize, dialect }: MigrationContext): Promise<void> {
    const time = dialect === 'postgres' ? 'TIMESTAMP WITH TIME ZONE' : 'DATETIME';
    const uuid = dialect === 'postgres' ? 'UUID' : 'CHAR(36)';
    await sequelize.query(`CREATE TABLE inspect_reports (
      id ${uuid} PRIMARY KEY,
      finished_at ${time} NOT NULL,
      exit_code INTEGER NOT NULL,
      report TEXT NOT NULL
    )`);
    await sequelize.query('CREATE INDEX inspect_reports_finished_at ON inspect_reports (finished_at)');
  },
  async down({ sequelize }: MigrationContext): Promise<void> {
    await sequelize.query('DROP TABLE inspect_reports');
  },
};
