// Throughput of the anonymiser on identifier-dense text (the adversarial corpus: at least 80
// identifier mentions and about 40 KB of text per patient, HTML progress entries among the
// notes) beside the existing, sparse synthetic corpus of the same size, in the same run and
// interleaved: each round runs both corpora from PostgreSQL into a PostgreSQL and into a
// SQLite destination with 2 pool threads. Reported per case: MB/s end to end (bytes read over
// the run's seconds), CPU seconds of the whole process per MB (the figure the shared machine's
// load moves least), and the load average at each start. Then the time from the command to
// the first destination row: `platform anonymise run` started as a child process, the
// destination polled every 20 ms. And the recall of that dense run, judged by the leak checker.
//
//   npm run build && node dist/scripts/bench/anonymise-dense.js [--patients 500] [--rounds 3] [--pg URL]
//
// `npm run bench:anonymise` runs it after the sparse benchmark (anonymise-throughput.ts).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { QueryTypes, Sequelize } from 'sequelize';
import { defaultPgUrl, describeMachine, flags, median, platformBin, postgresProblem, repoRoot } from './bench-support.js';
import { adversarialCorpus, adversarialDataDictionary, writeAdversarialDb } from '../adversarial-corpus.js';
import { clinicalDataDictionary, generateClinicalDb } from '../generate-clinical-db.js';
import { checkNote, emptyLeakReport, formatLeakReport } from '../leak-checker.js';
import { runAnonymisation, type RunSummary } from '../../plugins/anonymiser-crate/anonymisation-run.js';
import { ThreadPool } from '../../core/jobs/thread-pool.js';
import { createScratchPgDatabase, type ScratchPgDatabase } from '../scratch-pg-database.js';

/** The dense benchmark's settings. */
export interface DenseBenchOptions {
  patients: number;
  kb: number;
  mentions: number;
  rounds: number;
  workers: number;
  pg: string;
}

/** Default settings: 500 patients of about 42 KB and 90 mentions each (about 21 MB), 3 rounds, 2 threads. */
export const denseDefaults: DenseBenchOptions = { patients: 500, kb: 42, mentions: 90, rounds: 3, workers: 2, pg: process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl };

/** One measured combination of corpus and destination. */
export interface Case {
  corpus: 'dense' | 'sparse';
  destination: 'postgres' | 'sqlite';
}

/** A connection to a SQLite file (`sqlite:PATH`) or a PostgreSQL URL. */
export function sequelizeOf(url: string): Sequelize {
  return url.startsWith('sqlite:') ? new Sequelize({ dialect: 'sqlite', storage: url.slice('sqlite:'.length), logging: false }) : new Sequelize(url.replace(/^postgresql:/, 'postgres:'), { logging: false });
}

/** Runs the benchmark and prints its tables on stdout (progress on stderr). */
export async function denseBench(options: DenseBenchOptions): Promise<void> {
  const problem = await postgresProblem(options.pg);
  if (problem) throw new Error(`PostgreSQL is not reachable (${problem}); set PLATFORM_BENCH_PG_URL or --pg`);
  process.stderr.write(`${describeMachine()}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'anon-dense-'));
  const scratch: ScratchPgDatabase[] = [];
  const pgDb = async (label: string): Promise<ScratchPgDatabase> => {
    const db = await createScratchPgDatabase(options.pg, `anon_dense_${label}`);
    scratch.push(db);
    return db;
  };
  try {
    // Sources: the dense corpus, and the sparse synthetic one at the same size.
    const dense = adversarialCorpus({ patients: options.patients, mentionsPerPatient: options.mentions, bytesPerPatient: options.kb * 1000, notesPerPatient: 8, seed: 21 });
    const denseSource = await pgDb('src_dense');
    let s = sequelizeOf(denseSource.url);
    const denseWritten = await writeAdversarialDb(s, dense);
    await s.close();
    const sparseSource = await pgDb('src_sparse');
    s = sequelizeOf(sparseSource.url);
    const noteChars = 4000;
    const sparse = await generateClinicalDb(s, { patients: Math.max(2, Math.round(denseWritten.bytes / (20 * noteChars))), notesPerPatient: 20, noteChars, seed: 11, optOutEvery: 0 });
    await s.close();
    process.stderr.write(`dense: ${dense.patients.length} patients, ${denseWritten.notes} notes, ${(denseWritten.bytes / 1e6).toFixed(1)} MB; sparse: ${sparse.patients.length} patients, ${sparse.noteCount} notes, ${(sparse.textBytes / 1e6).toFixed(1)} MB\n`);
    writeFileSync(join(dir, 'dense.tsv'), adversarialDataDictionary());
    // Without the full-text index: building it is PostgreSQL's work, not the anonymiser's.
    writeFileSync(join(dir, 'sparse.tsv'), clinicalDataDictionary().replace(/\tscrub\t(.*)\tF\t/, '\tscrub\t$1\t\t'));
    for (const k of ['patient', 'master', 'change']) writeFileSync(join(dir, `${k}.key`), randomBytes(32).toString('hex'));
    const destinations = { postgres: await pgDb('dst'), secret: await pgDb('secret') };
    const configFor = (c: Case, sqliteFile: string): string => {
      const file = join(dir, `${c.corpus}-${c.destination}.ini`);
      writeFileSync(file, ['[anonymise]', `data_dictionary = ${c.corpus}.tsv`, c.destination === 'postgres' ? 'destination_url_env = BENCH_DST' : `destination_url = sqlite:${sqliteFile}`,
        'secret_map_url_env = BENCH_SECRET', 'patient_key_file = patient.key', 'master_key_file = master.key', 'change_key_file = change.key', `workers = ${options.workers}`,
        '[source:main]', `url_env = ${c.corpus === 'dense' ? 'BENCH_SRC_DENSE' : 'BENCH_SRC_SPARSE'}`].join('\n'));
      return file;
    };
    const env = { ...process.env, BENCH_SRC_DENSE: denseSource.url, BENCH_SRC_SPARSE: sparseSource.url, BENCH_DST: destinations.postgres.url, BENCH_SECRET: destinations.secret.url };
    const cases: Case[] = [{ corpus: 'sparse', destination: 'postgres' }, { corpus: 'dense', destination: 'postgres' }, { corpus: 'sparse', destination: 'sqlite' }, { corpus: 'dense', destination: 'sqlite' }];
    const results = new Map<string, Array<{ mbPerS: number; cpuPerMb: number; load: number; summary: RunSummary }>>();
    let lastDenseSqlite = '';
    for (let round = 1; round <= options.rounds; round++) {
      for (const c of cases) {
        const sqliteFile = join(dir, `dst-${c.corpus}-${round}.sqlite`);
        const configFile = configFor(c, sqliteFile);
        const load = loadavg()[0]!;
        const pool = new ThreadPool({ size: options.workers, memoryLimitMb: 1024 });
        const cpu = process.cpuUsage();
        let summary: RunSummary;
        try {
          summary = await runAnonymisation({ configFile, env, incremental: false, workers: options.workers, pool });
        } finally {
          await pool.shutdown();
        }
        const used = process.cpuUsage(cpu);
        const mb = summary.bytesRead / 1e6;
        const row = { mbPerS: mb / summary.seconds, cpuPerMb: (used.user + used.system) / 1e6 / mb, load, summary };
        const key = `${c.corpus} -> ${c.destination}`;
        results.set(key, [...(results.get(key) ?? []), row]);
        process.stderr.write(`round ${round} ${key}: ${mb.toFixed(1)} MB in ${summary.seconds.toFixed(1)} s = ${row.mbPerS.toFixed(1)} MB/s, ${row.cpuPerMb.toFixed(3)} CPU s/MB (load ${load.toFixed(1)})\n`);
        if (c.corpus === 'dense' && c.destination === 'sqlite') {
          if (lastDenseSqlite) rmSync(lastDenseSqlite, { force: true });
          lastDenseSqlite = sqliteFile;
        } else if (c.destination === 'sqlite') rmSync(sqliteFile, { force: true });
      }
    }

    // Recall of the last dense run, judged by what was planted.
    const report = emptyLeakReport();
    const out = sequelizeOf(`sqlite:${lastDenseSqlite}`);
    const written = new Map<string, string>();
    for (const table of ['note', 'progress']) {
      for (const r of await out.query<{ note_id: number; note_text: string }>(`SELECT note_id, note_text FROM ${table}`, { type: QueryTypes.SELECT })) written.set(`${table}:${r.note_id}`, r.note_text);
    }
    await out.close();
    for (const note of dense.notes()) checkNote(note, written.get(`${note.table}:${note.id}`) ?? '', report);

    // From the command to the first row, for each destination.
    const firstRow: string[] = [];
    for (const c of [{ corpus: 'dense', destination: 'sqlite' }, { corpus: 'dense', destination: 'postgres' }] as const) {
      const times: number[] = [];
      for (let i = 0; i < options.rounds; i++) times.push(await commandToFirstRow(c, configFor(c, join(dir, `first-${i}.sqlite`)), join(dir, `first-${i}.sqlite`), env, destinations.postgres.url));
      firstRow.push(`| command to first row, dense -> ${c.destination} | ${times.map((t) => `${t.toFixed(2)} s`).join(', ')} | median ${median(times).toFixed(2)} s |`);
    }

    const lines = ['| case | MB/s (each round) | median MB/s | CPU s per MB (median) | load at starts |', '| --- | --- | ---: | ---: | --- |'];
    for (const [key, rows] of results) {
      lines.push(`| ${key} | ${rows.map((r) => r.mbPerS.toFixed(1)).join(', ')} | **${median(rows.map((r) => r.mbPerS)).toFixed(1)}** | ${median(rows.map((r) => r.cpuPerMb)).toFixed(3)} | ${rows.map((r) => r.load.toFixed(1)).join(', ')} |`);
    }
    const ratio = (dst: string): string => (median(results.get(`dense -> ${dst}`)!.map((r) => r.mbPerS)) / median(results.get(`sparse -> ${dst}`)!.map((r) => r.mbPerS))).toFixed(2);
    process.stdout.write(`\nAnonymiser on identifier-dense text, ${options.workers} pool threads, source PostgreSQL, ${options.rounds} rounds interleaved\n${lines.join('\n')}\n` +
      `dense / sparse rate: ${ratio('postgres')} (PostgreSQL), ${ratio('sqlite')} (SQLite)\n\n| measure | runs | |\n| --- | --- | --- |\n${firstRow.join('\n')}\n\nRecall of the last dense run:\n${formatLeakReport(report)}\n`);
  } finally {
    for (const db of scratch) await db.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Seconds from starting `platform anonymise run` to the first row in the destination's `note`
 * or `progress` table; the run is left to finish.
 * @param bin - the `platform` entry to start (another build's, to compare in the same run)
 * @param stopAtFirstRow - end the run once its first row is there instead of letting it finish
 * @param onCpu - receives the CPU seconds the command had used when its first row was found
 */
export async function commandToFirstRow(c: Case, configFile: string, sqliteFile: string, env: NodeJS.ProcessEnv, pgUrl: string, bin = platformBin, stopAtFirstRow = false, onCpu?: (cpuSeconds: number | undefined) => void): Promise<number> {
  if (c.destination === 'postgres') {
    // Rows of an earlier run must not count as this one's.
    const db = sequelizeOf(pgUrl);
    await db.query('DROP TABLE IF EXISTS note, progress, patient, relative');
    await db.close();
  }
  const started = performance.now();
  const child = spawn(process.execPath, [bin, '--config', join(repoRoot, 'platform.ini'), 'anonymise', 'run', '--config', configFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  let done = false;
  void exited.then(() => (done = true));
  let seconds: number | undefined;
  let cpuSeconds: number | undefined;
  const probe = async (): Promise<boolean> => {
    const url = c.destination === 'sqlite' ? `sqlite:${sqliteFile}` : pgUrl;
    const db = sequelizeOf(url);
    try {
      for (const table of ['note', 'progress']) {
        const rows = await db.query(`SELECT 1 AS x FROM ${table} LIMIT 1`, { type: QueryTypes.SELECT }).catch(() => []);
        if (rows.length) return true;
      }
      return false;
    } finally {
      await db.close();
    }
  };
  // A full run drops and recreates the destination tables: rows found are this run's.
  while (seconds === undefined && !done) {
    if (await probe()) {
      seconds = (performance.now() - started) / 1000;
      cpuSeconds = child.pid === undefined ? undefined : processCpuSeconds(child.pid);
    } else await new Promise((r) => setTimeout(r, 20));
  }
  if (stopAtFirstRow && seconds !== undefined) child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0 && !(stopAtFirstRow && seconds !== undefined)) throw new Error(`platform anonymise run failed (${code}): ${stderr.slice(-2000)}`);
  rmSync(sqliteFile, { force: true });
  onCpu?.(cpuSeconds);
  return seconds ?? (performance.now() - started) / 1000;
}

/**
 * CPU seconds (user and system, all threads) a running process has used so far, from
 * /proc/PID/stat; undefined where there is no /proc. Unlike seconds on the clock, the load of
 * a shared machine hardly moves it.
 */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, the unit of /proc/PID/stat's times (100 on every common build). */
const CLOCK_TICKS = 100;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const usage = 'anonymise-dense [--patients 500] [--kb 42] [--mentions 90] [--rounds 3] [--workers 2] [--pg URL]';
  denseBench(flags({ ...denseDefaults }, usage)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
