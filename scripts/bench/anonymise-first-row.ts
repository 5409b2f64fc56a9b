// Seconds from the command to the first destination row, `platform anonymise run` on the
// identifier-dense corpus (the adversarial corpus, as anonymise-dense.ts builds it) into SQLite
// and into PostgreSQL, for this build and, when --baseline names another built checkout, for
// that one too, interleaved run by run so that both see the same machine load. Each run starts
// the command as a child process, polls the destination every 20 ms and ends the run at its
// first row. Reported: each run, the CPU seconds the command had used by then (all its
// threads; the figure a shared machine's load moves least),
// the median, the load average at each start and the ratio to the baseline.
//
//   npm run build && node dist/scripts/bench/anonymise-first-row.js [--runs 5] [--patients 500] [--baseline DIR] [--pg URL]
//
// DIR is the root of another checkout with its own `npm run build` done (its bin/platform.js).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { defaultPgUrl, describeMachine, flags, median, platformBin, postgresProblem } from './bench-support.js';
import { adversarialCorpus, adversarialDataDictionary, writeAdversarialDb } from '../adversarial-corpus.js';
import { createScratchPgDatabase, type ScratchPgDatabase } from '../scratch-pg-database.js';
import { commandToFirstRow, sequelizeOf, type Case } from './anonymise-dense.js';

/** The benchmark's settings. */
export interface FirstRowOptions {
  runs: number;
  patients: number;
  workers: number;
  /** Root of another built checkout to compare with ('' for none). */
  baseline: string;
  pg: string;
}

const defaults: FirstRowOptions = { runs: 5, patients: 500, workers: 2, baseline: '', pg: process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl };

/** Runs the benchmark and prints its table on stdout (progress on stderr). */
export async function firstRowBench(options: FirstRowOptions): Promise<void> {
  const problem = await postgresProblem(options.pg);
  if (problem) throw new Error(`PostgreSQL is not reachable (${problem}); set PLATFORM_BENCH_PG_URL or --pg`);
  process.stderr.write(`${describeMachine()}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'anon-first-row-'));
  const scratch: ScratchPgDatabase[] = [];
  const pgDb = async (label: string): Promise<ScratchPgDatabase> => {
    const db = await createScratchPgDatabase(options.pg, `anon_first_${label}`);
    scratch.push(db);
    return db;
  };
  try {
    const corpus = adversarialCorpus({ patients: options.patients, mentionsPerPatient: 90, bytesPerPatient: 42_000, notesPerPatient: 8, seed: 21 });
    const source = await pgDb('src');
    const s = sequelizeOf(source.url);
    await writeAdversarialDb(s, corpus);
    await s.close();
    writeFileSync(join(dir, 'dense.tsv'), adversarialDataDictionary());
    for (const k of ['patient', 'master', 'change']) writeFileSync(join(dir, `${k}.key`), randomBytes(32).toString('hex'));
    const dst = await pgDb('dst');
    const secret = await pgDb('secret');
    const env = { ...process.env, BENCH_SRC_DENSE: source.url, BENCH_DST: dst.url, BENCH_SECRET: secret.url };
    const configFor = (c: Case, sqliteFile: string): string => {
      const file = join(dir, `${c.destination}.ini`);
      writeFileSync(file, ['[anonymise]', 'data_dictionary = dense.tsv', c.destination === 'postgres' ? 'destination_url_env = BENCH_DST' : `destination_url = sqlite:${sqliteFile}`,
        'secret_map_url_env = BENCH_SECRET', 'patient_key_file = patient.key', 'master_key_file = master.key', 'change_key_file = change.key', `workers = ${options.workers}`,
        '[source:main]', 'url_env = BENCH_SRC_DENSE'].join('\n'));
      return file;
    };
    const builds: Array<{ name: string; bin: string }> = [{ name: 'this build', bin: platformBin }];
    if (options.baseline) builds.unshift({ name: 'baseline', bin: join(resolve(options.baseline), 'bin', 'platform.js') });
    const cases: Case[] = [{ corpus: 'dense', destination: 'sqlite' }, { corpus: 'dense', destination: 'postgres' }];
    const times = new Map<string, number[]>();
    const cpus = new Map<string, number[]>();
    const loads = new Map<string, number[]>();
    for (let run = 1; run <= options.runs; run++) {
      for (const c of cases) {
        for (const build of builds) {
          const key = `${build.name}\u0000${c.destination}`;
          const sqliteFile = join(dir, `first-${run}.sqlite`);
          const load = loadavg()[0]!;
          let cpu: number | undefined;
          const seconds = await commandToFirstRow(c, configFor(c, sqliteFile), sqliteFile, env, dst.url, build.bin, true, (s) => (cpu = s));
          times.set(key, [...(times.get(key) ?? []), seconds]);
          cpus.set(key, [...(cpus.get(key) ?? []), cpu ?? Number.NaN]);
          loads.set(key, [...(loads.get(key) ?? []), load]);
          process.stderr.write(`run ${run} ${build.name} -> ${c.destination}: ${seconds.toFixed(2)} s, ${cpu?.toFixed(2) ?? '?'} CPU s (load ${load.toFixed(1)})\n`);
        }
      }
    }
    const lines = ['| build | destination | runs (s) | median s | vs baseline | CPU s at first row (runs) | median CPU s | vs baseline | load at starts |', '| --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- |'];
    for (const c of cases) {
      const base = times.get(`baseline\u0000${c.destination}`);
      const baseCpu = cpus.get(`baseline\u0000${c.destination}`);
      for (const build of builds) {
        const key = `${build.name}\u0000${c.destination}`;
        const t = times.get(key)!;
        const u = cpus.get(key)!;
        const ratio = base ? (median(t) / median(base)).toFixed(2) : '';
        const cpuRatio = baseCpu ? (median(u) / median(baseCpu)).toFixed(2) : '';
        lines.push(`| ${build.name} | ${c.destination} | ${t.map((x) => x.toFixed(2)).join(', ')} | **${median(t).toFixed(2)}** | ${ratio} | ${u.map((x) => x.toFixed(2)).join(', ')} | **${median(u).toFixed(2)}** | ${cpuRatio} | ${loads.get(key)!.map((x) => x.toFixed(1)).join(', ')} |`);
      }
    }
    process.stdout.write(`\nCommand to first row, dense corpus (${options.patients} patients), ${options.workers} pool threads, ${options.runs} runs interleaved\n${lines.join('\n')}\n`);
  } finally {
    for (const db of scratch) await db.drop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const usage = 'anonymise-first-row [--runs 5] [--patients 500] [--workers 2] [--baseline DIR] [--pg URL]';
  firstRowBench(flags({ ...defaults }, usage)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
