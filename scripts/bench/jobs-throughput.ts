// Jobs benchmark: throughput of no-op jobs (enqueue N, then drain with W worker processes of
// C concurrent jobs each) and the latency from enqueue to handler start of a single job on an
// idle queue, for the platform's queue, pg-boss and graphile-worker, side by side in one run,
// on the same PostgreSQL database (each in its own tables).
//
//   npm run bench:jobs -- [--jobs 20000] [--runs 3] [--workers 1,4] [--concurrency 10]
//                         [--latency-samples 30] [--pg-boss-seconds 20] [--systems a,b,c]
//
// The workers are separate processes (scripts/bench/jobs-bench-worker.ts) that load and
// connect before the clock starts. The drain is timed from `go` until the last job is recorded
// as done in the database. pg-boss 10 runs as its documentation recommends for throughput:
// --pg-boss-subscriptions `work()` calls per process (default: --concurrency), each fetching
// --pg-boss-batch jobs per poll (default 100) at the shortest polling interval (0.5 s); a
// subscription waits out the interval after each fetch, so its drain may be cut after
// --pg-boss-seconds and its rate is then what it completed by that time.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { makeWorkerUtils, runMigrations, Logger as GraphileLogger } from 'graphile-worker';
import { PlatformHost } from '../../core/host/platform-host.js';
import { JobQueueId } from '../../core/services/service-ids.js';
import { LATENCY, NOOP, benchJobsPlugin } from './jobs-bench-plugin.js';

const SYSTEMS = ['platform', 'pg-boss', 'graphile-worker'] as const;
type System = (typeof SYSTEMS)[number];

const { values: args } = parseArgs({
  options: {
    jobs: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '1,4' },
    concurrency: { type: 'string', default: '10' },
    'latency-samples': { type: 'string', default: '30' },
    'pg-boss-seconds': { type: 'string', default: '20' },
    'pg-boss-batch': { type: 'string', default: '100' },
    'pg-boss-subscriptions': { type: 'string' },
    systems: { type: 'string', default: SYSTEMS.join(',') },
    pg: { type: 'string', default: process.env.PLATFORM_BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test' },
  },
});
const jobs = Number(args.jobs);
const runs = Number(args.runs);
const workerCounts = args.workers.split(',').map(Number);
const concurrency = Number(args.concurrency);
const latencySamples = Number(args['latency-samples']);
const pgBossSeconds = Number(args['pg-boss-seconds']);
const pgBossBatch = Number(args['pg-boss-batch']);
const pgBossSubscriptions = Number(args['pg-boss-subscriptions'] ?? args.concurrency);
const systems = args.systems.split(',') as System[];
const workerScript = fileURLToPath(new URL('./jobs-bench-worker.js', import.meta.url));
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]): number => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const quantile = (xs: number[], q: number): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : NaN);

// One database for all three, created fresh.
const dbName = `platform_bench_jobs_${process.pid}`;
const admin = new pg.Client({ connectionString: args.pg });
await admin.connect();
await admin.query(`CREATE DATABASE "${dbName}"`);
const url = new URL(args.pg);
url.pathname = `/${dbName}`;
const pgUrl = url.toString();
const client = new pg.Client({ connectionString: pgUrl });
await client.connect();
const dir = mkdtempSync(join(tmpdir(), 'platform-bench-jobs-'));
const configFile = join(dir, 'platform.ini');
writeFileSync(configFile, ['[platform]', 'plugins = bench-jobs', 'data_dir = ./data', '[db]', `url = ${pgUrl}`, '[logging]', 'level = warn', ''].join('\n'));

interface Child {
  process: ChildProcess;
  ran: number;
  ready: Promise<void>;
  stopped: Promise<void>;
  latency?: (sample: { sentAt: number; startedAt: number }) => void;
}

function startWorker(system: System): Child {
  const child = fork(workerScript, [system, pgUrl, String(concurrency), configFile, String(pgBossBatch), String(pgBossSubscriptions)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const c: Partial<Child> & { process: ChildProcess; ran: number } = { process: child, ran: 0 };
  c.ready = new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type: string; count?: number; sentAt?: number; startedAt?: number }) => {
      if (m.type === 'ready') resolve();
      if (m.type === 'ran') c.ran = m.count!;
      if (m.type === 'started') c.latency?.({ sentAt: m.sentAt!, startedAt: m.startedAt! });
    });
    child.once('exit', (code) => reject(new Error(`${system} worker exited (${code}) before it was ready`)));
  });
  c.stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return c as Child;
}

async function stopWorkers(children: Child[]): Promise<void> {
  for (const c of children) c.process.send({ type: 'stop' });
  await Promise.race([Promise.all(children.map((c) => c.stopped)), sleep(15_000)]);
  for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL');
}

/** Enqueues, counts what is left, and clears one system's queue. */
interface Adapter {
  setup(): Promise<void>;
  enqueue(n: number): Promise<void>;
  enqueueOne(payload: Record<string, unknown>): Promise<void>;
  remaining(): Promise<number>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

async function adapter(system: System): Promise<Adapter> {
  const count = async (sql: string): Promise<number> => Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
  if (system === 'platform') {
    const plugin = benchJobsPlugin();
    const host = await PlatformHost.start({ configFile, inlinePlugins: new Map([[plugin.name, plugin]]), logLevel: 'warn' });
    const queue = host.services.get(JobQueueId);
    return {
      setup: async () => undefined,
      enqueue: async (n) => void (await queue.enqueueMany(Array.from({ length: n }, (_v, i) => ({ type: NOOP, payload: { i } })))),
      enqueueOne: async (payload) => void (await queue.enqueue(LATENCY, payload)),
      remaining: () => count(`SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')`),
      clear: async () => void (await client.query('DELETE FROM jobs')),
      close: () => host.stop(),
    };
  }
  if (system === 'pg-boss') {
    const boss = new PgBoss({ connectionString: pgUrl, schema: 'pgboss', max: 4, supervise: false, schedule: false });
    boss.on('error', (error: Error) => console.error(error.message));
    await boss.start();
    return {
      setup: async () => {
        await boss.createQueue(NOOP);
        await boss.createQueue(LATENCY);
      },
      enqueue: async (n) => {
        for (let i = 0; i < n; i += 1000) await boss.insert(Array.from({ length: Math.min(1000, n - i) }, (_v, k) => ({ name: NOOP, data: { i: i + k } })));
      },
      enqueueOne: async (payload) => void (await boss.send(LATENCY, payload)),
      remaining: () => count(`SELECT COUNT(*) AS n FROM pgboss.job WHERE state IN ('created', 'retry', 'active')`),
      clear: async () => void (await client.query('DELETE FROM pgboss.job')),
      close: () => boss.stop({ graceful: false, wait: true }),
    };
  }
  await runMigrations({ connectionString: pgUrl, logger: new GraphileLogger(() => () => undefined) });
  const utils = await makeWorkerUtils({ connectionString: pgUrl, logger: new GraphileLogger(() => () => undefined) });
  return {
    setup: async () => undefined,
    enqueue: async (n) => {
      for (let i = 0; i < n; i += 1000) await utils.addJobs(Array.from({ length: Math.min(1000, n - i) }, (_v, k) => ({ identifier: NOOP, payload: { i: i + k } })));
    },
    enqueueOne: async (payload) => void (await utils.addJob(LATENCY, payload)),
    remaining: () => count('SELECT COUNT(*) AS n FROM graphile_worker._private_jobs'),
    clear: async () => void (await client.query('DELETE FROM graphile_worker._private_jobs')),
    close: async () => utils.release(),
  };
}

const limitFor = (system: System): number => (system === 'pg-boss' ? pgBossSeconds * 1000 : 300_000);

interface DrainResult {
  enqueuePerSecond: number;
  jobsPerSecond: number;
  completed: number;
  cut: boolean;
}

async function drain(system: System, a: Adapter, workers: number): Promise<DrainResult> {
  await a.clear();
  await client.query('VACUUM ANALYZE');
  const t0 = now();
  await a.enqueue(jobs);
  const enqueueMs = now() - t0;
  const children = Array.from({ length: workers }, () => startWorker(system));
  await Promise.all(children.map((c) => c.ready));
  const limitMs = limitFor(system);
  const start = now();
  for (const c of children) c.process.send({ type: 'go' });
  let cut = false;
  // Wait until the handlers ran every job, then until the database says they are all done.
  while (children.reduce((s, c) => s + c.ran, 0) < jobs) {
    if (now() - start > limitMs) {
      cut = true;
      break;
    }
    await sleep(5);
  }
  let left = cut ? 0 : await a.remaining();
  while (!cut && left > 0) {
    await sleep(2);
    left = await a.remaining();
  }
  const elapsed = now() - start;
  const completed = cut ? jobs - (await a.remaining()) : jobs;
  await stopWorkers(children);
  return { enqueuePerSecond: (jobs / enqueueMs) * 1000, jobsPerSecond: (completed / elapsed) * 1000, completed, cut };
}

async function latency(system: System, a: Adapter): Promise<number[]> {
  await a.clear();
  const [child] = [startWorker(system)];
  await child!.ready;
  child!.process.send({ type: 'go' });
  await sleep(1500);
  const samples: number[] = [];
  for (let i = 0; i < latencySamples; i++) {
    const seen = new Promise<{ sentAt: number; startedAt: number }>((resolve) => (child!.latency = resolve));
    await a.enqueueOne({ sentAt: now() });
    const sample = await Promise.race([seen, sleep(5000).then(() => undefined)]);
    if (sample) samples.push(sample.startedAt - sample.sentAt);
    await sleep(150 + Math.random() * 150);
  }
  await stopWorkers([child!]);
  return samples;
}

const results: Record<string, { drains: Record<number, DrainResult[]>; latency: number[] }> = {};
const loads: number[] = [];
try {
  // Every system stays set up, and the contenders take turns run by run (the order rotating),
  // so a change in the machine's load falls on all of them alike.
  const adapters = new Map<System, Adapter>();
  for (const system of systems) {
    const a = await adapter(system);
    await a.setup();
    adapters.set(system, a);
    results[system] = { drains: {}, latency: [] };
  }
  for (let r = 0; r < runs; r++) {
    for (const workers of workerCounts) {
      const order = systems.map((_s, i) => systems[(i + r) % systems.length]!);
      for (const system of order) {
        loads.push(loadavg()[0]!);
        const result = await drain(system, adapters.get(system)!, workers);
        (results[system]!.drains[workers] ??= []).push(result);
        console.error(`${system} ${workers} worker(s) run ${r + 1}: ${Math.round(result.jobsPerSecond)} jobs/s${result.cut ? ` (cut after ${Math.round(limitFor(system) / 1000)} s, ${result.completed} done)` : ''}, enqueue ${Math.round(result.enqueuePerSecond)} jobs/s (load ${loadavg()[0]!.toFixed(1)})`);
      }
    }
  }
  for (const system of systems) {
    results[system]!.latency = await latency(system, adapters.get(system)!);
    console.error(`${system} latency: median ${median(results[system]!.latency).toFixed(1)} ms`);
    await adapters.get(system)!.close();
  }
} finally {
  await client.end();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}

// Markdown tables, for docs/benchmarks.md.
const lines: string[] = [];
lines.push(`Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; PostgreSQL ${(await (async () => {
  const c = new pg.Client({ connectionString: args.pg });
  await c.connect();
  const v = (await c.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  await c.end();
  return v;
})())} on the same machine.`);
lines.push(`Command: \`npm run bench:jobs -- --jobs ${jobs} --runs ${runs} --workers ${workerCounts.join(',')} --concurrency ${concurrency} --pg-boss-batch ${pgBossBatch} --pg-boss-subscriptions ${pgBossSubscriptions}\`; median of ${runs} runs.`);
lines.push('');
lines.push(`Load average (1 min) during the runs: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}. Ratios are the median of per-run ratios (the runs taken in turn), with their range.`);
lines.push('');
lines.push(`| queue | workers × concurrency | drain jobs/s (range) | vs pg-boss | vs graphile-worker | enqueue jobs/s (range) | enqueue vs graphile-worker |`);
lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
const spread = (xs: number[]): string => `${Math.round(median(xs))} (${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))})`;
const paired = (mine: number[], theirs: number[] | undefined): string => {
  if (!theirs) return '-';
  const ratios = mine.map((m, i) => m / theirs[i]!).filter(Number.isFinite);
  return `${(median(ratios) * 100).toFixed(0)}% (${(Math.min(...ratios) * 100).toFixed(0)}-${(Math.max(...ratios) * 100).toFixed(0)}%)`;
};
for (const workers of workerCounts) {
  for (const system of systems) {
    const d = results[system]!.drains[workers]!;
    const drains = d.map((x) => x.jobsPerSecond);
    const enqueues = d.map((x) => x.enqueuePerSecond);
    const cut = d.some((x) => x.cut) ? ' (cut)' : '';
    const other = (name: string, key: 'jobsPerSecond' | 'enqueuePerSecond'): number[] | undefined => (results[name] && name !== system ? results[name]!.drains[workers]!.map((x) => x[key]) : undefined);
    lines.push(`| ${system} | ${workers} × ${concurrency} | ${spread(drains)}${cut} | ${paired(drains, other('pg-boss', 'jobsPerSecond'))} | ${paired(drains, other('graphile-worker', 'jobsPerSecond'))} | ${spread(enqueues)} | ${paired(enqueues, other('graphile-worker', 'enqueuePerSecond'))} |`);
  }
}
lines.push('');
lines.push(`| queue | enqueue → start, median ms | p90 ms | samples |`);
lines.push('| --- | ---: | ---: | ---: |');
for (const system of systems) {
  const l = results[system]!.latency;
  lines.push(`| ${system} | ${median(l).toFixed(1)} | ${quantile(l, 0.9).toFixed(1)} | ${l.length} |`);
}
console.log(lines.join('\n'));
