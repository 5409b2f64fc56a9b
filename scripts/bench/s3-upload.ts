// Benchmark: a large tus upload through the platform into depot-s3 on a RADOS Gateway,
// against the ceiling in the same run: one plain streamed PUT of the same file to the same
// gateway (signed the same way, UNSIGNED-PAYLOAD). Both over loopback; MiB/s and the
// platform's peak RSS (VmHWM). The gateway is a throwaway one-node memstore cluster
// (scripts/ceph/rgw-cluster.ts) sized for the file; each run's objects are deleted after it.
// Usage: node dist/scripts/bench/s3-upload.js [--gib 1] [--runs 3] [--part-mb 8]
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { writeRandomFile, peakRssMb } from './bench-files.js';
import { seedUploader } from './seed-uploader.js';
import { S3Client } from '../../plugins/depot-s3/s3-client.js';
import { startRgwCluster } from '../ceph/rgw-cluster.js';
import { createInstallation, describeMachine, flags, freePort, median, platformBin, startServer, type ChildServer } from './bench-support.js';

const usage = `usage: node dist/scripts/bench/s3-upload.js [--gib G] [--runs R] [--part-mb M]
  --gib G      size of the file in GiB (default 1; the gateway keeps objects in memory)
  --runs R     timed runs of each; figures are medians (default 3)
  --part-mb M  [plugin:depot-s3] part_size_mb (default 8)`;
const options = flags({ gib: 1, runs: 3, partMb: 8 }, usage);
const size = Math.round(options.gib * 2 ** 30);
const MiB = 2 ** 20;

async function tusUpload(endpoint: string, file: string, token: string, dataset: string): Promise<number> {
  const started = performance.now();
  const metadata = `package_id ${Buffer.from(dataset).toString('base64')},filename ${Buffer.from('large.bin').toString('base64')}`;
  const created = await request(endpoint, { reset: true, method: 'POST', headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-length': String(size), 'upload-metadata': metadata } });
  await created.body.dump();
  if (created.statusCode !== 201) throw new Error(`POST ${endpoint}: ${created.statusCode}`);
  const location = new URL(String(created.headers.location), endpoint).toString();
  const patched = await request(location, {
    reset: true, method: 'PATCH', headersTimeout: 0, bodyTimeout: 0,
    headers: { authorization: token, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-length': String(size) },
    body: createReadStream(file, { highWaterMark: 4 * MiB }),
  });
  const text = await patched.body.text();
  if (patched.statusCode !== 204) throw new Error(`PATCH ${location}: ${patched.statusCode} ${text}`);
  return performance.now() - started;
}

const work = mkdtempSync(join(tmpdir(), 's3-bench-'));
const cluster = await startRgwCluster({ memstoreBytes: 3 * size + 2 ** 30 });
let platform: ChildServer | undefined;
try {
  const source = join(work, 'source.bin');
  writeRandomFile(source, size);
  process.stderr.write(`machine: ${describeMachine()}\nfile: ${(size / 2 ** 30).toFixed(2)} GiB; gateway started in ${cluster.startSeconds.toFixed(1)} s\n`);
  writeFileSync(join(work, 'access'), cluster.accessKey, { mode: 0o600 });
  writeFileSync(join(work, 'secret'), cluster.secretKey, { mode: 0o600 });
  const install = await createInstallation('sqlite', {
    plugins: ['depot-s3', 'upload-tus'],
    extraConfig: `[upload]\nmax_size = 1099511627776\nquota_bytes = 1099511627776\n[depot]\nactive = s3\n[plugin:depot-s3]\nendpoint = ${cluster.endpoint}\nregion = ${cluster.region}\nbucket_prefix = bench-\naccess_key_file = ${join(work, 'access')}\nsecret_key_file = ${join(work, 'secret')}\npart_size_mb = ${options.partMb}\n`,
  });
  const token = await seedUploader(install.configFile, Array.from({ length: options.runs + 1 }, (_, run) => `bench-${run}`));
  platform = await startServer([platformBin, '--config', install.configFile, 'serve'], { PLATFORM__HTTP__PORT: String(await freePort()), PLATFORM__JOBS__WORKER: 'external' });
  const client = new S3Client({ endpoint: cluster.endpoint, region: cluster.region, credentials: { accessKey: cluster.accessKey, secretKey: cluster.secretKey } });
  await client.createBucket('bench-ceiling');
  const puts: number[] = [];
  const ours: number[] = [];
  for (let run = 0; run <= options.runs; run++) {
    const warmUp = run === 0;
    let started = performance.now();
    await client.putObjectStream('bench-ceiling', 'large.bin', createReadStream(source, { highWaterMark: 4 * MiB }), size);
    const put = performance.now() - started;
    await client.deleteObject('bench-ceiling', 'large.bin');
    started = performance.now();
    const mine = await tusUpload(`${platform.url}/upload/tus/`, source, token, `bench-${run}`);
    for await (const object of client.listObjects('bench-lab')) await client.deleteObject('bench-lab', object.key);
    process.stderr.write(`${warmUp ? 'warm-up' : `run ${run}`}: plain PUT ${put.toFixed(0)} ms, platform tus ${mine.toFixed(0)} ms\n`);
    if (warmUp) continue;
    puts.push(put);
    ours.push(mine);
  }
  await client.close();
  const rate = (ms: number): number => size / MiB / (ms / 1000);
  const [rput, rours] = [rate(median(puts)), rate(median(ours))];
  process.stdout.write(
    [
      `${(size / 2 ** 30).toFixed(2)} GiB over loopback into a one-node memstore RADOS Gateway, median of ${options.runs} runs (after one warm-up), part_size_mb ${options.partMb}`,
      '',
      '| path | MiB/s | vs ceiling | platform peak RSS MB |',
      '| --- | ---: | ---: | ---: |',
      `| one streamed PUT to the gateway | ${rput.toFixed(0)} | 100% | |`,
      `| platform /upload/tus/ into depot-s3 (one PATCH) | ${rours.toFixed(0)} | ${((rours / rput) * 100).toFixed(0)}% (aim >= 85%) | ${peakRssMb(platform.child.pid!).toFixed(0)} (aim < 150) |`,
      '',
    ].join('\n'),
  );
  await install.dispose();
} finally {
  await platform?.stop();
  await cluster.stop();
  rmSync(work, { recursive: true, force: true });
}
