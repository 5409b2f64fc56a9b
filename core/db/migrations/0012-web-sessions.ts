// Sessions of people signed in to the web pages: one row per session, holding only a hash of
// the cookie's secret, so a copy of the database signs nobody in. Every HTTP node reads the
// same table, so a session works behind any of them.
import type { Migration, MigrationContext } from '../../plugins/hooks/migrations.js';

export const webSessions: Migration = {
  name: '0012-web-sessions',
  async up({ sequelize, dialect }: MigrationContext): Promise<void> {
    const time = dialect === 'postgres' ? 'TIMESTAMP WITH TIME ZONE' : 'DATETIME';
    const uuid = dialect === 'postgres' ? 'UUID' : 'CHAR(36)';
    // Plain SQL: unqualified names follow the connection's search_path ([db] schema).
    await sequelize.query(`CREATE TABLE web_sessions (
      id ${uuid} PRIMARY KEY,
      hash VARCHAR(64) NOT NULL UNIQUE,
      user_id ${uuid} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      created_at ${time} NOT NULL,
      last_seen_at ${time} NOT NULL,
      expires_at ${time} NOT NULL
    )`);
    await sequelize.query('CREATE INDEX web_sessions_user_id ON web_sessions (user_id)');
    await sequelize.query('CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at)');
  },
  async down({ sequelize }: MigrationContext): Promise<void> {
    await sequelize.query('DROP TABLE web_sessions');
  },
};
