// Pieces the upload and download benchmarks share: a file of random bytes to send, a timed
// download that checks what arrived, and a child server's peak memory.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';

const BLOCK = 16 * 2 ** 20;

/** Writes `size` bytes of random data (one 16 MiB block repeated) to `path`. */
export function writeRandomFile(path: string, size: number): void {
  const block = randomBytes(BLOCK);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; written += block.length) writeSync(fd, block, 0, Math.min(block.length, size - written));
  } finally {
    closeSync(fd);
  }
}

/** Peak resident set of a process so far, in MB (Linux VmHWM). */
export function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Downloads `url` to nowhere, failing unless it answers 200 with `size` bytes; @returns ms. */
export async function timedDownload(url: string, size: number, headers: Record<string, string> = {}): Promise<number> {
  const started = performance.now();
  const response = await request(url, { headers, bodyTimeout: 0, reset: true });
  let received = 0;
  for await (const chunk of response.body) received += (chunk as Buffer).length;
  if (response.statusCode !== 200 || received !== size) throw new Error(`${url}: ${response.statusCode}, ${received} bytes`);
  return performance.now() - started;
}
