// Run as a separate process by tests: enqueues jobs into the installation named by argv[2].
// argv: CONFIG TYPE COUNT [DEDUPE_KEY]. Prints the job ids, one per line.
import { PlatformHost } from '../../core/host/platform-host.js';
import { JobQueueId } from '../../core/services/service-ids.js';

const [configFile, type, count, dedupeKey] = process.argv.slice(2);
const host = await PlatformHost.start({ configFile: configFile!, logLevel: 'error' });
try {
  const queue = host.services.get(JobQueueId);
  const ids: string[] = [];
  for (let i = 0; i < Number(count); i++) {
    ids.push((await queue.enqueue(type!, { key: `k-${process.pid}-${i}`, name: 'x', ms: 0 }, dedupeKey ? { dedupeKey } : {})).id);
  }
  process.stdout.write(`${ids.join('\n')}\n`);
} finally {
  await host.stop();
}
