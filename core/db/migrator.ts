// Applies the migrations of core and of every plugin with umzug, recorded in one table as
// `<owner>:<name>`, core first and then each plugin in plugin order.
import { Umzug, SequelizeStorage } from 'umzug';
import type { Database } from './database.js';
import type { Migration, MigrationContext } from '../plugins/hooks/migrations.js';

/** Migrations of one owner (`core` or a plugin name). */
export interface OwnedMigrations {
  owner: string;
  migrations: readonly Migration[];
}

/** One migration's state, for `platform db status`. */
export interface MigrationStatus {
  name: string;
  applied: boolean;
}

/** Runs and reports migrations over one database. */
export class Migrator {
  private readonly umzug: Umzug<MigrationContext>;

  constructor(private readonly db: Database, sets: readonly OwnedMigrations[]) {
    const context: MigrationContext = { queryInterface: db.sequelize.getQueryInterface(), sequelize: db.sequelize, dialect: db.dialect };
    this.umzug = new Umzug<MigrationContext>({
      migrations: sets.flatMap(({ owner, migrations }) =>
        migrations.map((migration) => ({
          name: `${owner}:${migration.name}`,
          up: async ({ context: ctx }: { context: MigrationContext }) => migration.up(ctx),
          down: async ({ context: ctx }: { context: MigrationContext }) => {
            if (!migration.down) throw new Error(`migration ${owner}:${migration.name} cannot be reverted`);
            await migration.down(ctx);
          },
        })),
      ),
      context,
      storage: new SequelizeStorage({ sequelize: db.sequelize, tableName: 'platform_migrations', ...(db.schema ? { schema: db.schema } : {}) }),
      logger: undefined,
    });
  }

  /** Every known migration in order, with whether it is applied. */
  async status(): Promise<MigrationStatus[]> {
    const [executed, pending] = await Promise.all([this.umzug.executed(), this.umzug.pending()]);
    return [...executed.map((m) => ({ name: m.name, applied: true })), ...pending.map((m) => ({ name: m.name, applied: false }))];
  }

  /** Names of migrations not yet applied. */
  async pending(): Promise<string[]> {
    return (await this.umzug.pending()).map((m) => m.name);
  }

  /** Applies every pending migration; @returns their names. */
  async up(): Promise<string[]> {
    if (this.db.dialect === 'sqlite') {
      // One process at a time may migrate a SQLite file; others wait on the busy timeout.
      return (await this.umzug.up()).map((m) => m.name);
    }
    return this.withAdvisoryLock(async () => (await this.umzug.up()).map((m) => m.name));
  }

  /** On PostgreSQL, several nodes may start at once: only one migrates at a time. */
  private async withAdvisoryLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.withExclusiveLock(727_274_001, fn);
  }
}
