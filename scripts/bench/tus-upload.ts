// Benchmark: upload of a large file (default 2 GiB) over loopback through /upload/tus/ into
// depot-fs, side by side in one run with (a) nginx receiving the same file by a WebDAV PUT
// from the same client into the same disk, the loopback HTTP ceiling (`cp` is shown too, but
// swings with the page cache and writeback), and (b) @tus/server with its own FileStore
// standing alone, a peer; MiB/s, the spread of the runs, the ratios run by run (the
// contenders take turns, the order rotating), and the peak RSS of each server (VmHWM). Then the download of the stored file
// through /dataset/.../download/... against `cat FILE > /dev/null` from the same disk.
// Both servers get the same client: a tus creation POST and one streamed PATCH (what a stock
// client sends for a file with an unlimited chunk size). Medians of --runs.
// Usage: node dist/scripts/bench/tus-upload.js [--gib 2] [--runs 5]
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { writeRandomFile, peakRssMb, timedDownload } from './bench-files.js';
import { seedUploader } from './seed-uploader.js';
import { createInstallation, describeMachine, flags, freePort, median, platformBin, repoRoot, startServer, type ChildServer } from './bench-support.js';

const usage = `usage: node dist/scripts/bench/tus-upload.js [--gib G] [--runs R]
  --gib G    size of the file in GiB (default 2)
  --runs R   timed runs of each; figures are medians (default 5)
  --cpu-prof DIR  write a CPU profile of platform serve into DIR
  --node-options "FLAGS"  Node.js flags for platform serve (as a deployment would set them)
  --baseline DIR  also upload to another build of the platform (DIR/bin/platform.js, e.g. the
                  commit before a change, built), serving the same installation: before and
                  after in one run`;
const options = flags({ gib: 2, runs: 5, cpuProf: '', nodeOptions: '', baseline: '' }, usage);
const size = Math.round(options.gib * 2 ** 30);
const MiB = 2 ** 20;

function timedShell(script: string): number {
  const started = performance.now();
  const run = spawnSync('sh', ['-c', script], { stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`${script} failed`);
  return performance.now() - started;
}

/** tus creation, then the whole file in one PATCH; @returns ms and the upload's URL. */
async function tusUpload(endpoint: string, file: string, headers: Record<string, string>, metadata: Record<string, string>): Promise<{ ms: number; location: string }> {
  const started = performance.now();
  // A fresh connection per request: a kept-alive one the server has just closed fails a POST.
  const created = await request(endpoint, {
    reset: true,
    method: 'POST',
    headers: { ...headers, 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': Object.entries(metadata).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',') },
  });
  await created.body.dump();
  if (created.statusCode !== 201) throw new Error(`POST ${endpoint}: ${created.statusCode}`);
  const location = new URL(String(created.headers.location), endpoint).toString();
  const patched = await request(location, {
    reset: true,
    method: 'PATCH',
    headers: { ...headers, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(size) },
    body: createReadStream(file, { highWaterMark: 4 * MiB }),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const text = await patched.body.text();
  if (patched.statusCode !== 204 || patched.headers['upload-offset'] !== String(size)) throw new Error(`PATCH ${location}: ${patched.statusCode} ${text}`);
  return { ms: performance.now() - started, location };
}

const work = mkdtempSync(join(tmpdir(), 'tus-bench-'));
const servers: ChildServer[] = [];
try {
  const source = join(work, 'source.bin');
  writeRandomFile(source, size);
  process.stderr.write(`machine: ${describeMachine()}\nfile: ${(size / 2 ** 30).toFixed(2)} GiB\n`);

  // The platform: depot-fs + upload-tus on SQLite, a user with a token and a draft dataset.
  const install = await createInstallation('sqlite', { plugins: ['depot-fs', 'upload-tus'], extraConfig: '[upload]\nmax_size = 1099511627776\nquota_bytes = 1099511627776\n[http]\nx_accel_redirect = /_depot/\n' });
  const token = await seedUploader(install.configFile, Array.from({ length: options.runs + 1 }, (_, run) => [`bench-${run}`, ...(options.baseline ? [`baseline-${run}`] : [])]).flat());
  const profile = [...(options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.cpuProf)}`, '--cpu-prof-name=serve-tus.cpuprofile'] : []), ...options.nodeOptions.split(/\s+/).filter(Boolean)];
  const platform = await startServer([platformBin, '--config', install.configFile, 'serve'], { PLATFORM__HTTP__PORT: String(await freePort()), PLATFORM__JOBS__WORKER: 'external' }, profile);
  servers.push(platform);
  const baseline = options.baseline
    ? await startServer([join(resolve(options.baseline), 'bin', 'platform.js'), '--config', install.configFile, 'serve'], { PLATFORM__HTTP__PORT: String(await freePort()), PLATFORM__JOBS__WORKER: 'external' })
    : undefined;
  if (baseline) servers.push(baseline);
  const peerDir = join(work, 'peer');
  mkdirSync(peerDir);
  const peer = await startServer([join(repoRoot, 'dist', 'scripts', 'bench', 'tus-peer-server.js')], { PORT: String(await freePort()), TUS_DIR: peerDir });
  servers.push(peer);

  // nginx serving the depot with sendfile (Debian's nginx-light, when installed): what a
  // download over loopback HTTP can reach on this machine, with the same client.
  // It also takes WebDAV PUTs into a folder beside the depot (same disk): the upload ceiling.
  const putDir = join(install.dir, 'data', 'nginx-put');
  mkdirSync(putDir, { recursive: true });
  const nginx = await startNginx(join(install.dir, 'data', 'depot'), putDir, work, platform.url);

  const cp: number[] = [];
  const nginxDownloads: number[] = [];
  const accelDownloads: number[] = [];
  const ours: number[] = [];
  const theirs: number[] = [];
  const puts: number[] = [];
  const baselines: number[] = [];
  const downloads: number[] = [];
  const cats: number[] = [];
  const loads: number[] = [];
  let stored = '';
  let uploadPeakRss = NaN;
  for (let run = 0; run <= options.runs; run++) {
    const warmUp = run === 0;
    loads.push(loadavg()[0]!);
    const copied = timedShell(`cp '${source}' '${join(work, 'copy.bin')}' && sync '${join(work, 'copy.bin')}'`);
    rmSync(join(work, 'copy.bin'));
    // The three uploads take turns, the one going first rotating from run to run.
    const contenders: Array<() => Promise<void>> = [
      async () => void ours.push((await tusUpload(`${platform.url}/upload/tus/`, source, { authorization: token }, { package_id: `bench-${run}`, filename: 'large.bin' })).ms),
      async () => {
        theirs.push((await tusUpload(`${peer.url}/files`, source, {}, { filename: 'large.bin' })).ms);
        rmSync(peerDir, { recursive: true, force: true });
        mkdirSync(peerDir);
      },
      async () => {
        puts.push(nginx ? await timedPut(`${nginx.url}/put/large-${run}.bin`, source, join(putDir, `large-${run}.bin`)) : NaN);
        rmSync(join(putDir, `large-${run}.bin`), { force: true });
      },
      ...(baseline ? [async () => void baselines.push((await tusUpload(`${baseline.url}/upload/tus/`, source, { authorization: token }, { package_id: `baseline-${run}`, filename: 'large.bin' })).ms)] : []),
    ];
    for (let i = 0; i < contenders.length; i++) await contenders[(i + run) % contenders.length]!();
    const [mine, peers, put] = [ours.at(-1)!, theirs.at(-1)!, puts.at(-1)!];
    // VmHWM is the high-water mark of the process's life: read before the first download, it is the uploads' own.
    if (warmUp) uploadPeakRss = peakRssMb(platform.child.pid!);
    // Download the file just stored, then cat the source from the same disk.
    const show = await request(`${platform.url}/api/3/action/package_show?id=bench-${run}`, { headers: { authorization: token }, reset: true });
    const dataset = (await show.body.json()) as { result: { id: string; resources: Array<{ id: string; name: string; size: number }> } };
    const resource = dataset.result.resources[0]!;
    if (resource.size !== size) throw new Error(`the platform stored ${resource.size} bytes, not ${size}`);
    // depot-fs's layout (DCOR's): resources/<3>/<3>/<rest of the id>.
    const inDepot = ['resources', resource.id.slice(0, 3), resource.id.slice(3, 6), resource.id.slice(6)];
    stored = join(install.dir, 'data', 'depot', ...inDepot);
    const downloadPath = `/dataset/${dataset.result.id}/resource/${resource.id}/download/${resource.name}`;
    const downloaded = await timedDownload(platform.url + downloadPath, size, { authorization: token });
    const catted = timedShell(`cat '${stored}' > /dev/null`);
    const fromNginx = nginx ? await timedDownload(`${nginx.url}/${inDepot.join('/')}`, size) : NaN;
    const throughNginx = nginx ? await timedDownload(nginx.url + downloadPath, size, { authorization: token }) : NaN;
    process.stderr.write(`${warmUp ? 'warm-up' : `run ${run}`} (load ${loadavg()[0]!.toFixed(1)}): cp ${copied.toFixed(0)} ms, platform ${mine.toFixed(0)} ms, @tus/server ${peers.toFixed(0)} ms, nginx PUT ${put.toFixed(0)} ms${baseline ? `, baseline build ${baselines.at(-1)!.toFixed(0)} ms` : ''}, download ${downloaded.toFixed(0)} ms, cat ${catted.toFixed(0)} ms${nginx ? `, nginx ${fromNginx.toFixed(0)} ms, platform behind nginx ${throughNginx.toFixed(0)} ms` : ''}\n`);
    if (warmUp) {
      for (const xs of [ours, theirs, puts, baselines, loads]) xs.length = 0;
      continue;
    }
    cp.push(copied);
    downloads.push(downloaded);
    cats.push(catted);
    nginxDownloads.push(fromNginx);
    accelDownloads.push(throughNginx);
  }
  nginx?.stop();
  const rate = (ms: number): number => size / MiB / (ms / 1000);
  const [rdown, rcat] = [downloads, cats].map((xs) => rate(median(xs)));
  const [rssOurs, rssPeer] = [peakRssMb(platform.child.pid!), peakRssMb(peer.child.pid!)];
  /** MiB/s of the runs: median (slowest-fastest). */
  const spread = (ms: number[]): string => `${rate(median(ms)).toFixed(0)} (${rate(Math.max(...ms)).toFixed(0)}-${rate(Math.min(...ms)).toFixed(0)})`;
  /** The platform's rate against another's, run by run: median (lowest-highest). */
  const paired = (mine: number[], other: number[]): string => {
    const ratios = mine.map((m, i) => other[i]! / m).filter(Number.isFinite);
    return ratios.length ? `${(median(ratios) * 100).toFixed(0)}% (${(Math.min(...ratios) * 100).toFixed(0)}-${(Math.max(...ratios) * 100).toFixed(0)}%)` : '-';
  };
  process.stdout.write(
    [
      `${(size / 2 ** 30).toFixed(2)} GiB over loopback, median of ${options.runs} runs after one warm-up, (slowest-fastest); the uploads take turns. Load average (1 min) ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}. statSync of the stored file: ${statSync(stored).size} bytes`,
      '',
      '| path | MiB/s (range) | vs baseline (per-run ratios) | server peak RSS MB |',
      '| --- | ---: | ---: | ---: |',
      nginx ? `| nginx WebDAV PUT (then sync), same client, same disk | ${spread(puts)} | 100% | |` : '| nginx WebDAV PUT | (nginx not installed) | | |',
      `| platform /upload/tus/ into depot-fs | ${spread(ours)} | ${nginx ? `${paired(ours, puts)} of nginx PUT (aim >= 90%); ` : ''}${paired(ours, theirs)} of @tus/server (aim >= 150%) | ${uploadPeakRss.toFixed(0)} after the first upload, ${rssOurs.toFixed(0)} after all (aim < 150) |`,
      ...(baseline ? [`| baseline build (${options.baseline}) /upload/tus/ | ${spread(baselines)} | ${nginx ? `${paired(baselines, puts)} of nginx PUT; ` : ''}this build ${paired(ours, baselines)} of it | ${peakRssMb(baseline.child.pid!).toFixed(0)} (after all) |`] : []),
      `| @tus/server + FileStore | ${spread(theirs)} | ${nginx ? `${paired(theirs, puts)} of nginx PUT` : ''} | ${rssPeer.toFixed(0)} |`,
      `| cp (same disk, synced; page cache and writeback make it swing) | ${spread(cp)} | | |`,
      `| cat FILE > /dev/null | ${rcat!.toFixed(0)} | 100% | |`,
      `| platform download | ${rdown!.toFixed(0)} | ${((rdown! / rcat!) * 100).toFixed(0)}% of cat (aim >= 80%) | |`,
      ...(nginx ? [`| platform download behind nginx (X-Accel-Redirect) | ${rate(median(accelDownloads)).toFixed(0)} | ${((rate(median(accelDownloads)) / rcat!) * 100).toFixed(0)}% of cat | |`] : []),
      nginx ? `| nginx sendfile, same client | ${rate(median(nginxDownloads)).toFixed(0)} | ${((rate(median(nginxDownloads)) / rcat!) * 100).toFixed(0)}% of cat; the platform ${((rdown! / rate(median(nginxDownloads))) * 100).toFixed(0)}% of it | |` : '| nginx sendfile | (nginx not installed) | | |',
      '',
    ].join('\n'),
  );
  await install.dispose();
} finally {
  for (const server of servers) await server.stop();
  rmSync(work, { recursive: true, force: true });
}

/**
 * PUTs `file` as the tus uploads send it (one streamed body, 4 MiB reads), then syncs the
 * stored copy `stored` to disk, as depot-fs does before it answers; @returns ms.
 */
async function timedPut(url: string, file: string, stored: string): Promise<number> {
  const started = performance.now();
  const response = await request(url, {
    reset: true,
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body: createReadStream(file, { highWaterMark: 4 * MiB }),
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  await response.body.dump();
  if (response.statusCode !== 201 && response.statusCode !== 204) throw new Error(`PUT ${url}: ${response.statusCode}`);
  if (spawnSync('sync', [stored]).status !== 0) throw new Error(`sync ${stored} failed`);
  return performance.now() - started;
}

/**
 * nginx in the foreground on a free port, or undefined without nginx: it serves `root` with
 * sendfile, proxies /dataset/ to the platform with X-Accel-Redirect as nginx/platform.conf
 * does, and takes WebDAV PUTs under /put/ into `putDir` (its request body buffered to a
 * temporary file in `putDir` and renamed, so the bytes are written to the same disk once).
 */
async function startNginx(root: string, putDir: string, work: string, platformUrl: string): Promise<{ url: string; stop: () => void } | undefined> {
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) return undefined;
  const port = await freePort();
  const dir = join(work, 'nginx');
  mkdirSync(dir, { recursive: true });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ');
  // Started as root, nginx's workers would drop to nobody, who may not read depot-fs's 0640 files.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  writeFileSync(join(dir, 'nginx.conf'), `${user} worker_processes 1; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')};
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on; ${temp} server { listen 127.0.0.1:${port}; root ${root};
  location /dataset/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header X-Sendfile-Type X-Accel-Redirect; proxy_max_temp_file_size 0; proxy_pass ${platformUrl}; }
  location /_depot/ { internal; alias ${root}/; etag off; add_header ETag $upstream_http_etag; }
  location /put/ { alias ${putDir}/; dav_methods PUT; client_max_body_size 0; client_body_temp_path ${putDir}/.tmp; } } }
`);
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const up = await request(`${url}/`, { reset: true }).then((r) => r.body.dump().then(() => true), () => false);
    if (up) return { url, stop: () => child.kill('SIGQUIT') };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error('nginx did not start');
}
