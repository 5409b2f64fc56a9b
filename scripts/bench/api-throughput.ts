// Benchmark: package_show and package_search throughput and p50/p99 latency at 50
// concurrent connections over N datasets (default 100,000), on SQLite and PostgreSQL, side
// by side with a bare hono route returning a constant JSON body (the ceiling here).
// Usage: node dist/scripts/bench/api-throughput.js [--datasets N] [--seconds S] [--runs R] [--connections C]
import { join } from 'node:path';
import { PlatformHost } from '../../core/host/platform-host.js';
import { ApiTokenServiceId, DatabaseId, UserServiceId } from '../../core/services/service-ids.js';
import { seedDatasets, prng } from './seed-datasets.js';
import { median, runLoad, type LoadResult } from './load-generator.js';
import { createInstallation, flags, machine, platformBin, postgresReachable, repoRoot, startServer } from './bench-support.js';

const options = flags({ datasets: 100_000, seconds: 8, runs: 3, connections: 50, pg: process.env.PLATFORM_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test' });

interface Row {
  scenario: string;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

async function measure(label: string, origin: string, path: () => string, headers: Record<string, string> = {}): Promise<Row> {
  const runs: LoadResult[] = [];
  for (let i = 0; i < options.runs; i++) runs.push(await runLoad(origin, path, { connections: options.connections, seconds: options.seconds, warmupSeconds: i === 0 ? 2 : 0, headers }));
  const row = { scenario: label, perSecond: median(runs.map((r) => r.perSecond)), p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)), errors: runs.reduce((a, r) => a + r.errors, 0) };
  process.stderr.write(`${label}: ${row.perSecond.toFixed(0)} req/s, p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms, ${row.errors} errors\n`);
  return row;
}

const rows: Row[] = [];
process.stderr.write(`machine: ${machine()}\n`);
const bare = await startServer([join(repoRoot, 'dist', 'scripts', 'bench', 'bare-server.js')]);
try {
  rows.push(await measure('bare hono route (ceiling)', bare.url, () => '/bare'));
} finally {
  await bare.stop();
}

const kinds: Array<'sqlite' | 'postgres'> = ['sqlite'];
if (await postgresReachable(options.pg)) kinds.push('postgres');
else process.stderr.write(`PostgreSQL at ${new URL(options.pg).host} is not reachable: measuring SQLite only\n`);

for (const kind of kinds) {
  const install = await createInstallation(kind, options.pg);
  try {
    const host = await PlatformHost.start({ configFile: install.configFile, env: {}, logLevel: 'warn' });
    const seeded = Date.now();
    const { names, orgs } = await seedDatasets(host.services.get(DatabaseId), options.datasets);
    const [publicRows] = (await host.services.get(DatabaseId).sequelize.query(`SELECT name FROM datasets WHERE private = :f LIMIT 20000`, { replacements: { f: false } })) as [Array<{ name: string }>, unknown];
    process.stderr.write(`${kind}: seeded ${names.length} datasets in ${((Date.now() - seeded) / 1000).toFixed(1)} s\n`);
    // A logged-in caller bypasses the anonymous search cache: the cost of a real search.
    const reader = await host.services.get(UserServiceId).create({ name: 'bench-reader', email: 'reader@example.org' });
    const token = (await host.services.get(ApiTokenServiceId).create(reader, 'bench')).token;
    await host.stop();
    const server = await startServer([platformBin, '--config', install.configFile, 'serve']);
    try {
      const random = prng(7);
      const publicNames = publicRows.map((r) => r.name);
      rows.push(await measure(`package_show (${kind})`, server.url, () => `/api/3/action/package_show?id=${publicNames[Math.floor(random() * publicNames.length)]}`));
      rows.push(await measure(`package_search q (${kind})`, server.url, () => `/api/3/action/package_search?q=blood&rows=10`));
      rows.push(await measure(`package_search fq (${kind})`, server.url, () => `/api/3/action/package_search?fq=organization:${orgs[Math.floor(random() * orgs.length)]}&rows=10`));
      rows.push(await measure(`package_search q, uncached (${kind})`, server.url, () => `/api/3/action/package_search?q=blood&rows=10`, { authorization: token }));
    } finally {
      await server.stop();
    }
  } finally {
    await install.dispose();
  }
}

const ceiling = rows[0]!.perSecond;
process.stdout.write(`\n${options.datasets} datasets, ${options.connections} connections, ${options.seconds} s x ${options.runs} runs (median); machine: ${machine()}\n\n`);
process.stdout.write('| scenario | req/s | p50 ms | p99 ms | vs bare route | errors |\n| --- | ---: | ---: | ---: | ---: | ---: |\n');
for (const r of rows) process.stdout.write(`| ${r.scenario} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${((100 * r.perSecond) / ceiling).toFixed(0)}% | ${r.errors} |\n`);
