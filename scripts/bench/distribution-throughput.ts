// Distribution benchmark: N small PDFs (50 KB each) from the drop folder to a real nginx
// WebDAV destination, files per second end to end (from the moment the files appear in the
// drop folder until the last one is archived, verified), side by side in one run with rsync
// of the same files to a local folder (a ceiling) and a `curl -T` shell loop to the same
// nginx (a naive peer). Median of several runs.
//
//   node dist/scripts/bench/distribution-throughput.js [--files 10000] [--runs 3] [--size 50000]
//        [--db sqlite|postgres] [--pg URL] [--workers 2] [--batch 50] [--send-concurrency 8]
//        [--pdf-check] [--skip-curl] [--verify size,response]
//
// `--verify` lists the WebDAV verifications to measure, each a row of its own: `size` (the
// default of the plugin: a ranged GET reads back the stored size) and `response` (the PUT's
// 2xx is the proof, as it is for curl -T).
//
// The platform runs in this process: a host with depot-fs and distribution, its drop-folder
// watcher and a job worker. Another process (cp -al) hard-links the files into the drop folder
// when the clock starts (as a lab system moving finished files in would).
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { PlatformHost } from '../../core/host/platform-host.js';
import { DatabaseId } from '../../core/services/service-ids.js';
import { createInstallation, defaultPgUrl, describeMachine, flags, median, postgresProblem } from './bench-support.js';
import { NginxWebDav } from '../../test/plugins/distribution/nginx-webdav.js';
import { makePdf } from '../../test/plugins/distribution/test-pdf.js';
import { DistributionStore } from '../../plugins/distribution/distribution-store.js';

const run = promisify(execFile);
const usage = 'node dist/scripts/bench/distribution-throughput.js [--files 10000] [--runs 3] [--size 50000] [--db sqlite|postgres] [--pg URL] [--workers 2] [--batch 50] [--send-concurrency 8] [--pdf-check] [--skip-curl] [--verify size,response]';
const opts = flags({ files: 10_000, runs: 3, size: 50_000, db: 'sqlite', pg: process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl, workers: 2, batch: 50, sendConcurrency: 8, pdfCheck: false, skipCurl: false, verify: 'size,response' }, usage);
const now = (): number => performance.now();

/** Makes the source files once: distinct PDFs of about `size` bytes named like lab results. */
function makeSources(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const names: string[] = [];
  const template = makePdf(['BHS0000000 result'], opts.size);
  for (let i = 0; i < opts.files; i++) {
    const id = `BHS${String(i).padStart(7, '0')}`;
    const name = `${id}_result.pdf`;
    // Same size, distinct bytes: the identifier differs (and so does the sha256).
    writeFileSync(join(dir, name), Buffer.from(template.toString('latin1').replace('BHS0000000', id), 'latin1'));
    names.push(name);
  }
  return names;
}

async function rsyncRun(src: string, dest: string): Promise<number> {
  rmSync(dest, { recursive: true, force: true });
  const start = now();
  await run('rsync', ['-a', `${src}/`, `${dest}/`]);
  return (now() - start) / 1000;
}

async function curlRun(src: string, names: string[], url: string): Promise<number> {
  const start = now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', ['-c', 'cd "$1" && for f in *.pdf; do curl -sS -f -o /dev/null -T "$f" "$2"; done', 'curl-loop', src, url], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`curl loop exited ${code}`))));
  });
  void names;
  return (now() - start) / 1000;
}

async function platformRun(src: string, names: string[], nginx: NginxWebDav, runIndex: number, verify: string): Promise<{ seconds: number; archived: number }> {
  const inst = await createInstallation(opts.db as 'sqlite' | 'postgres', { pgUrl: opts.pg, plugins: ['depot-fs', 'distribution'] });
  const drop = join(inst.dir, 'drop');
  const rules = join(inst.dir, 'rules.json');
  const csv = join(inst.dir, 'folders.csv');
  mkdirSync(drop, { recursive: true });
  writeFileSync(rules, JSON.stringify({ destinations: { clinics: { kind: 'webdav', url: `${nginx.url}platform-${verify}-run-${runIndex}/`, verify } }, rules: [{ label: 'bhs', pattern: '^(?<site>[A-Z]{3})\\d+', capture: 'site' }] }));
  writeFileSync(csv, 'label,tag,folder,base\nbhs,BHS,bhs,clinics\n');
  const config = `[jobs]\nconcurrency = ${opts.workers}\npoll_ms = 50\n[plugin:distribution]\nwatch = ${drop}\nrules_file = ${rules}\nstable_ms = 250\nfile_checks = ${opts.pdfCheck ? 'pdf-identifier' : 'none'}\nidentifier_pattern = ^([A-Z]{3}\\d+)\nbatch_size = ${opts.batch}\nsend_concurrency = ${opts.sendConcurrency}\nlog_read_seconds = 0\n`;
  const { appendFileSync } = await import('node:fs');
  appendFileSync(inst.configFile, config);
  const host = await PlatformHost.start({ configFile: inst.configFile, env: {} });
  try {
    const store = new DistributionStore(() => host.services.get(DatabaseId));
    const runtimeCommand = host.services.get((await import('../../core/services/service-ids.js')).HookRegistriesId).commands.get('distribution folders load')!;
    const sink = { write: () => true } as unknown as NodeJS.WritableStream;
    await runtimeCommand.run({ positionals: [csv], options: {} }, { services: host.services, config: undefined, configFile: inst.configFile, env: {}, stdout: sink, stderr: sink, interactive: false, promptSecret: async () => '', confirm: async () => false });
    const worker = host.jobWorker({ concurrency: opts.workers });
    await worker.start();
    await host.startPlugins();
    const start = now();
    const cpuStart = process.cpuUsage();
    // Another process drops the files (hard links, as a lab system moving finished files in).
    await run('cp', ['-al', `${src}/.`, `${drop}/`]);
    let archived = 0;
    for (;;) {
      const counts = await store.counts();
      archived = counts.archived ?? 0;
      const stuck = (counts.rejected ?? 0) + (counts.unroutable ?? 0);
      if (process.env.DIST_BENCH_TRACE) process.stdout.write(`${((now() - start) / 1000).toFixed(1)}s ${JSON.stringify(counts)}\n`);
      if (archived + stuck >= names.length) break;
      if (now() - start > 30 * 60_000) throw new Error(`timed out: ${JSON.stringify(counts)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (now() - start) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    if (process.env.DIST_BENCH_TRACE) process.stdout.write(`cpu ${((cpu.user + cpu.system) / 1e6).toFixed(1)}s (user ${(cpu.user / 1e6).toFixed(1)}s) in ${seconds.toFixed(1)}s\n`);
    await worker.stop(5000);
    if (archived !== names.length) throw new Error(`only ${archived} of ${names.length} files were archived: ${JSON.stringify(await store.counts())}`);
    return { seconds, archived };
  } finally {
    await host.stop();
    await inst.dispose();
  }
}

async function main(): Promise<void> {
  if (opts.db === 'postgres') {
    const problem = await postgresProblem(opts.pg);
    if (problem) throw new Error(`PostgreSQL at --pg is not usable: ${problem}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'dist-bench-'));
  const nginx = await NginxWebDav.start();
  try {
    process.stdout.write(`distribution throughput: ${opts.files} files of ${opts.size} bytes, ${opts.runs} run(s), database ${opts.db}, ${opts.workers} job slot(s) x ${opts.sendConcurrency} transfers, batches of ${opts.batch}${opts.pdfCheck ? ', pdf-identifier check on' : ', no file check'}\n${describeMachine()}\n`);
    const src = join(work, 'src');
    const names = makeSources(src);
    const verifications = opts.verify.split(',').filter(Boolean);
    const results: Record<string, number[]> = { rsync: [], curl: [], ...Object.fromEntries(verifications.map((v) => [`platform-${v}`, []])) };
    for (let i = 0; i < opts.runs; i++) {
      results.rsync!.push(opts.files / (await rsyncRun(src, join(work, `rsync-${i}`))));
      if (!opts.skipCurl) results.curl!.push(opts.files / (await curlRun(src, names, `${nginx.url}curl-run-${i}/`)));
      for (const verify of verifications) {
        const p = await platformRun(src, names, nginx, i, verify);
        results[`platform-${verify}`]!.push(opts.files / p.seconds);
        rmSync(join(nginx.root, `platform-${verify}-run-${i}`), { recursive: true, force: true });
      }
      rmSync(join(nginx.root, `curl-run-${i}`), { recursive: true, force: true });
      rmSync(join(work, `rsync-${i}`), { recursive: true, force: true });
      process.stdout.write(`run ${i + 1}: ${Object.entries(results).filter(([, xs]) => xs.length).map(([k, xs]) => `${k} ${xs.at(-1)!.toFixed(0)} files/s`).join(', ')}\n`);
    }
    const label: Record<string, string> = {
      'platform-size': 'platform: drop folder → nginx WebDAV, size verified (ranged GET), archived',
      'platform-sha256': 'platform: drop folder → nginx WebDAV, sha256 verified (read back), archived',
      'platform-response': 'platform: drop folder → nginx WebDAV, PUT answer as proof, archived',
      rsync: 'rsync -a to a local folder (ceiling)',
      curl: 'curl -T shell loop to nginx (naive peer)',
    };
    process.stdout.write(`\n| system | files/s (median of ${opts.runs}) | runs |\n| --- | ---: | --- |\n`);
    for (const [key, xs] of Object.entries(results)) if (xs.length) process.stdout.write(`| ${label[key] ?? key} | ${median(xs).toFixed(0)} | ${xs.map((x) => x.toFixed(0)).join(', ')} |\n`);
    if (!opts.skipCurl) for (const v of verifications) process.stdout.write(`platform (${v}) / curl loop: ${(median(results[`platform-${v}`]!) / median(results.curl!)).toFixed(1)}x\n`);
  } finally {
    await nginx.close();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
