// Benchmark: metadata extraction from a large RT-DC file (generated: by default 2 million
// events, 30 scalar float64 features and a 16x16 uint8 image per event, about 1 GiB), wall
// time and peak RSS of schema-rtdc's inspection (a worker thread reading with h5wasm in
// bounded batches, as the `resource.inspect` job runs it), side by side in one run with
// h5py (Debian's python3-h5py) reading the same attributes and computing the same
// statistics (count, min, max, mean, NaN ignored). Each side runs in a fresh process per
// run; the figures are medians; the first run of each warms the page cache.
// Usage: node dist/scripts/bench/rtdc-extraction.js [--events 2000000] [--features 30] [--side 16] [--runs 3] [--keep FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeMachine, flags, median, repoRoot } from './bench-support.js';

const usage = `usage: node dist/scripts/bench/rtdc-extraction.js [--events N] [--features N] [--side N] [--runs R] [--keep FILE]
  --events N    events in the generated file (default 2000000)
  --features N  scalar float64 features (default 30)
  --side N      image side in pixels, one uint8 image per event (default 16)
  --runs R      timed runs of each side; figures are medians (default 3)
  --keep FILE   generate the file here (or reuse it if it exists) and keep it`;
const options = flags({ events: 2_000_000, features: 30, side: 16, runs: 3, keep: '' }, usage);
const PYTHON = '/usr/bin/python3';
const scripts = join(repoRoot, 'scripts', 'bench');

interface Measurement {
  ms: number;
  peakRssMb: number;
  features: number;
  attributes: number;
}

function runJson(command: string, args: string[]): Measurement {
  // GNU time's %M is the peak RSS of the process and of every child it waited for: the
  // contained process that reads the file counts too.
  const run = spawnSync('/usr/bin/time', ['-f', 'peak-rss-kb %M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${run.status}: ${run.stderr}`);
  const measured = JSON.parse(run.stdout.trim().split('\n').pop()!) as Measurement;
  const peak = /peak-rss-kb (\d+)/.exec(run.stderr);
  return peak ? { ...measured, peakRssMb: Math.max(measured.peakRssMb, Number(peak[1]) / 1024) } : measured;
}

const h5py = spawnSync(PYTHON, ['-c', 'import h5py'], { encoding: 'utf8' });
if (h5py.status !== 0) throw new Error(`${PYTHON} cannot import h5py (install Debian's python3-h5py): ${h5py.stderr}`);

const dir = options.keep ? undefined : mkdtempSync(join(tmpdir(), 'rtdc-bench-'));
const file = options.keep || join(dir!, 'large.rtdc');
try {
  if (!existsSync(file)) {
    process.stderr.write(`generating ${options.events} events x ${options.features} features + ${options.side}x${options.side} images...\n`);
    const made = spawnSync(PYTHON, [join(scripts, 'rtdc-make-file.py'), file, String(options.events), String(options.features), String(options.side)], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error('generating the file failed');
  }
  const size = statSync(file).size;
  process.stderr.write(`machine: ${describeMachine()}\nfile: ${(size / 2 ** 30).toFixed(2)} GiB\n`);

  const ours: Measurement[] = [];
  const theirs: Measurement[] = [];
  const node = [join(repoRoot, 'dist', 'scripts', 'bench', 'rtdc-extract-once.js'), file];
  // Warm the page cache once for both, then alternate so drift hits both alike.
  runJson(process.execPath, node);
  runJson(PYTHON, [join(scripts, 'rtdc-h5py-extract.py'), file]);
  for (let run = 0; run < options.runs; run++) {
    ours.push(runJson(process.execPath, node));
    theirs.push(runJson(PYTHON, [join(scripts, 'rtdc-h5py-extract.py'), file]));
    process.stderr.write(`run ${run + 1}: schema-rtdc ${ours.at(-1)!.ms.toFixed(0)} ms, h5py ${theirs.at(-1)!.ms.toFixed(0)} ms\n`);
  }
  if (ours[0]!.features !== theirs[0]!.features) throw new Error(`the two sides disagree on the features: ${ours[0]!.features} vs ${theirs[0]!.features}`);
  const row = (name: string, ms: Measurement[]): string => {
    const t = median(ms.map((m) => m.ms));
    return `| ${name} | ${t.toFixed(0)} | ${(size / 2 ** 20 / (t / 1000)).toFixed(0)} | ${median(ms.map((m) => m.peakRssMb)).toFixed(0)} |`;
  };
  const ratio = median(ours.map((m) => m.ms)) / median(theirs.map((m) => m.ms));
  process.stdout.write(
    [
      `${options.events} events, ${ours[0]!.features} scalar features, ${(size / 2 ** 30).toFixed(2)} GiB, median of ${options.runs} runs`,
      '',
      '| reader | wall ms | MiB/s of file | peak RSS MB |',
      '| --- | ---: | ---: | ---: |',
      row('schema-rtdc (h5wasm, contained process)', ours),
      row('h5py (numpy, whole features)', theirs),
      '',
      `schema-rtdc / h5py time: ${ratio.toFixed(2)}x (aim <= 1.5x); schema-rtdc peak RSS ${median(ours.map((m) => m.peakRssMb)).toFixed(0)} MB (aim < 200 MB)`,
      '',
    ].join('\n'),
  );
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
