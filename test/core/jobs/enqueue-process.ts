// Run as a separate process by the worker-process tests: starts a host on the installation
// named by argv[2], waits until the wall-clock time argv[3] (so that several such processes
// enqueue at the same moment), then enqueues argv[4] `test.record` jobs at once, job i with
// the dedupe key `${argv[5]}-${i}`, and prints `{ key: jobId }` as JSON.
import { PlatformHost } from '../../../core/host/platform-host.js';
import { JobQueueId } from '../../../core/services/service-ids.js';

const [configFile, startAt, count, prefix] = process.argv.slice(2);
const host = await PlatformHost.start({ configFile: configFile!, logLevel: 'error' });
try {
  const queue = host.services.get(JobQueueId);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
  const keys = Array.from({ length: Number(count) }, (_v, i) => `${prefix}-${i}`);
  const jobs = await Promise.all(keys.map((dedupeKey, n) => queue.enqueue('test.record', { n }, { dedupeKey })));
  process.stdout.write(`${JSON.stringify(Object.fromEntries(keys.map((key, i) => [key, jobs[i]!.id])))}\n`);
} finally {
  await host.stop();
}
