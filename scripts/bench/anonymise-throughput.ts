// Throughput of the anonymiser on a synthetic, mostly free-text clinical database, PostgreSQL
// to PostgreSQL (then, unless --dense-patients 0, the identifier-dense corpus beside it: see
// anonymise-dense.ts): end to end with 1 and 2 pool threads, an incremental run with nothing to do
// (as a fraction of a full run), and the scrubbing core alone on one thread, side by side with
// a naive scrubber (one regular expression per identifier, applied in turn) on the same text.
//
//   npm run build && node dist/scripts/bench/anonymise-throughput.js [--mb 20] [--pg URL]
//
// --mb is the size of the note text in the source (the full figure is --mb 1024).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Sequelize } from 'sequelize';
import { defaultPgUrl, describeMachine, flags, postgresProblem } from './bench-support.js';
import { clinicalDataDictionary, generateClinicalDb, synthesise, type SyntheticPatient } from '../generate-clinical-db.js';
import { runAnonymisation, type RunSummary } from '../../plugins/anonymiser-crate/anonymisation-run.js';
import { buildScrubber, defaultScrubberOptions, type IdentifierValue, type Scrubber } from '../../plugins/anonymiser-crate/patient-scrubber.js';
import { splitWords } from '../../plugins/anonymiser-crate/scrub-regex-elements.js';
import { ThreadPool } from '../../core/jobs/thread-pool.js';
import { createScratchPgDatabase } from '../scratch-pg-database.js';
import { denseBench, denseDefaults } from './anonymise-dense.js';

const usage = 'anonymise-throughput [--mb N] [--pg URL] [--notes-per-patient N] [--note-chars N] [--batch-patients N] [--core-mb N] [--dense-patients N (0: skip the dense corpus)] [--dense-rounds N]';
const options = flags({ mb: 20, pg: process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl, notesPerPatient: 20, noteChars: 4000, batchPatients: 200, coreMb: 20, densePatients: denseDefaults.patients, denseRounds: denseDefaults.rounds }, usage);

/** The identifiers the generator's dictionary gives a patient's scrubber. */
function identifiersOf(p: SyntheticPatient, all: Map<number, SyntheticPatient>): { patient: IdentifierValue[]; third: IdentifierValue[] } {
  const patient: IdentifierValue[] = [
    { value: p.pid, method: 'number' }, { value: p.nhsNumber, method: 'number' }, { value: p.forename, method: 'words' }, { value: p.surname, method: 'words' },
    { value: p.alias, method: 'words' }, { value: p.dob, method: 'date' }, { value: p.address, method: 'phrase' }, { value: p.postcode, method: 'code' },
    { value: p.phone, method: 'phrase_unless_numeric' }, { value: p.email, method: 'phrase' },
  ];
  const third: IdentifierValue[] = p.relatives.flatMap((r) => [{ value: r.forename, method: 'words' as const }, { value: r.surname, method: 'words' as const }]);
  for (const r of p.relatives) {
    const other = r.relatedPatientId === undefined ? undefined : all.get(r.relatedPatientId);
    if (other) third.push(...identifiersOf({ ...other, relatives: [] }, all).patient);
  }
  return { patient, third };
}

/** One scrubber per identifier (per word for word lists), applied one after another. */
function naiveScrubber(ids: { patient: IdentifierValue[]; third: IdentifierValue[] }): Scrubber[] {
  const o = defaultScrubberOptions();
  const single = (v: IdentifierValue): IdentifierValue[] => (v.method === 'words' ? splitWords(String(v.value)).map((w) => ({ value: w, method: 'words' })) : [v]);
  return [
    ...ids.patient.flatMap(single).map((v) => buildScrubber([v], [], o)),
    ...ids.third.flatMap(single).map((v) => buildScrubber([], [v], o)),
  ];
}

/** MB/s of scrubbing `texts` (per patient) on this thread. */
function scrubRate(texts: Map<number, string[]>, scrubOf: (pid: number) => (text: string) => string): { mbPerS: number; mb: number } {
  let bytes = 0;
  const started = process.hrtime.bigint();
  let sink = 0;
  for (const [pid, list] of texts) {
    const scrub = scrubOf(pid);
    for (const text of list) {
      bytes += Buffer.byteLength(text);
      sink += scrub(text).length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink < 0) throw new Error('unreachable');
  return { mbPerS: bytes / 1e6 / seconds, mb: bytes / 1e6 };
}

async function main(): Promise<void> {
  const problem = await postgresProblem(options.pg);
  if (problem) throw new Error(`PostgreSQL is not reachable (${problem}); set PLATFORM_BENCH_PG_URL or --pg`);
  const patientBytes = options.notesPerPatient * options.noteChars;
  const patients = Math.max(2, Math.round((options.mb * 1e6) / patientBytes));
  const generate = { patients, notesPerPatient: options.notesPerPatient, noteChars: options.noteChars, seed: 11, optOutEvery: 0 };
  process.stderr.write(`${describeMachine()}\n`);

  // 1. The scrubbing core alone, on this thread, against the naive scrubber, on the same notes.
  const coreGenerate = { ...generate, patients: Math.max(2, Math.round((Math.min(options.coreMb, options.mb) * 1e6) / patientBytes)) };
  const { dataset, notes } = synthesise(coreGenerate);
  const texts = new Map<number, string[]>();
  for (const n of notes) texts.set(n.patient_id, [...(texts.get(n.patient_id) ?? []), n.note_text]);
  const byPid = new Map(dataset.patients.map((p) => [p.pid, p]));
  const combined = scrubRate(texts, (pid) => {
    const ids = identifiersOf(byPid.get(pid)!, byPid);
    const s = buildScrubber(ids.patient, ids.third, defaultScrubberOptions());
    return (t) => s.scrub(t);
  });
  const naive = scrubRate(texts, (pid) => {
    const list = naiveScrubber(identifiersOf(byPid.get(pid)!, byPid));
    return (t) => list.reduce((acc, s) => s.scrub(acc), t);
  });
  // Both must agree on what they scrub, or the comparison means nothing.
  const [firstPid, firstTexts] = [...texts][0]!;
  const idsFirst = identifiersOf(byPid.get(firstPid)!, byPid);
  const c1 = buildScrubber(idsFirst.patient, idsFirst.third, defaultScrubberOptions()).scrub(firstTexts[0]!);
  const n1 = naiveScrubber(idsFirst).reduce((acc, s) => s.scrub(acc), firstTexts[0]!);
  const agree = c1.split('[__').length === n1.split('[__').length;
  texts.clear();

  // 2. End to end, PostgreSQL to PostgreSQL.
  const dir = mkdtempSync(join(tmpdir(), 'anon-bench-'));
  const source = await createScratchPgDatabase(options.pg, 'anon_bench_src');
  const destination = await createScratchPgDatabase(options.pg, 'anon_bench_dst');
  const secret = await createScratchPgDatabase(options.pg, 'anon_bench_secret');
  const rows: Array<[string, string, string, string]> = [];
  try {
    const started = Date.now();
    const sequelize = new Sequelize(source.url.replace(/^postgresql:/, 'postgres:'), { logging: false });
    const generated = await generateClinicalDb(sequelize, generate);
    await sequelize.close();
    process.stderr.write(`generated ${generated.patients.length} patients, ${generated.noteCount} notes, ${(generated.textBytes / 1e6).toFixed(1)} MB of note text in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    // Without the full-text index on note_text: building it is PostgreSQL's work, not the anonymiser's.
    writeFileSync(join(dir, 'dd.tsv'), clinicalDataDictionary().replace(/\tscrub\t(.*)\tF\t/, '\tscrub\t$1\t\t'));
    for (const k of ['patient', 'master', 'change']) writeFileSync(join(dir, `${k}.key`), randomBytes(32).toString('hex'));
    writeFileSync(join(dir, 'anon.ini'), ['[anonymise]', 'data_dictionary = dd.tsv', 'destination_url_env = BENCH_DST', 'secret_map_url_env = BENCH_SECRET', 'patient_key_file = patient.key', 'master_key_file = master.key', 'change_key_file = change.key', `batch_patients = ${options.batchPatients}`, 'commit_rows = 1000', '[source:main]', 'url_env = BENCH_SRC'].join('\n'));
    const env = { BENCH_SRC: source.url, BENCH_DST: destination.url, BENCH_SECRET: secret.url };
    const run = async (workers: number, incremental: boolean): Promise<RunSummary> => {
      const pool = new ThreadPool({ size: workers, memoryLimitMb: 1024 });
      try {
        return await runAnonymisation({ configFile: join(dir, 'anon.ini'), env, incremental, workers, pool });
      } finally {
        await pool.shutdown();
      }
    };
    const one = await run(1, false);
    const two = await run(2, false);
    const noop = await run(2, true);
    const mb = (s: RunSummary): number => s.bytesRead / 1e6;
    rows.push(['end to end, 1 worker', `${mb(one).toFixed(1)} MB`, `${one.seconds.toFixed(1)} s`, `${(mb(one) / one.seconds).toFixed(1)} MB/s`]);
    rows.push(['end to end, 2 workers', `${mb(two).toFixed(1)} MB`, `${two.seconds.toFixed(1)} s`, `${(mb(two) / two.seconds).toFixed(1)} MB/s`]);
    rows.push(['incremental, nothing to do (2 workers)', `${noop.rowsUnchanged} rows unchanged`, `${noop.seconds.toFixed(1)} s`, `${((100 * noop.seconds) / two.seconds).toFixed(1)}% of the full run`]);
    if (noop.rowsWritten !== 0) throw new Error(`the no-op incremental run wrote ${noop.rowsWritten} rows`);
  } finally {
    await source.drop();
    await destination.drop();
    await secret.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  rows.push(['scrubbing core alone, 1 thread (one combined regex per patient)', `${combined.mb.toFixed(1)} MB`, '', `${combined.mbPerS.toFixed(1)} MB/s`]);
  rows.push(['naive scrubber, 1 thread (one regex per identifier, in turn)', `${naive.mb.toFixed(1)} MB`, '', `${naive.mbPerS.toFixed(1)} MB/s (${(combined.mbPerS / naive.mbPerS).toFixed(1)}x slower)`]);
  if (!agree) rows.push(['warning', 'the naive and combined scrubbers disagreed on a sample note', '', '']);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['measure', 'size', 'time', 'rate'][i]!.length));
  const line = (r: readonly string[]): string => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\nAnonymiser throughput, source ${options.mb} MB of note text (PostgreSQL to PostgreSQL)\n${line(['measure', 'size', 'time', 'rate'])}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
  // The identifier-dense corpus beside the sparse one, interleaved (anonymise-dense.ts).
  if (options.densePatients > 0) await denseBench({ ...denseDefaults, patients: options.densePatients, rounds: options.denseRounds, pg: options.pg });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
