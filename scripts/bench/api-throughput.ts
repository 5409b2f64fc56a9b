// Benchmark: package_show and package_search throughput and p50/p99 latency at 50
// concurrent connections over N seeded datasets (default 100,000), on SQLite and on
// PostgreSQL, side by side with a bare hono route returning a constant JSON body (the
// ceiling on this machine). `platform serve` and the bare server run as separate processes
// on free ports; this process is the load generator. Scenarios are interleaved round by
// round, so a disturbance on the machine hits all of them alike; each figure is the median
// of the rounds, and ratios are against the bare route measured in the same rounds.
//
// Usage: node dist/scripts/bench/api-throughput.js [--datasets 100000] [--duration 8]
//   [--runs 3] [--connections 50] [--warmup 2] [--requests N] [--reuse]
//   [--databases sqlite,postgres] [--only SCENARIOS] [--pg URL] [--cpu-prof DIR]
// PostgreSQL: PLATFORM_BENCH_PG_URL or --pg (default postgresql://postgres@127.0.0.1:5432/test);
// the run works in a schema of its own and drops it afterwards (kept with --reuse).
import { join, resolve } from 'node:path';
import { PlatformHost } from '../../core/host/platform-host.js';
import { ApiTokenServiceId, DatabaseId, UserServiceId } from '../../core/services/service-ids.js';
import { COMMON_WORD, SEED_WORDS, prng, seedDatasets, seededCatalogue } from './seed-datasets.js';
import { runLoad, type LoadResult } from './load-generator.js';
import {
  createInstallation, defaultPgUrl, describeMachine, flags, freePort, machine, median, platformBin, postgresProblem, repoRoot, startServer, type ChildServer,
} from './bench-support.js';

/** Scenario ids for --only. */
const SCENARIO_IDS = ['show', 'show-zipf', 'show-hot', 'search-q', 'search-q-auth', 'search-fq', 'search-fq-auth', 'search-facets-auth', 'search-facets-distinct'];
/** CKAN-style faceted search: q, three fq terms, four facet fields (what a catalogue's search page asks). */
const FACETS = encodeURIComponent('["organization","tags","license_id","res_format"]');
/** Exponent of the Zipf distribution of the catalogue-traffic package_show scenario. */
const ZIPF_S = 1;
/** Datasets in the "popular" set of the hot package_show scenario. */
const HOT_SET = 1000;

const usage = `usage: node dist/scripts/bench/api-throughput.js [options]
  --datasets N        datasets to seed (default 100000)
  --duration S        measured seconds per scenario and round (default 8)
  --requests N        measure a fixed number of requests instead of a duration
  --runs R            rounds; figures are the median (default 3)
  --connections C     concurrent connections (default 50)
  --warmup S          unmeasured seconds before each measurement (default 2)
  --reuse             keep the seeded databases and reuse them next time
  --databases LIST    sqlite,postgres (default both)
  --node-options "F"  Node.js flags for platform serve (as a deployment would set them)
  --only LIST         scenarios to run (the bare route always runs): ${SCENARIO_IDS.join(',')}
  --pg URL            PostgreSQL server (default $PLATFORM_BENCH_PG_URL or ${defaultPgUrl})
  --cpu-prof DIR      write a CPU profile of each platform serve process into DIR`;

const options = flags(
  { datasets: 100_000, duration: 8, requests: 0, runs: 3, connections: 50, warmup: 2, reuse: false, databases: 'sqlite,postgres', only: SCENARIO_IDS.join(','), pg: process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl, cpuProf: '', nodeOptions: '' },
  usage,
);

type Kind = 'sqlite' | 'postgres';

/** One scenario on one server. */
interface Scenario {
  id: string;
  label: string;
  kind: Kind | 'bare';
  server: () => ChildServer;
  path: () => string;
  headers?: Record<string, string>;
}

/** The median figures of a scenario. */
interface Row {
  label: string;
  kind: Kind | 'bare';
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** The server process's CPU time per request (Linux): what the machine's noise moves least. */
  serverCpuUs: number;
  requests: number;
  errors: number;
  firstError?: string;
}

const host = machine();
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const started = performance.now();
log(`machine: ${describeMachine(host)}`);

const only = new Set(options.only.split(',').map((id) => id.trim()).filter(Boolean));
for (const id of only) if (!SCENARIO_IDS.includes(id)) throw new Error(`--only: unknown scenario "${id}"; use ${SCENARIO_IDS.join(', ')}`);
const kinds = options.databases.split(',').map((k) => k.trim()).filter(Boolean) as Kind[];
for (const kind of kinds) if (kind !== 'sqlite' && kind !== 'postgres') throw new Error(`--databases: unknown database "${kind}"; use sqlite, postgres or both`);
if (kinds.includes('postgres')) {
  const problem = await postgresProblem(options.pg);
  if (problem) {
    log(`PostgreSQL at ${new URL(options.pg).host} is not reachable (${problem}): skipping PostgreSQL; set PLATFORM_BENCH_PG_URL to measure it`);
    kinds.splice(kinds.indexOf('postgres'), 1);
  }
}

const bare = await startServer([join(repoRoot, 'dist', 'scripts', 'bench', 'bare-server.js')], { PORT: String(await freePort()) });
const rows: Row[] = [];
try {
  for (const kind of kinds) rows.push(...(await benchDatabase(kind)));
} finally {
  await bare.stop();
}
printResults(rows);

/** Seeds (or reuses) one database, serves it, and measures its scenarios interleaved with the bare route. */
async function benchDatabase(kind: Kind): Promise<Row[]> {
  const install = await createInstallation(kind, { pgUrl: options.pg, ...(options.reuse ? { keep: `${options.datasets}` } : {}) });
  log(`${kind}: ${install.where}${install.reused ? ' (reused)' : ''}`);
  try {
    const platform = await PlatformHost.start({ configFile: install.configFile, env: {}, logLevel: 'warn' });
    let catalogue: { publicNames: string[]; organizations: string[]; datasets: number };
    let token: string;
    try {
      const db = platform.services.get(DatabaseId);
      const existing = await db.models.Dataset.count();
      if (existing === 0) {
        const seeded = await seedDatasets(db, { datasets: options.datasets, progress: (n) => process.stderr.write(`\r${kind}: seeding ${n}/${options.datasets}`) });
        log(`\r${kind}: seeded ${seeded.datasets} datasets and ${seeded.resources} resources in ${seeded.seconds.toFixed(1)} s`);
        catalogue = seeded;
      } else {
        catalogue = await seededCatalogue(db);
        if (catalogue.datasets !== options.datasets) throw new Error(`${install.where} holds ${catalogue.datasets} datasets, not ${options.datasets}; remove ${install.dir}${kind === 'postgres' ? ' and drop the schema' : ''} and run again`);
        log(`${kind}: reusing ${catalogue.datasets} seeded datasets`);
      }
      // A logged-in caller skips the anonymous read cache: what a real search costs.
      const reader = await platform.services.get(UserServiceId).create({ name: `bench-reader-${process.pid}-${Date.now()}`, email: 'reader@example.org' });
      token = (await platform.services.get(ApiTokenServiceId).create(reader, 'bench')).token;
    } finally {
      await platform.stop();
    }

    const port = await freePort();
    const profile = [...(options.cpuProf ? [`--cpu-prof`, `--cpu-prof-dir=${resolve(options.cpuProf)}`, `--cpu-prof-name=serve-${kind}.cpuprofile`] : []), ...options.nodeOptions.split(/\s+/).filter(Boolean)];
    const server = await startServer([platformBin, '--config', install.configFile, 'serve'], { PLATFORM__HTTP__PORT: String(port) }, profile);
    try {
      const random = prng(7);
      // Every public name in a shuffled order: "show" walks it (each name read once, so every
      // read misses the cache until the walk wraps, by when the first names are long evicted)
      // and "show-zipf" draws from it by rank, as a catalogue's traffic goes (a few datasets
      // read often, most rarely).
      const shuffled = shuffle(catalogue.publicNames, random);
      let walked = 0;
      const nextName = (): string => shuffled[walked++ % shuffled.length]!;
      const zipf = zipfSampler(shuffled.length, ZIPF_S);
      const pickZipf = (): string => shuffled[zipf(random())]!;
      const pickOrg = (): string => catalogue.organizations[Math.floor(random() * catalogue.organizations.length)]!;
      const pickWord = (): string => SEED_WORDS[Math.floor(random() * SEED_WORDS.length)]!;
      const auth = { authorization: token };
      const hot = catalogue.publicNames.slice(0, HOT_SET);
      const pickHot = (): string => hot[Math.floor(random() * hot.length)]!;
      const search = '/api/3/action/package_search';
      const every: Scenario[] = [
        { id: 'bare', label: 'bare hono route (ceiling)', kind: 'bare', server: () => bare, path: () => '/bare' },
        { id: 'show', label: 'package_show, each public name once (cache misses)', kind, server: () => server, path: () => `/api/3/action/package_show?id=${nextName()}` },
        { id: 'show-zipf', label: `package_show, Zipf (s = ${ZIPF_S}) over all public names`, kind, server: () => server, path: () => `/api/3/action/package_show?id=${pickZipf()}` },
        { id: 'show-hot', label: `package_show, ${HOT_SET} popular names (read cache)`, kind, server: () => server, path: () => `/api/3/action/package_show?id=${pickHot()}` },
        { id: 'search-q', label: `package_search q=${COMMON_WORD} rows=10, anonymous (read cache)`, kind, server: () => server, path: () => `${search}?q=${COMMON_WORD}&rows=10` },
        { id: 'search-q-auth', label: `package_search q=${COMMON_WORD} rows=10, logged in (no cache)`, kind, server: () => server, path: () => `${search}?q=${COMMON_WORD}&rows=10`, headers: auth },
        { id: 'search-fq', label: 'package_search fq=organization:X rows=10, anonymous (read cache)', kind, server: () => server, path: () => `${search}?fq=organization:${pickOrg()}&rows=10` },
        { id: 'search-fq-auth', label: 'package_search fq=organization:X rows=10, logged in (no cache)', kind, server: () => server, path: () => `${search}?fq=organization:${pickOrg()}&rows=10`, headers: auth },
        {
          id: 'search-facets-auth', label: `package_search q=${COMMON_WORD}, fq organization:X -tags:cell license_id:(CC0-1.0 OR CC-BY-4.0), 4 facet fields, logged in (no cache)`, kind, server: () => server, headers: auth,
          path: () => `${search}?q=${COMMON_WORD}&fq=${encodeURIComponent(`organization:${pickOrg()} -tags:cell license_id:(CC0-1.0 OR CC-BY-4.0)`)}&facet.field=${FACETS}&rows=10`,
        },
        {
          // The same request with q drawn from every seeded word: about 12,000 different
          // searches, so nearly every one misses the read cache (what a search costs the first time).
          id: 'search-facets-distinct', label: 'the same with q drawn from every seeded word (read cache misses), logged in', kind, server: () => server, headers: auth,
          path: () => `${search}?q=${pickWord()}&fq=${encodeURIComponent(`organization:${pickOrg()} -tags:cell license_id:(CC0-1.0 OR CC-BY-4.0)`)}&facet.field=${FACETS}&rows=10`,
        },
      ];
      const scenarios = every.filter((s) => s.id === 'bare' || only.has(s.id));
      // Each scenario must answer before it is measured.
      for (const s of scenarios) {
        const response = await fetch(`${s.server().url}${s.path()}`, { headers: s.headers ?? {} });
        const body = (await response.json()) as { success?: boolean; result?: { count?: number } };
        if (!response.ok || body.success === false) throw new Error(`${kind}: ${s.label} answered ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
        if (body.result?.count !== undefined) log(`${kind}: ${s.label}: ${body.result.count} matches`);
      }
      const results = new Map<Scenario, LoadResult[]>(scenarios.map((s) => [s, []]));
      for (let round = 1; round <= options.runs; round++) {
        for (const s of scenarios) {
          const result = await runLoad(s.server().url, s.path, {
            connections: options.connections,
            seconds: options.duration,
            warmupSeconds: options.warmup,
            ...(options.requests ? { requests: options.requests } : {}),
            ...(s.headers ? { headers: s.headers } : {}),
            ...(s.server().child.pid !== undefined ? { serverPid: s.server().child.pid } : {}),
          });
          results.get(s)!.push(result);
          log(`${kind} round ${round}/${options.runs}: ${s.label}: ${result.perSecond.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, server CPU ${result.serverCpuUsPerRequest?.toFixed(0) ?? '?'} µs/request${result.errors ? `, ${result.errors} errors (${result.firstError ?? ''})` : ''}`);
        }
      }
      return scenarios.map((s) => {
        const runs = results.get(s)!;
        const errors = runs.reduce((a, r) => a + r.errors, 0);
        const firstError = runs.find((r) => r.firstError)?.firstError;
        return {
          label: s.kind === 'bare' ? `${s.label}, during ${kind} rounds` : s.label,
          kind: s.kind,
          perSecond: median(runs.map((r) => r.perSecond)),
          p50Ms: median(runs.map((r) => r.p50Ms)),
          p99Ms: median(runs.map((r) => r.p99Ms)),
          serverCpuUs: median(runs.map((r) => r.serverCpuUsPerRequest ?? NaN)),
          requests: runs.reduce((a, r) => a + r.requests, 0),
          errors,
          ...(firstError ? { firstError } : {}),
        };
      });
    } finally {
      await server.stop();
    }
  } finally {
    await install.dispose();
  }
}

/** Prints the table (markdown) and whether the issue's aims are met. */
function printResults(all: Row[]): void {
  const out: string[] = [];
  const measure = options.requests ? `${options.requests} requests` : `${options.duration} s`;
  out.push('', `${options.datasets} datasets, ${options.connections} connections, ${options.runs} rounds of ${measure} per scenario (after ${options.warmup} s warm-up), median of rounds; ${((performance.now() - started) / 60_000).toFixed(1)} min in all`);
  out.push(`machine: ${describeMachine(host)}`, '');
  out.push('| database | scenario | req/s | p50 ms | p99 ms | vs bare route | server CPU µs/request | errors |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const aims: string[] = [];
  let ceiling = NaN;
  for (const r of all) {
    if (r.kind === 'bare') ceiling = r.perSecond;
    const ratio = (100 * r.perSecond) / ceiling;
    out.push(`| ${r.kind === 'bare' ? '-' : r.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} | ${r.label} | ${r.perSecond.toFixed(0)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${ratio.toFixed(1)}% | ${Number.isNaN(r.serverCpuUs) ? '-' : r.serverCpuUs.toFixed(0)} | ${r.errors} |`);
    if (r.label.startsWith('package_show')) aims.push(`${r.label} on ${r.kind}, >= 30% of the bare route: ${ratio.toFixed(1)}% -> ${ratio >= 30 ? 'met' : 'MISSED'}`);
    if (r.kind === 'postgres' && r.label.startsWith('package_search')) aims.push(`${r.label} on PostgreSQL, p50 < 50 ms: ${r.p50Ms.toFixed(1)} ms -> ${r.p50Ms < 50 ? 'met' : 'MISSED'}`);
  }
  out.push('', 'Aims:', ...aims.map((a) => `- ${a}`));
  const failed = all.filter((r) => r.errors);
  if (failed.length) out.push('', 'Errors:', ...failed.map((r) => `- ${r.label}: ${r.errors} (first: ${r.firstError ?? '?'})`));
  process.stdout.write(`${out.join('\n')}\n`);
}

/** A copy of `items` in random order (Fisher-Yates). */
function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Maps a uniform number in [0, 1) to a rank in [0, n) with probability proportional to 1 / (rank + 1)^s. */
function zipfSampler(n: number, s: number): (u: number) => number {
  const cumulative = new Float64Array(n);
  let sum = 0;
  for (let rank = 0; rank < n; rank++) cumulative[rank] = sum += 1 / (rank + 1) ** s;
  return (u) => {
    const target = u * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}
