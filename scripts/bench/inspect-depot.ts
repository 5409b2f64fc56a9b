// Benchmark: `platform inspect --only depot` over many resources in depot-fs, the quick run
// (every file present with its recorded size; no orphans) and the `--deep` run (every file's
// sha256), side by side in one run with `find ROOT -type f | wc -l` and `sha256sum` over the
// same files. Each command runs as a fresh process, as an admin would run it; after one
// warm-up of each, medians of --runs. The files are written once (with --keep, reused).
// Usage: node dist/scripts/bench/inspect-depot.js [--resources 100000] [--total-gib 20] [--runs 3] [--keep NAME]
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PlatformHost } from '../../core/host/platform-host.js';
import { DatabaseId } from '../../core/services/service-ids.js';
import { createInstallation, describeMachine, flags, median, platformBin } from './bench-support.js';

const usage = `usage: node dist/scripts/bench/inspect-depot.js [--resources N] [--total-gib G] [--runs R] [--keep NAME]
  --resources N   stored resources (default 100000), 100 per dataset
  --total-gib G   bytes over all files, in GiB (default 20)
  --runs R        timed runs of each command; figures are medians (default 3)
  --keep NAME     keep the installation under this name and reuse it next time
  --deep=false    only the quick run (the deep one reads every byte, twice per run)`;
const options = flags({ resources: 100_000, totalGib: 20, runs: 3, keep: '', deep: true }, usage);

function uuid(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

/** Seeds datasets, resources and their files (content: a random block, varied per file). */
async function seed(configFile: string, depotRoot: string): Promise<void> {
  const host = await PlatformHost.start({ configFile, env: {}, logLevel: 'warn' });
  try {
    const db = host.services.get(DatabaseId);
    const esc = (v: string | number): string => db.sequelize.escape(v);
    const stamp = new Date().toISOString().replace('T', ' ').replace('Z', ' +00:00');
    const fileSize = Math.max(1, Math.floor((options.totalGib * 2 ** 30) / options.resources));
    const block = randomBytes(Math.min(fileSize, 1 << 20));
    const org = uuid();
    await db.sequelize.query(`INSERT INTO organizations (id, name, title, description, state, created_at, updated_at) VALUES (${esc(org)}, 'bench-lab', 'Bench lab', '', 'active', ${esc(stamp)}, ${esc(stamp)})`);
    const started = performance.now();
    for (let d = 0; d * 100 < options.resources; d++) {
      const datasetId = uuid();
      await db.sequelize.query(
        `INSERT INTO datasets (id, name, title, notes, type, owner_org_id, private, state, license_id, tags, extras, search_text, creator_user_id, created_at, modified_at) VALUES ` +
          `(${esc(datasetId)}, ${esc(`bench-${d}`)}, ${esc(`Bench ${d}`)}, '', 'dataset', ${esc(org)}, ${db.dialect === 'postgres' ? 'false' : '0'}, 'active', NULL, '[]', '{}', '', NULL, ${esc(stamp)}, ${esc(stamp)})`,
      );
      const rows: string[] = [];
      for (let r = 0; r < 100 && d * 100 + r < options.resources; r++) {
        const rid = uuid();
        const location = `resources/${rid.slice(0, 3)}/${rid.slice(3, 6)}/${rid.slice(6)}`;
        const path = join(depotRoot, location);
        mkdirSync(join(path, '..'), { recursive: true });
        const hash = createHash('sha256');
        const fd = openSync(path, 'w', 0o640);
        try {
          const head = Buffer.from(rid);
          writeSync(fd, head);
          hash.update(head);
          for (let written = head.length; written < fileSize; ) {
            const part = block.subarray(0, Math.min(block.length, fileSize - written));
            writeSync(fd, part);
            hash.update(part);
            written += part.length;
          }
        } finally {
          closeSync(fd);
        }
        rows.push(`(${esc(rid)}, ${esc(datasetId)}, ${esc(`file-${r}.bin`)}, 'BIN', '', '', ${Math.max(fileSize, 36)}, ${esc(hash.digest('hex'))}, 'fs', ${esc(location)}, 'active', '{}', ${r}, ${esc(stamp)}, ${esc(stamp)})`);
      }
      await db.sequelize.query(`INSERT INTO resources (id, dataset_id, name, format, description, url, size, sha256, depot, location, state, metadata, position, created_at, modified_at) VALUES ${rows.join(', ')}`);
      if (d % 10 === 0) process.stderr.write(`\rseeding ${Math.min(options.resources, (d + 1) * 100)}/${options.resources} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    }
    process.stderr.write('\n');
  } finally {
    await host.stop();
  }
}

function timed(command: string, args: string[], check: (stdout: string, status: number | null) => void): number {
  const started = performance.now();
  const run = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - started;
  check(run.stdout, run.status);
  return ms;
}

const install = await createInstallation('sqlite', { plugins: ['depot-fs'], ...(options.keep ? { keep: options.keep } : {}) });
const depotRoot = join(install.dir, 'data', 'depot');
try {
  if (!install.reused || !existsSync(join(depotRoot, 'resources'))) await seed(install.configFile, depotRoot);
  process.stderr.write(`machine: ${describeMachine()}\n`);
  const resources = join(depotRoot, 'resources');
  const inspect = (deep: boolean): number =>
    timed(process.execPath, [platformBin, '--config', install.configFile, 'inspect', '--only', 'depot', '--json', ...(deep ? ['--deep'] : [])], (stdout, status) => {
      const report = JSON.parse(stdout) as { exitCode: number; checks: Array<{ name: string; findings: Array<{ severity: string; title: string }> }> };
      const depot = report.checks.find((c) => c.name === 'depot consistency');
      const ok = depot?.findings.find((f) => f.severity === 'ok')?.title ?? '';
      if (status !== 0 || !ok.startsWith(`${options.resources} stored file(s)`)) throw new Error(`inspect did not pass cleanly (exit ${status}): ${JSON.stringify(depot?.findings)}`);
    });
  const find = (): number =>
    timed('sh', ['-c', `find '${resources}' -type f | wc -l`], (stdout) => {
      if (Number(stdout.trim()) !== options.resources) throw new Error(`find counted ${stdout.trim()} files`);
    });
  const sha256sum = (): number =>
    timed('sh', ['-c', `find '${resources}' -type f -print0 | xargs -0 sha256sum | wc -l`], (stdout) => {
      if (Number(stdout.trim()) !== options.resources) throw new Error(`sha256sum hashed ${stdout.trim()} files`);
    });
  // Warm-up: the page cache and the CLI's compiled code.
  find();
  inspect(false);
  const quick: number[] = [];
  const finds: number[] = [];
  for (let run = 0; run < options.runs; run++) {
    finds.push(find());
    quick.push(inspect(false));
    process.stderr.write(`quick run ${run + 1}: find ${finds.at(-1)!.toFixed(0)} ms, inspect ${quick.at(-1)!.toFixed(0)} ms\n`);
  }
  const deep: number[] = [];
  const sums: number[] = [];
  if (options.deep) sha256sum();
  for (let run = 0; options.deep && run < options.runs; run++) {
    sums.push(sha256sum());
    deep.push(inspect(true));
    process.stderr.write(`deep run ${run + 1}: sha256sum ${sums.at(-1)!.toFixed(0)} ms, inspect --deep ${deep.at(-1)!.toFixed(0)} ms\n`);
  }
  const gib = options.totalGib;
  const rate = (ms: number): string => ((gib * 1024) / (ms / 1000)).toFixed(0);
  const [q, f, dd, s] = [median(quick), median(finds), median(deep), median(sums)];
  process.stdout.write(
    [
      `${options.resources} resources, ${gib} GiB in depot-fs (SQLite), median of ${options.runs} runs`,
      '',
      '| run | ms | MiB/s | vs baseline |',
      '| --- | ---: | ---: | ---: |',
      `| find ROOT -type f \\| wc -l | ${f.toFixed(0)} | | 1.00x |`,
      `| platform inspect --only depot | ${q.toFixed(0)} | | ${(q / f).toFixed(2)}x find's time (aim <= 2x) |`,
      ...(options.deep
        ? [
            `| sha256sum (via xargs) | ${s.toFixed(0)} | ${rate(s)} | 100% |`,
            `| platform inspect --only depot --deep | ${dd.toFixed(0)} | ${rate(dd)} | ${((s / dd) * 100).toFixed(0)}% of sha256sum's rate (aim >= 90%) |`,
          ]
        : []),
      '',
    ].join('\n'),
  );
} finally {
  await install.dispose();
}
