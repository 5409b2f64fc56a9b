// Applies the migrations of core and of every plugin with umzug, recorded in one table as
// `<owner>:<name>`, core first and then each plugin in plugin order. umzug (and the command-line
// libraries it brings, about 150 modules) is loaded only when a migration is pending or the
// status is asked for: a server starting on an up-to-date database reads the table itself.
import { QueryTypes } from 'sequelize';
import type { Umzug } from 'umzug';
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

const TABLE = 'platform_migrations';

/** Runs and reports migrations over one database. */
export class Migrator {
  private umzugLoaded: Promise<Umzug<MigrationContext>> | undefined;
  /** Every migration under its recorded name (`<owner>:<name>`), in order. */
  private readonly named: ReadonlyArray<{ name: string; migration: Migration }>;

  constructor(private readonly db: Database, sets: readonly OwnedMigrations[]) {
    this.named = sets.flatMap(({ owner, migrations }) => migrations.map((migration) => ({ name: `${owner}:${migration.name}`, migration })));
  }

  private get umzug(): Promise<Umzug<MigrationContext>> {
    return (this.umzugLoaded ??= this.loadUmzug());
  }

  private async loadUmzug(): Promise<Umzug<MigrationContext>> {
    const { Umzug, SequelizeStorage } = await import('umzug');
    const { db } = this;
    const context: MigrationContext = { queryInterface: db.sequelize.getQueryInterface(), sequelize: db.sequelize, dialect: db.dialect };
    return new Umzug<MigrationContext>({
      migrations: this.named.map(({ name, migration }) => ({
        name,
        up: async ({ context: ctx }: { context: MigrationContext }) => migration.up(ctx),
        down: async ({ context: ctx }: { context: MigrationContext }) => {
          if (!migration.down) throw new Error(`migration ${name} cannot be reverted`);
          await migration.down(ctx);
        },
      })),
      context,
      storage: new SequelizeStorage({ sequelize: db.sequelize, tableName: TABLE, ...(db.schema ? { schema: db.schema } : {}) }),
      logger: undefined,
    });
  }

  /**
   * True when the table records every known migration: read directly, without umzug. False
   * when any is missing or the table cannot be read (a new database has none).
   */
  private async allApplied(): Promise<boolean> {
    const table = this.db.schema ? `"${this.db.schema.replace(/"/g, '""')}".${TABLE}` : TABLE;
    try {
      const rows = await this.db.sequelize.query<{ name: string }>(`SELECT name FROM ${table}`, { type: QueryTypes.SELECT, logging: false });
      const recorded = new Set(rows.map((r) => r.name));
      return this.named.every(({ name }) => recorded.has(name));
    } catch {
      return false;
    }
  }

  /** Every known migration in order, with whether it is applied. */
  async status(): Promise<MigrationStatus[]> {
    const umzug = await this.umzug;
    const [executed, pending] = await Promise.all([umzug.executed(), umzug.pending()]);
    return [...executed.map((m) => ({ name: m.name, applied: true })), ...pending.map((m) => ({ name: m.name, applied: false }))];
  }

  /** Names of migrations not yet applied. */
  async pending(): Promise<string[]> {
    if (await this.allApplied()) return [];
    return (await (await this.umzug).pending()).map((m) => m.name);
  }

  /** Applies every pending migration; @returns their names. */
  async up(): Promise<string[]> {
    if (await this.allApplied()) return [];
    const umzug = await this.umzug;
    if (this.db.dialect === 'sqlite') {
      // One process at a time may migrate a SQLite file; others wait on the busy timeout.
      return (await umzug.up()).map((m) => m.name);
    }
    return this.withAdvisoryLock(async () => (await umzug.up()).map((m) => m.name));
  }

  /** On PostgreSQL, several nodes may start at once: only one migrates at a time. */
  private async withAdvisoryLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.db.withExclusiveLock(727_274_001, fn);
  }
}
