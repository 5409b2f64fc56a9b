// Benchmark: two `platform serve` nodes against one, behind nginx, on one PostgreSQL: many
// concurrent tus uploads (default 50 of 100 MiB) through nginx, aggregate MiB/s with one
// node in the upstream and with two, in the same run, taking turns; and each node's peak
// resident memory during the uploads. The depot (depot-fs, shared by both nodes) lives on a
// tmpfs so the disk is not the limit; it is emptied after every round.
// Usage: node dist/scripts/bench/two-nodes.js [--uploads 50] [--mib 100] [--runs 2] [--pg URL] [--tmpfs /dev/shm]
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { writeRandomFile } from './bench-files.js';
import { seedUploader } from './seed-uploader.js';
import { createInstallation, defaultPgUrl, describeMachine, flags, freePort, median, platformBin, startServer, type ChildServer } from './bench-support.js';

const usage = `usage: node dist/scripts/bench/two-nodes.js [--uploads N] [--mib M] [--runs R] [--pg URL] [--tmpfs DIR]
  --uploads N  concurrent uploads per round (default 50)
  --mib M      size of each upload in MiB (default 100)
  --runs R     rounds of each (one node, two nodes), after one warm-up (default 2)
  --pg URL     PostgreSQL server (default ${defaultPgUrl})
  --tmpfs DIR  a memory-backed directory for the depot (default /dev/shm)`;
const options = flags({ uploads: 50, mib: 100, runs: 2, pg: defaultPgUrl, tmpfs: '/dev/shm' }, usage);
const MiB = 2 ** 20;
const size = Math.round(options.mib * MiB);

/** Samples each process's resident memory (VmRSS) every 100 ms; @returns a stop function giving the peaks in MB. */
function sampleRss(pids: number[]): () => number[] {
  const peaks = pids.map(() => 0);
  const timer = setInterval(() => {
    pids.forEach((pid, i) => {
      let status = '';
      try {
        status = readFileSync(`/proc/${pid}/status`, 'utf8');
      } catch {
        return; // the node is gone: its exit is reported below
      }
      const match = /VmRSS:\s+(\d+) kB/.exec(status);
      if (match) peaks[i] = Math.max(peaks[i]!, Number(match[1]) / 1024);
    });
  }, 100);
  return () => {
    clearInterval(timer);
    return peaks;
  };
}

async function tusUpload(front: string, file: string, token: string, dataset: string, name: string, dispatcher: Agent): Promise<void> {
  const metadata = `package_id ${Buffer.from(dataset).toString('base64')},filename ${Buffer.from(name).toString('base64')}`;
  const created = await request(`${front}/upload/tus/`, { dispatcher, method: 'POST', headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': metadata } });
  const text = await created.body.text();
  if (created.statusCode !== 201) throw new Error(`POST: ${created.statusCode} ${text}`);
  const patched = await request(new URL(String(created.headers.location), front), {
    dispatcher, method: 'PATCH', headersTimeout: 0, bodyTimeout: 0,
    headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(size) },
    body: createReadStream(file, { highWaterMark: MiB }),
  });
  const answer = await patched.body.text();
  if (patched.statusCode !== 204) throw new Error(`PATCH: ${patched.statusCode} ${answer}`);
}

/** nginx in front of `nodes` (one upstream, request bodies streamed as nginx/platform.conf does). */
async function startNginx(nodes: string[], work: string, name: string): Promise<{ url: string; stop: () => void }> {
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) throw new Error('nginx is needed (Debian: nginx-light)');
  const port = await freePort();
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${join(dir, t)};`).join(' ');
  // keepalive_timeout under Node's 5 s keep-alive: nginx must not reuse a connection the node is closing (a 502 for a PATCH).
  writeFileSync(join(dir, 'nginx.conf'), `worker_processes 1; pid ${join(dir, 'nginx.pid')}; error_log ${join(dir, 'error.log')};
events { worker_connections 1024; }
http { access_log off; ${temp}
  upstream platform { ${nodes.map((n) => `server ${new URL(n).host};`).join(' ')} keepalive 64; keepalive_timeout 2s; }
  server { listen 127.0.0.1:${port}; client_max_body_size 0;
    location / { proxy_pass http://platform; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_request_buffering off; proxy_buffering off; proxy_read_timeout 600s; proxy_send_timeout 600s; } } }
`);
  const child = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await request(`${url}/api/3/action/status_show`, { reset: true }).then((r) => r.body.dump().then(() => true), () => false)) return { url, stop: () => child.kill('SIGQUIT') };
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('nginx did not start');
}

const work = mkdtempSync(join(tmpdir(), 'two-nodes-bench-'));
const depotRoot = mkdtempSync(join(options.tmpfs, 'two-nodes-depot-'));
const servers: ChildServer[] = [];
const fronts: Array<{ stop: () => void }> = [];
try {
  const source = join(work, 'source.bin');
  writeRandomFile(source, size);
  process.stderr.write(`machine: ${describeMachine()}\n${options.uploads} uploads of ${options.mib} MiB at once; depot on ${options.tmpfs}\n`);
  const install = await createInstallation('postgres', {
    pgUrl: options.pg,
    plugins: ['depot-fs', 'upload-tus'],
    extraConfig: `[upload]\nmax_size = 1099511627776\nquota_bytes = 1099511627776\n[plugin:depot-fs]\nroot = ${depotRoot}\n`,
  });
  const rounds = Array.from({ length: options.runs + 1 }, (_, run) => [`one-${run}`, `two-${run}`]).flat();
  const token = await seedUploader(install.configFile, rounds);
  const env = { PLATFORM__JOBS__WORKER: 'external' };
  const a = await startServer([platformBin, '--config', install.configFile, 'serve'], { ...env, PLATFORM__HTTP__PORT: String(await freePort()) });
  servers.push(a);
  const b = await startServer([platformBin, '--config', install.configFile, 'serve'], { ...env, PLATFORM__HTTP__PORT: String(await freePort()) });
  servers.push(b);
  for (const [name, node] of [['A', a], ['B', b]] as const) {
    node.child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[node ${name}] ${chunk.toString()}`));
    node.child.once('exit', (code, signal) => process.stderr.write(`[node ${name}] exited (${signal ?? code})\n`));
  }
  const one = await startNginx([a.url], work, 'nginx-one');
  fronts.push(one);
  const two = await startNginx([a.url, b.url], work, 'nginx-two');
  fronts.push(two);
  const dispatcher = new Agent({ connections: options.uploads * 2 });
  const scenarios = [
    { name: 'one node', front: one.url, ms: [] as number[], rss: [] as number[][] },
    { name: 'two nodes', front: two.url, ms: [] as number[], rss: [] as number[][] },
  ];
  const loads: number[] = [];
  for (let run = 0; run <= options.runs; run++) {
    loads.push(loadavg()[0]!);
    const line: string[] = [];
    for (let i = 0; i < scenarios.length; i++) {
      const scenario = scenarios[(i + run) % scenarios.length]!;
      const dataset = `${scenario.name === 'one node' ? 'one' : 'two'}-${run}`;
      const stopSampling = sampleRss([a.child.pid!, b.child.pid!]);
      const started = performance.now();
      await Promise.all(Array.from({ length: options.uploads }, (_, k) => tusUpload(scenario.front, source, token, dataset, `file-${k}.bin`, dispatcher)));
      const ms = performance.now() - started;
      const rss = stopSampling();
      // The bytes go; the rows stay (the next round uploads into another dataset).
      rmSync(join(depotRoot, 'resources'), { recursive: true, force: true });
      line.push(`${scenario.name} ${ms.toFixed(0)} ms (RSS ${rss.map((r) => r.toFixed(0)).join(' / ')} MB)`);
      if (run === 0) continue;
      scenario.ms.push(ms);
      scenario.rss.push(rss);
    }
    process.stderr.write(`${run === 0 ? 'warm-up' : `run ${run}`} (load ${loads.at(-1)!.toFixed(1)}): ${line.join(', ')}\n`);
  }
  await dispatcher.close();
  const total = (options.uploads * size) / MiB;
  const rate = (ms: number): number => total / (ms / 1000);
  const [single, double] = scenarios;
  const ratios = single!.ms.map((ms, i) => ms / double!.ms[i]!);
  const peak = (rss: number[][], node: number): string => Math.max(...rss.map((r) => r[node]!)).toFixed(0);
  process.stdout.write(
    [
      `${options.uploads} concurrent tus uploads of ${options.mib} MiB through nginx, PostgreSQL, depot-fs on tmpfs; median of ${options.runs} rounds after a warm-up, taking turns; load average (1 min) ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
      '',
      '| upstream | MiB/s (all uploads) | vs one node (per-round ratios) | peak RSS node A / node B MB |',
      '| --- | ---: | ---: | ---: |',
      `| one node | ${rate(median(single!.ms)).toFixed(0)} | 1.00x | ${peak(single!.rss, 0)} / (idle) ${peak(single!.rss, 1)} |`,
      `| two nodes | ${rate(median(double!.ms)).toFixed(0)} | ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}x; aim >= 1.6x) | ${peak(double!.rss, 0)} / ${peak(double!.rss, 1)} |`,
      '',
    ].join('\n'),
  );
  for (const front of fronts.splice(0)) front.stop();
  for (const server of servers.splice(0)) await server.stop();
  await install.dispose();
} finally {
  for (const front of fronts) front.stop();
  for (const server of servers) await server.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(depotRoot, { recursive: true, force: true });
}
