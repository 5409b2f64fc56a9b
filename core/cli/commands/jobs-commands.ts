// platform jobs list|show|retry|cancel|purge|work: look at the job queue, act on single jobs,
// and run a worker process.
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { HostRuntimeId, JobQueueId, PlatformConfigId } from '../../services/service-ids.js';
import { UsageError } from '../../errors.js';
import { JOB_STATES, type Job, type JobState } from '../../jobs/job-queue.js';
import { positionals, printJson, printTable, stringOption } from './command-support.js';

function stateOption(value: string | undefined, option: string): JobState | undefined {
  if (value === undefined) return undefined;
  if (!JOB_STATES.includes(value as JobState)) throw new UsageError(`--${option} must be one of ${JOB_STATES.join(', ')}, not "${value}"`);
  return value as JobState;
}

function wholeNumber(value: string | undefined, option: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${option} must be a whole number of at least ${min}, not "${value}"`);
  return n;
}

const short = (date: Date | undefined): string => (date ? date.toISOString().replace('T', ' ').slice(0, 19) : '-');

/** A job as `jobs show` prints it: every field, dates as ISO strings. */
function shown(job: Job): Record<string, unknown> {
  return { ...job, leaseOwner: job.leaseOwner ?? null, lastError: job.lastError ?? null, lastStack: job.lastStack ?? null, dedupeKey: job.dedupeKey ?? null, timeoutMs: job.timeoutMs ?? null, progress: job.progress ?? null };
}

/** `400/1000 (40%)`, `400`, or `-`: a job's last reported progress for the list. */
function progressOf(job: Job): string {
  const p = job.progress;
  if (!p) return '-';
  return p.total ? `${p.done}/${p.total} (${Math.floor((p.done / p.total) * 100)}%)` : String(p.done);
}

/** The job commands. */
export function jobsCommands(): CommandDefinition[] {
  return [
    {
      name: 'jobs list',
      summary: 'list jobs, newest first, with counts per state',
      needs: 'database',
      options: {
        state: { type: 'string', value: 'STATE', description: `only jobs in this state (${JOB_STATES.join(', ')})` },
        type: { type: 'string', value: 'TYPE', description: 'only jobs of this type' },
        limit: { type: 'string', value: 'N', description: 'at most N jobs (default 100)' },
        json: { type: 'boolean', description: 'print JSON' },
      },
      async run(args, ctx) {
        const state = stateOption(stringOption(args, 'state'), 'state');
        const type = stringOption(args, 'type');
        const limit = wholeNumber(stringOption(args, 'limit'), 'limit', 100);
        const queue = ctx.services.get(JobQueueId);
        const jobs = await queue.list({ ...(state ? { state } : {}), ...(type ? { type } : {}), limit });
        if (args.options.json) return printJson(ctx.stdout, jobs.map(shown));
        printTable(
          ctx.stdout,
          ['ID', 'TYPE', 'STATE', 'PROGRESS', 'ATTEMPTS', 'CREATED', 'STARTED', 'WORKER', 'LAST ERROR'],
          jobs.map((j) => [j.id, j.type, j.state, progressOf(j), `${j.attempts}/${j.maxAttempts}`, short(j.createdAt), short(j.startedAt), j.leaseOwner ?? '-', (j.lastError ?? '').replace(/\s+/g, ' ').slice(0, 60)]),
        );
        const counts = await queue.counts(type ? { type } : {});
        ctx.stderr.write(`${JOB_STATES.map((s) => `${counts[s]} ${s}`).join(', ')}${type ? ` (type ${type})` : ''}\n`);
      },
    },
    {
      name: 'jobs show',
      usage: 'ID',
      summary: 'show a job as JSON: payload, state, progress, timestamps, attempts, worker, last error and stack, result',
      needs: 'database',
      async run(args, ctx) {
        const [id] = positionals(args, ['ID'], 'jobs show');
        printJson(ctx.stdout, shown(await ctx.services.get(JobQueueId).get(id!)));
      },
    },
    {
      name: 'jobs retry',
      usage: 'ID',
      summary: 'queue a dead or cancelled job again, with fresh attempts',
      needs: 'database',
      async run(args, ctx) {
        const [id] = positionals(args, ['ID'], 'jobs retry');
        await ctx.services.get(JobQueueId).retry(id!);
        ctx.stderr.write(`job ${id} queued again\n`);
      },
    },
    {
      name: 'jobs cancel',
      usage: 'ID',
      summary: 'cancel a queued job, or ask a running one to stop',
      needs: 'database',
      async run(args, ctx) {
        const [id] = positionals(args, ['ID'], 'jobs cancel');
        const job = await ctx.services.get(JobQueueId).cancel(id!);
        ctx.stderr.write(job.state === 'cancelled' ? `job ${id} cancelled\n` : `job ${id} asked to stop; it is cancelled once its handler stops\n`);
      },
    },
    {
      name: 'jobs purge',
      summary: 'delete finished (succeeded, dead, cancelled) jobs older than some days',
      needs: 'database',
      options: {
        'older-than-days': { type: 'string', value: 'N', description: 'last changed more than N days ago (default 30; 0 for all)' },
        state: { type: 'string', value: 'STATE', description: 'only jobs in this state (succeeded, dead or cancelled)' },
      },
      async run(args, ctx) {
        const days = Number(stringOption(args, 'older-than-days') ?? 30);
        if (!Number.isFinite(days) || days < 0) throw new UsageError('--older-than-days must be a number of days');
        const state = stateOption(stringOption(args, 'state'), 'state');
        if (state === 'queued' || state === 'running') throw new UsageError('--state must be succeeded, dead or cancelled: queued and running jobs are never purged (cancel them first)');
        const removed = await ctx.services.get(JobQueueId).purge(new Date(Date.now() - days * 86_400_000), state ? [state] : undefined);
        ctx.stderr.write(`deleted ${removed} finished job(s)\n`);
      },
    },
    {
      name: 'jobs work',
      summary: 'run a job worker until SIGTERM or SIGINT (run as many as you like, on any machine sharing the database)',
      needs: 'database',
      options: {
        concurrency: { type: 'string', value: 'N', description: 'jobs run at once (default [jobs] concurrency)' },
        type: { type: 'string', value: 'TYPE', multiple: true, description: 'only jobs of this type (repeatable; default every type a handler is registered for)' },
      },
      async run(args, ctx) {
        const runtime = ctx.services.get(HostRuntimeId);
        const jobs = ctx.services.get(PlatformConfigId).section<{ grace_seconds: number; concurrency: number }>('jobs');
        const types = args.options.type === undefined ? undefined : ([] as string[]).concat(args.options.type as string | string[]);
        const worker = runtime.jobWorker({ concurrency: wholeNumber(stringOption(args, 'concurrency'), 'concurrency', jobs.concurrency), ...(types ? { types } : {}) });
        await runtime.startPlugins();
        const grace = jobs.grace_seconds * 1000;
        await worker.start();
        const stopped = new Promise<void>((resolve) => {
          const stop = (signal: string): void => {
            ctx.stderr.write(`${signal}: no new jobs; running ones may finish for ${grace / 1000} s, then go back to the queue\n`);
            void worker.stop(grace).then(resolve, resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        ctx.stderr.write(`job worker ${worker.id} running\n`);
        await stopped;
      },
    },
  ];
}
