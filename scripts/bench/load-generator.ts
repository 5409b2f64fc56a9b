// A small HTTP load generator on undici: a pool of N connections (pipelining 1), each
// connection's loop sending requests back to back for a fixed time or until a fixed number
// of requests is done, after a warm-up. Every latency is recorded; percentiles come from
// the sorted array (exact, where HdrHistogram would bucket).
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

/** What one measurement found. */
export interface LoadResult {
  /** Answered requests with a 2xx status. */
  requests: number;
  /** Requests that failed or answered with another status. */
  errors: number;
  /** The first error seen, for the report. */
  firstError?: string;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU time the server process spent per answered request while measured (Linux, with serverPid). */
  serverCpuUsPerRequest?: number;
}

/** How to drive a server. */
export interface LoadOptions {
  /** Concurrent connections (and requests in flight). */
  connections: number;
  /** Measured time; ignored when `requests` is given. */
  seconds: number;
  /** A fixed number of measured requests instead of a fixed time. */
  requests?: number;
  /** Unmeasured time first, so connections, JIT and caches are warm. */
  warmupSeconds?: number;
  headers?: Record<string, string>;
  /** The server's process id: its CPU time per request is measured from /proc (Linux only). */
  serverPid?: number;
}

/** CPU time (user and system) of a process so far in microseconds, from /proc; undefined where there is none. */
function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), 1-based from "state": utime is 12th, stime 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** The value at percentile `p` (0-100) of ascending numbers (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/**
 * Drives `origin` with GET requests, each path chosen by `path()`, and measures
 * throughput and latency. Bodies are read in full; non-2xx answers count as errors and
 * are left out of the latencies.
 */
export async function runLoad(origin: string, path: () => string, options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: options.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const headers = options.headers ?? {};
  let firstError: string | undefined;
  const drive = async (until: { end?: number; count?: number }, record: boolean): Promise<{ latencies: Float64Array; done: number; errors: number }> => {
    let latencies = new Float64Array(until.count ?? 1 << 16);
    let done = 0;
    let started = 0;
    let errors = 0;
    const more = (): boolean => (until.count !== undefined ? started < until.count : performance.now() < until.end!);
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (more()) {
          started++;
          const start = performance.now();
          try {
            const response = await pool.request({ path: path(), method: 'GET', headers });
            if (response.statusCode < 200 || response.statusCode >= 300) {
              const body = await response.body.text();
              errors++;
              firstError ??= `HTTP ${response.statusCode}: ${body.slice(0, 200)}`;
              continue;
            }
            // Read to the end without decoding, as wrk and autocannon do: decoding every body
            // made this generator, not the server, the limit for answers of a few kilobytes.
            let received = 0;
            for await (const chunk of response.body) received += (chunk as Buffer).length;
            if (received === 0) {
              errors++;
              firstError ??= `HTTP ${response.statusCode} with an empty body`;
              continue;
            }
          } catch (error) {
            errors++;
            firstError ??= error instanceof Error ? error.message : String(error);
            continue;
          }
          if (record) {
            if (done === latencies.length) {
              const grown = new Float64Array(latencies.length * 2);
              grown.set(latencies);
              latencies = grown;
            }
            latencies[done] = performance.now() - start;
          }
          done++;
        }
      }),
    );
    return { latencies: latencies.subarray(0, record ? done : 0), done, errors };
  };
  try {
    if (options.warmupSeconds) await drive({ end: performance.now() + options.warmupSeconds * 1000 }, false);
    const started = performance.now();
    const cpuBefore = options.serverPid === undefined ? undefined : processCpuUs(options.serverPid);
    const { latencies, done, errors } = await drive(options.requests ? { count: options.requests } : { end: started + options.seconds * 1000 }, true);
    const seconds = (performance.now() - started) / 1000;
    const cpuAfter = options.serverPid === undefined ? undefined : processCpuUs(options.serverPid);
    latencies.sort();
    return {
      requests: done,
      errors,
      ...(firstError ? { firstError } : {}),
      seconds,
      perSecond: done / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      ...(cpuBefore !== undefined && cpuAfter !== undefined && done ? { serverCpuUsPerRequest: (cpuAfter - cpuBefore) / done } : {}),
    };
  } finally {
    await pool.close();
  }
}
