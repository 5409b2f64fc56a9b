// A small HTTP load generator on undici: a fixed number of concurrent connections, each
// sending requests back to back for a fixed time; reports throughput and latency
// percentiles from every recorded latency.
import { Pool } from 'undici';

/** What one scenario measured. */
export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** The value at a percentile of sorted numbers. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The median of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Drives `origin` with `connections` concurrent clients for `seconds`, each request's path
 * chosen by `path()`. Non-2xx answers count as errors.
 */
export async function runLoad(origin: string, path: () => string, options: { connections: number; seconds: number; warmupSeconds?: number; headers?: Record<string, string> }): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: options.connections, pipelining: 1 });
  try {
    const drive = async (seconds: number, record: boolean): Promise<{ latencies: number[]; errors: number }> => {
      const latencies: number[] = [];
      let errors = 0;
      const end = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: options.connections }, async () => {
          while (performance.now() < end) {
            const start = performance.now();
            try {
              const response = await pool.request({ path: path(), method: 'GET', headers: options.headers ?? {} });
              await response.body.arrayBuffer();
              if (response.statusCode >= 300) errors++;
            } catch {
              errors++;
            }
            if (record) latencies.push(performance.now() - start);
          }
        }),
      );
      return { latencies, errors };
    };
    if (options.warmupSeconds) await drive(options.warmupSeconds, false);
    const started = performance.now();
    const { latencies, errors } = await drive(options.seconds, true);
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return { requests: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  } finally {
    await pool.close();
  }
}
