// The ordered list of core's migrations.
import type { Migration } from '../../plugins/hooks/migrations.js';
import { coreTables } from './0001-core-tables.js';

/** Core's migrations, oldest first. */
export const coreMigrations: readonly Migration[] = [coreTables];
