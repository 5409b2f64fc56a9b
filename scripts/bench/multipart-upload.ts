// Benchmark: a file (default 2 GiB) uploaded the CKAN way, multipart/form-data to
// resource_create with an `upload` part (as ckanapi sends it), against the same file through
// /upload/tus/ (a creation POST and one streamed PATCH), alternating in one run on one
// `platform serve` (SQLite, depot-fs); MiB/s, the multipart rate as a share of tus's, and the
// server's peak RSS (VmHWM) after each kind. Medians of --runs (after one warm-up of each).
// Usage: node dist/scripts/bench/multipart-upload.js [--gib 2] [--runs 3]
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import { seedUploader } from './seed-uploader.js';
import { createInstallation, describeMachine, flags, freePort, median, platformBin, startServer } from './bench-support.js';

const options = flags({ gib: 2, runs: 3 }, 'usage: node dist/scripts/bench/multipart-upload.js [--gib G] [--runs R]');
const size = Math.round(options.gib * 2 ** 30);
const MiB = 2 ** 20;

/** Resident set now and at its peak, in MB (Linux VmRSS, VmHWM). */
function rssMb(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { now: kb('VmRSS'), peak: kb('VmHWM') };
}

async function tusUpload(base: string, file: string, token: string, dataset: string): Promise<number> {
  const started = performance.now();
  const metadata = `package_id ${Buffer.from(dataset).toString('base64')},filename ${Buffer.from('large.bin').toString('base64')}`;
  const created = await request(`${base}/upload/tus/`, { method: 'POST', headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': metadata } });
  await created.body.dump();
  const location = new URL(String(created.headers.location), base).toString();
  if (created.statusCode !== 201) throw new Error(`tus POST: ${created.statusCode}`);
  const patched = await request(location, {
    method: 'PATCH', body: createReadStream(file, { highWaterMark: MiB }),
    headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(size) },
  });
  await patched.body.dump();
  if (patched.statusCode !== 204) throw new Error(`tus PATCH: ${patched.statusCode}`);
  return performance.now() - started;
}

/** The body python-requests writes for ckanapi (urllib3 filepost.encode_multipart_formdata), streamed. */
async function multipartUpload(base: string, file: string, token: string, dataset: string): Promise<number> {
  const boundary = randomBytes(16).toString('hex');
  const field = (name: string, value: string): string => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(`${field('package_id', dataset)}${field('name', 'large.bin')}--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="large.bin"\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const body = new PassThrough({ highWaterMark: MiB });
  void (async () => {
    body.write(head);
    for await (const chunk of createReadStream(file, { highWaterMark: MiB })) if (!body.write(chunk)) await new Promise((resolve) => body.once('drain', resolve));
    body.end(tail);
  })();
  const started = performance.now();
  const answer = await request(`${base}/api/action/resource_create`, {
    method: 'POST', body, headers: { authorization: token, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) },
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`multipart resource_create: ${answer.statusCode} ${text.slice(0, 300)}`);
  const stored = (JSON.parse(text) as { result: { size: number } }).result.size;
  if (stored !== size) throw new Error(`stored ${stored} bytes, not ${size}`);
  return performance.now() - started;
}

const work = mkdtempSync(join(tmpdir(), 'multipart-bench-'));
try {
  const source = join(work, 'large.bin');
  const fd = openSync(source, 'w');
  const block = randomBytes(8 * MiB);
  for (let written = 0; written < size; written += block.length) writeSync(fd, block, 0, Math.min(block.length, size - written));
  closeSync(fd);
  process.stderr.write(`machine: ${describeMachine()}\nfile: ${(size / 2 ** 30).toFixed(2)} GiB\n`);
  const install = await createInstallation('sqlite', { plugins: ['depot-fs', 'upload-tus'], extraConfig: '[upload]\nmax_size = 1099511627776\nquota_bytes = 1099511627776\n' });
  const token = await seedUploader(install.configFile, Array.from({ length: options.runs + 1 }, (_, run) => ['tus', 'multipart'].map((kind) => `${kind}-${run}`)).flat());
  const server = await startServer([platformBin, '--config', install.configFile, 'serve'], { PLATFORM__HTTP__PORT: String(await freePort()), PLATFORM__JOBS__WORKER: 'external' });
  try {
    const tus: number[] = [];
    const multipart: number[] = [];
    let peakAfterTus = NaN;
    for (let run = 0; run <= options.runs; run++) {
      const t = await tusUpload(server.url, source, token, `tus-${run}`);
      if (run === 0) peakAfterTus = rssMb(server.child.pid!).peak;
      const m = await multipartUpload(server.url, source, token, `multipart-${run}`);
      process.stderr.write(`${run === 0 ? 'warm-up' : `run ${run}`}: tus ${t.toFixed(0)} ms, multipart ${m.toFixed(0)} ms, server RSS ${rssMb(server.child.pid!).now.toFixed(0)} MB\n`);
      if (run === 0) continue;
      tus.push(t);
      multipart.push(m);
    }
    const rate = (ms: number): number => size / MiB / (ms / 1000);
    const [rt, rm] = [rate(median(tus)), rate(median(multipart))];
    process.stdout.write([
      `${(size / 2 ** 30).toFixed(2)} GiB over loopback into depot-fs, median of ${options.runs} runs (after one warm-up of each), alternating`,
      '',
      '| path | MiB/s | vs tus | server peak RSS MB |',
      '| --- | ---: | ---: | ---: |',
      `| /upload/tus/ (POST + one streamed PATCH) | ${rt.toFixed(0)} | 100% | ${peakAfterTus.toFixed(0)} after the first tus upload |`,
      `| multipart resource_create with upload | ${rm.toFixed(0)} | ${((rm / rt) * 100).toFixed(0)}% (aim >= 80%) | ${rssMb(server.child.pid!).peak.toFixed(0)} after all |`,
      '',
    ].join('\n'));
  } finally {
    await server.stop();
    await install.dispose();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
