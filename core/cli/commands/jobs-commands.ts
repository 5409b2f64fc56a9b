// platform jobs list|show|retry|cancel|purge|work
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { HostRuntimeId, JobQueueId, PlatformConfigId } from '../../services/service-ids.js';
import { UsageError } from '../../errors.js';
import type { JobState } from '../../jobs/job-queue.js';
import { positionals, printJson, printTable, stringOption } from './command-support.js';

const STATES: JobState[] = ['queued', 'running', 'succeeded', 'dead', 'cancelled'];

/** The job commands. */
export function jobsCommands(): CommandDefinition[] {
  return [
    {
      name: 'jobs list',
      summary: 'list jobs, newest first',
      needs: 'database',
      options: {
        state: { type: 'string', value: 'STATE', description: `only jobs in this state (${STATES.join(', ')})` },
        type: { type: 'string', value: 'TYPE', description: 'only jobs of this type' },
        limit: { type: 'string', value: 'N', description: 'at most N jobs (default 100)' },
        json: { type: 'boolean', description: 'print JSON' },
      },
      async run(args, ctx) {
        const state = stringOption(args, 'state');
        if (state && !STATES.includes(state as JobState)) throw new UsageError(`--state must be one of ${STATES.join(', ')}, not "${state}"`);
        const limit = Number(stringOption(args, 'limit') ?? 100);
        if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
        const jobs = await ctx.services.get(JobQueueId).list({ ...(state ? { state: state as JobState } : {}), ...(stringOption(args, 'type') ? { type: stringOption(args, 'type')! } : {}), limit });
        if (args.options.json) return printJson(ctx.stdout, jobs);
        printTable(ctx.stdout, ['ID', 'TYPE', 'STATE', 'ATTEMPTS', 'CREATED', 'LAST ERROR'], jobs.map((j) => [j.id, j.type, j.state, `${j.attempts}/${j.maxAttempts}`, j.createdAt.toISOString(), (j.lastError ?? '').slice(0, 60)]));
      },
    },
    {
      name: 'jobs show',
      usage: 'ID',
      summary: 'show a job with its timestamps, attempts, worker and last error',
      needs: 'database',
      async run(args, ctx) {
        const [id] = positionals(args, ['ID'], 'jobs show');
        printJson(ctx.stdout, await ctx.services.get(JobQueueId).get(id!));
      },
    },
    {
      name: 'jobs retry',
      usage: 'ID',
      summary: 'queue a dead or cancelled job again',
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
        ctx.stderr.write(job.state === 'cancelled' ? `job ${id} cancelled\n` : `job ${id} asked to stop\n`);
      },
    },
    {
      name: 'jobs purge',
      summary: 'delete finished (succeeded, dead, cancelled) jobs older than some days',
      needs: 'database',
      options: { 'older-than-days': { type: 'string', value: 'N', description: 'age in days (default 30)' } },
      async run(args, ctx) {
        const days = Number(stringOption(args, 'older-than-days') ?? 30);
        if (!Number.isFinite(days) || days < 0) throw new UsageError('--older-than-days must be a number of days');
        const removed = await ctx.services.get(JobQueueId).purge(new Date(Date.now() - days * 86_400_000));
        ctx.stderr.write(`deleted ${removed} finished job(s)\n`);
      },
    },
    {
      name: 'jobs work',
      summary: 'run a job worker until SIGTERM or SIGINT (run as many as you like)',
      needs: 'database',
      async run(_args, ctx) {
        const worker = ctx.services.get(HostRuntimeId).jobWorker();
        const grace = ctx.services.get(PlatformConfigId).section<{ grace_seconds: number }>('jobs').grace_seconds * 1000;
        await worker.start();
        ctx.stderr.write(`job worker ${worker.id} running\n`);
        await new Promise<void>((resolve) => {
          const stop = (signal: string): void => {
            ctx.stderr.write(`${signal}: finishing running jobs (up to ${grace / 1000} s)\n`);
            void worker.stop(grace).then(resolve, resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
      },
    },
  ];
}
