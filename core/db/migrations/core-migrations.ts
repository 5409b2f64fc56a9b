// The ordered list of core's migrations.
import type { Migration } from '../../plugins/hooks/migrations.js';
import { coreTables } from './0001-core-tables.js';
import { jobsTables } from './0002-jobs.js';
import { jobProgress } from './0003-job-progress.js';
import { datasetsByOrganisation } from './0004-datasets-by-organisation.js';
import { rankedSearch } from './0005-ranked-search.js';
import { webSessions } from './0012-web-sessions.js';
import { inspectReports } from './0013-inspect-reports.js';

/** Core's migrations, oldest first. */
export const coreMigrations: readonly Migration[] = [coreTables, jobsTables, jobProgress, datasetsByOrganisation, rankedSearch, webSessions, inspectReports];
