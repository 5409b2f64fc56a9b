// Benchmark: how long the word index of package_search takes to build over N seeded datasets
// (default 100,000): PostgreSQL's GIN index over the tsvector (migration 0001), SQLite's
// FTS5 table (migration 0005), each built again from scratch R times; the figure is the
// median. The baseline in the same run is a plain B-tree index over the datasets' names on
// the same table, so the ratio says what the word index costs beyond any index.
//
// Usage: node dist/scripts/bench/search-index-build.js [--datasets 100000] [--runs 3]
//   [--databases sqlite,postgres] [--pg URL] [--reuse]
import { PlatformHost } from '../../core/host/platform-host.js';
import { DatabaseId } from '../../core/services/service-ids.js';
import { seedDatasets } from './seed-datasets.js';
import { createInstallation, defaultPgUrl, describeMachine, flags, machine, median, postgresProblem } from './bench-support.js';

const options = flags(
  { datasets: 100_000, runs: 3, databases: 'sqlite,postgres', pg: process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl, reuse: false },
  'usage: node dist/scripts/bench/search-index-build.js [--datasets N] [--runs R] [--databases sqlite,postgres] [--pg URL] [--reuse]',
);
const log = (line: string): void => void process.stderr.write(`${line}\n`);
log(`machine: ${describeMachine(machine())}`);

const rows: string[] = [];
for (const kind of options.databases.split(',').map((k) => k.trim()) as Array<'sqlite' | 'postgres'>) {
  if (kind === 'postgres' && (await postgresProblem(options.pg))) {
    log('PostgreSQL not reachable: skipped');
    continue;
  }
  const install = await createInstallation(kind, { pgUrl: options.pg, ...(options.reuse ? { keep: `${options.datasets}` } : {}) });
  try {
    const host = await PlatformHost.start({ configFile: install.configFile, env: {}, logLevel: 'warn' });
    try {
      const db = host.services.get(DatabaseId);
      if ((await db.models.Dataset.count()) === 0) {
        const seeded = await seedDatasets(db, { datasets: options.datasets });
        log(`${kind}: seeded ${seeded.datasets} datasets in ${seeded.seconds.toFixed(1)} s`);
      }
      const time = async (sql: string[]): Promise<number> => {
        const started = performance.now();
        for (const statement of sql) await db.sequelize.query(statement);
        return performance.now() - started;
      };
      const word: number[] = [];
      const plain: number[] = [];
      for (let run = 1; run <= options.runs; run++) {
        if (kind === 'postgres') {
          await db.sequelize.query('DROP INDEX datasets_search_vector');
          word.push(await time(['CREATE INDEX datasets_search_vector ON datasets USING GIN (search_vector)']));
        } else {
          await db.sequelize.query('DELETE FROM datasets_fts');
          word.push(await time(['INSERT INTO datasets_fts (id, search_text) SELECT id, search_text FROM datasets']));
        }
        plain.push(await time(['CREATE INDEX bench_datasets_name ON datasets (name)']));
        await db.sequelize.query('DROP INDEX bench_datasets_name');
        log(`${kind} run ${run}: word index ${word.at(-1)!.toFixed(0)} ms, name index ${plain.at(-1)!.toFixed(0)} ms`);
      }
      const label = kind === 'postgres' ? 'PostgreSQL GIN (tsvector)' : 'SQLite FTS5';
      rows.push(`| ${label} | ${options.datasets} | ${median(word).toFixed(0)} | ${median(plain).toFixed(0)} | ${(median(word) / median(plain)).toFixed(1)}x |`);
    } finally {
      await host.stop();
    }
  } finally {
    await install.dispose();
  }
}
console.log(`machine: ${describeMachine(machine())}\n\n| index | datasets | build ms (median of ${options.runs}) | B-tree on name, ms | ratio |\n| --- | ---: | ---: | ---: | ---: |\n${rows.join('\n')}`);
