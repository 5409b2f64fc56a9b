// Benchmark: the platform's own download of a stored file (GET /dataset/.../download/..., depot-fs)
// against nginx sending the same file with sendfile to the same client, the measurable ceiling
// of a download over loopback HTTP; optionally also against another build of the platform
// (--baseline DIR: a built checkout, e.g. the commit before a change) serving the same
// installation, so before and after are measured in one run. The contenders take turns, the
// order rotating run by run; medians of per-run ratios, and the load average at each run.
// Usage: node dist/scripts/bench/download-throughput.js [--mib 512] [--runs 7] [--baseline DIR]
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { writeRandomFile, peakRssMb, timedDownload } from './bench-files.js';
import { seedUploader } from './seed-uploader.js';
import { createInstallation, describeMachine, flags, freePort, median, platformBin, startServer, type ChildServer } from './bench-support.js';

const usage = `usage: node dist/scripts/bench/download-throughput.js [--mib M] [--runs R] [--baseline DIR]
  --mib M         size of the file in MiB (default 512)
  --runs R        timed runs of each, after one warm-up (default 7)
  --baseline DIR  also download through another build (DIR/bin/platform.js) of the same installation`;
const options = flags({ mib: 512, runs: 7, baseline: '' }, usage);
const MiB = 2 ** 20;
const size = Math.round(options.mib * MiB);

async function upload(base: string, file: string, token: string, dataset: string): Promise<void> {
  const metadata = `package_id ${Buffer.from(dataset).toString('base64')},filename ${Buffer.from('large.bin').toString('base64')}`;
  const created = await request(`${base}/upload/tus/`, { reset: true, method: 'POST', headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': metadata } });
  await created.body.dump();
  if (created.statusCode !== 201) throw new Error(`POST: ${created.statusCode}`);
  const patched = await request(new URL(String(created.headers.location), base), {
    reset: true, method: 'PATCH', headersTimeout: 0, bodyTimeout: 0,
    headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(size) },
    body: createReadStream(file, { highWaterMark: 4 * MiB }),
  });
  const text = await patched.body.text();
  if (patched.statusCode !== 204) throw new Error(`PATCH: ${patched.statusCode} ${text}`);
}

/** nginx serving `root` with sendfile on a free port (as root its workers stay root, to read depot-fs's 0640 files). */
async function startNginx(root: string, work: string): Promise<{ url: string; stop: () => void }> {
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) throw new Error('nginx is needed (Debian: nginx-light)');
  const port = await freePort();
  const dir = join(work, 'nginx');
  mkdirSync(dir, { recursive: true });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ');
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  writeFileSync(join(dir, 'nginx.conf'), `${user} worker_processes 1; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')};
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on; ${temp} server { listen 127.0.0.1:${port}; root ${root}; } }
`);
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await request(`${url}/`, { reset: true }).then((r) => r.body.dump().then(() => true), () => false)) return { url, stop: () => child.kill('SIGQUIT') };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('nginx did not start');
}

const work = mkdtempSync(join(tmpdir(), 'download-bench-'));
const servers: ChildServer[] = [];
let nginx: { url: string; stop: () => void } | undefined;
try {
  const source = join(work, 'source.bin');
  writeRandomFile(source, size);
  process.stderr.write(`machine: ${describeMachine()}\nfile: ${options.mib} MiB\n`);
  const install = await createInstallation('sqlite', { plugins: ['depot-fs', 'upload-tus'], extraConfig: '[upload]\nmax_size = 1099511627776\nquota_bytes = 1099511627776\n' });
  const token = await seedUploader(install.configFile, ['bench-download']);
  const platform = await startServer([platformBin, '--config', install.configFile, 'serve'], { PLATFORM__HTTP__PORT: String(await freePort()), PLATFORM__JOBS__WORKER: 'external' });
  servers.push(platform);
  await upload(platform.url, source, token, 'bench-download');
  rmSync(source);
  const show = await request(`${platform.url}/api/3/action/package_show?id=bench-download`, { headers: { authorization: token }, reset: true });
  const dataset = (await show.body.json()) as { result: { id: string; resources: Array<{ id: string; name: string; size: number }> } };
  const resource = dataset.result.resources[0]!;
  const path = `/dataset/${dataset.result.id}/resource/${resource.id}/download/${resource.name}`;
  // depot-fs's layout (DCOR's): resources/<3>/<3>/<rest of the id>.
  const inDepot = `resources/${resource.id.slice(0, 3)}/${resource.id.slice(3, 6)}/${resource.id.slice(6)}`;
  const baseline = options.baseline
    ? await startServer([join(resolve(options.baseline), 'bin', 'platform.js'), '--config', install.configFile, 'serve'], { PLATFORM__HTTP__PORT: String(await freePort()), PLATFORM__JOBS__WORKER: 'external' })
    : undefined;
  if (baseline) servers.push(baseline);
  nginx = await startNginx(join(install.dir, 'data', 'depot'), work);
  const contenders: Array<{ name: string; url: string; headers: Record<string, string>; ms: number[] }> = [
    { name: 'nginx sendfile, same client', url: `${nginx.url}/${inDepot}`, headers: {}, ms: [] },
    { name: 'platform download (this build)', url: platform.url + path, headers: { authorization: token }, ms: [] },
    ...(baseline ? [{ name: `platform download (baseline build ${options.baseline})`, url: baseline.url + path, headers: { authorization: token }, ms: [] }] : []),
  ];
  const loads: number[] = [];
  for (let run = 0; run <= options.runs; run++) {
    loads.push(loadavg()[0]!);
    const times: string[] = [];
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(i + run) % contenders.length]!;
      const ms = await timedDownload(contender.url, size, contender.headers);
      if (run > 0) contender.ms.push(ms);
      times.push(`${contender.name} ${ms.toFixed(0)} ms`);
    }
    process.stderr.write(`${run === 0 ? 'warm-up' : `run ${run}`} (load ${loads.at(-1)!.toFixed(1)}): ${times.join(', ')}\n`);
  }
  const rate = (ms: number): number => size / MiB / (ms / 1000);
  const ceiling = contenders[0]!;
  const ratio = (ms: number[]): string => {
    const ratios = ms.map((m, i) => ceiling.ms[i]! / m);
    return `${(median(ratios) * 100).toFixed(0)}% (${(Math.min(...ratios) * 100).toFixed(0)}-${(Math.max(...ratios) * 100).toFixed(0)}%)`;
  };
  process.stdout.write(
    [
      `${options.mib} MiB over loopback, median of ${options.runs} runs after one warm-up, taking turns; load average (1 min) ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
      '',
      '| path | MiB/s (slowest-fastest) | vs nginx sendfile (per-run ratios) | server peak RSS MB |',
      '| --- | ---: | ---: | ---: |',
      ...contenders.map((c, i) => `| ${c.name} | ${rate(median(c.ms)).toFixed(0)} (${rate(Math.max(...c.ms)).toFixed(0)}-${rate(Math.min(...c.ms)).toFixed(0)}) | ${i === 0 ? '100%' : `${ratio(c.ms)}${i === 1 ? ' (aim >= 90%)' : ''}`} | ${i === 1 ? peakRssMb(platform.child.pid!).toFixed(0) : i === 2 && baseline ? peakRssMb(baseline.child.pid!).toFixed(0) : ''} |`),
      '',
    ].join('\n'),
  );
  await install.dispose();
} finally {
  nginx?.stop();
  for (const server of servers) await server.stop();
  rmSync(work, { recursive: true, force: true });
}
