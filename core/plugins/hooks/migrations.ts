// Migrations: database changes of core and of each plugin, applied in order by umzug.
import type { QueryInterface, Sequelize } from 'sequelize';
import { hookId } from '../hook-id.js';

/** What a migration step receives. */
export interface MigrationContext {
  readonly queryInterface: QueryInterface;
  readonly sequelize: Sequelize;
  readonly dialect: 'sqlite' | 'postgres';
}

/** One step. Names sort in the order they apply, e.g. `0001-create-deliveries`. */
export interface Migration {
  readonly name: string;
  up(ctx: MigrationContext): Promise<void>;
  down?(ctx: MigrationContext): Promise<void>;
}

/**
 * A plugin's migrations. Dispatch: **registry** keyed by the contributing plugin; each
 * owner's steps are recorded as `<owner>:<name>`. Core's run first, then each plugin's in
 * plugin order. No `sync()` outside tests.
 */
export interface MigrationSet {
  readonly migrations: readonly Migration[];
}

/** Service identifier of the {@link MigrationSet} hook. */
export const Migrations = hookId<MigrationSet>('Migrations');
