// One worker process of the jobs benchmark (scripts/bench/jobs-throughput.ts starts it with
// an IPC channel): runs the platform's job worker, pg-boss or graphile-worker with no-op
// handlers. It loads and connects first, says `ready`, and starts working on `go`, so that
// process start-up is not part of the measured time. It reports how many no-op jobs it ran,
// and for a `bench-latency` job when its handler started (epoch ms with microseconds).
// argv: SYSTEM (platform | pg-boss | graphile-worker) PG_URL CONCURRENCY [PLATFORM_INI] [PG_BOSS_BATCH] [PG_BOSS_SUBSCRIPTIONS]
import { performance } from 'node:perf_hooks';
import PgBoss from 'pg-boss';
import { Logger as GraphileLogger, run as runGraphile, type Runner } from 'graphile-worker';
import { PlatformHost } from '../../core/host/platform-host.js';
import { LATENCY, NOOP, benchJobsPlugin } from './jobs-bench-plugin.js';

type Message = { type: 'ready' } | { type: 'ran'; count: number } | { type: 'started'; sentAt: number; startedAt: number } | { type: 'stopped' };

const [system, pgUrl, concurrencyText, configFile, pgBossBatchText, pgBossSubscriptionsText] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const now = (): number => performance.timeOrigin + performance.now();
const send = (message: Message): void => void process.send!(message);

let ran = 0;
let reported = 0;
const report = setInterval(() => {
  if (ran !== reported) {
    reported = ran;
    send({ type: 'ran', count: ran });
  }
}, 20);
const started = (payload: unknown): void => send({ type: 'started', sentAt: Number((payload as { sentAt: number }).sentAt), startedAt: now() });

let go: () => Promise<void>;
let stop: () => Promise<void>;

if (system === 'platform') {
  const plugin = benchJobsPlugin(() => void (ran += 1), started);
  const host = await PlatformHost.start({ configFile: configFile!, inlinePlugins: new Map([[plugin.name, plugin]]), logLevel: 'warn' });
  const worker = host.jobWorker({ concurrency });
  go = () => worker.start();
  stop = async () => {
    await worker.stop(5000);
    await host.stop();
  };
} else if (system === 'pg-boss') {
  // Configured for throughput as its documentation says: each `work()` call adds a polling
  // worker (its concurrency), each fetch takes `batchSize` jobs and completes them together,
  // and the polling interval is the shortest allowed (0.5 s). A worker waits out the rest of
  // the interval after every fetch, so each subscription runs at most batchSize / 0.5 s.
  const batchSize = Number(pgBossBatchText ?? 100);
  const subscriptions = Number(pgBossSubscriptionsText ?? concurrency);
  const boss = new PgBoss({ connectionString: pgUrl!, schema: 'pgboss', max: subscriptions + 2, supervise: false, schedule: false, migrate: false });
  boss.on('error', (error: Error) => console.error(error.message));
  await boss.start();
  go = async () => {
    for (let i = 0; i < subscriptions; i++) await boss.work(NOOP, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => void (ran += jobs.length));
    await boss.work(LATENCY, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async ([job]) => started(job!.data));
  };
  stop = () => boss.stop({ graceful: true, wait: true, timeout: 5000 });
} else if (system === 'graphile-worker') {
  let runner: Runner | undefined;
  go = async () => {
    runner = await runGraphile({
      connectionString: pgUrl!,
      concurrency,
      noHandleSignals: true,
      pollInterval: 2000,
      logger: new GraphileLogger(() => () => undefined),
      taskList: {
        [NOOP]: async () => void (ran += 1),
        [LATENCY]: async (payload) => started(payload),
      },
      // Its batching: a local queue of claimed jobs, and completions recorded together.
      preset: { worker: { localQueue: { size: concurrency * 2 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
    });
  };
  stop = async () => runner?.stop();
} else {
  throw new Error(`unknown system "${system}"`);
}

process.on('message', (message: { type: 'go' | 'stop' }) => {
  if (message.type === 'go') void go();
  if (message.type === 'stop') {
    void stop().finally(() => {
      clearInterval(report);
      send({ type: 'ran', count: ran });
      send({ type: 'stopped' });
      process.disconnect();
    });
  }
});
send({ type: 'ready' });
