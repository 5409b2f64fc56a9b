// Inspect: the job queue. Running jobs whose lease lapsed (their worker died; repair: put them
// back), dead jobs (their error; repair with --retry-dead: queue them again), and runnable jobs nobody claims (no worker
// runs, or no enabled plugin handles their type).
import type { InspectCheck, InspectFinding } from '../../plugins/hooks/inspect-checks.js';
import { HookRegistriesId, JobQueueId } from '../../services/service-ids.js';

/** A lease lapsed longer ago than this is reported (workers put such jobs back themselves within seconds). */
const STUCK_GRACE_MS = 60_000;
/** Runnable jobs waiting longer than this are reported. */
const WAITING_MS = 10 * 60_000;

/** The jobs check. */
export const jobsCheck: InspectCheck = {
  area: 'jobs',
  name: 'job queue',
  async run(ctx) {
    const queue = ctx.services.get(JobQueueId);
    const handled = new Set(ctx.services.get(HookRegistriesId).jobHandlers.names());
    const findings: InspectFinding[] = [];
    const stuck = await queue.stuck(STUCK_GRACE_MS);
    if (stuck.length) {
      findings.push({
        severity: 'problem',
        title: `${stuck.length} running job(s) have a lapsed lease: their worker stopped`,
        why: 'every running worker puts such jobs back within seconds, so none may be running; until then the work they stand for waits',
        fix: 'start a worker (platform serve, or platform jobs work with [jobs] worker = external), or put them back with platform inspect --only jobs --repair',
        details: stuck.map((j) => `${j.id} ${j.type}, attempt ${j.attempts} of ${j.maxAttempts}, leased by ${j.leaseOwner ?? '?'} until ${j.leaseUntil?.toISOString() ?? '?'}`),
        repair: {
          description: `put ${stuck.length} stuck job(s) back in the queue (dead where that was their last attempt)`,
          apply: async () => {
            const { requeued, dead } = await queue.reapLapsedLeases();
            return `queued ${requeued} job(s) again; ${dead} had no attempts left and are dead`;
          },
        },
      });
    }
    const dead = await queue.list({ state: 'dead', limit: 1000 });
    if (dead.length) {
      findings.push({
        severity: 'warning',
        title: `${dead.length}${dead.length === 1000 ? '+' : ''} job(s) are dead after their last attempt`,
        why: 'the work they stand for (file checks, deliveries) did not happen',
        fix: 'read the error and stack with platform jobs show ID, fix the cause, then platform jobs retry ID, or all of them with platform inspect --only jobs --repair --retry-dead (or platform jobs purge --state dead once they no longer matter)',
        details: dead.slice(0, 50).map((j) => `${j.id} ${j.type}, ${j.attempts} attempt(s), ${j.finishedAt?.toISOString() ?? '?'}: ${(j.lastError ?? 'no error recorded').replace(/\s+/g, ' ').slice(0, 200)}`),
        ...(ctx.retryDead
          ? {
              repair: {
                description: `queue ${dead.length} dead job(s) again with fresh attempts`,
                apply: async () => {
                  for (const job of dead) await queue.retry(job.id);
                  return `queued again: ${dead.map((j) => j.id).join(', ')}`;
                },
              },
            }
          : {}),
      });
    }
    const waiting = await queue.waiting(WAITING_MS);
    const unhandled = waiting.filter((w) => !handled.has(w.type));
    if (unhandled.length) {
      findings.push({
        severity: 'problem',
        title: `${unhandled.reduce((n, w) => n + w.count, 0)} queued job(s) have a type no enabled plugin handles`,
        why: 'no worker of this installation will ever run them',
        fix: 'enable the plugin that handles them in [platform] plugins, or cancel them with platform jobs cancel ID',
        details: unhandled.map((w) => `${w.type}: ${w.count} job(s), waiting since ${w.oldest.toISOString()}`),
      });
    }
    const idle = waiting.filter((w) => handled.has(w.type));
    if (idle.length) {
      findings.push({
        severity: 'warning',
        title: `${idle.reduce((n, w) => n + w.count, 0)} runnable job(s) have waited more than ${WAITING_MS / 60_000} minutes`,
        why: 'no worker is running, or the workers cannot keep up, or the jobs wait for dependencies that have not run',
        fix: 'check that platform serve runs a worker ([jobs] worker = internal) or that platform jobs work runs; see platform jobs list --state queued',
        details: idle.map((w) => `${w.type}: ${w.count} job(s), runnable since ${w.oldest.toISOString()}`),
      });
    }
    if (!findings.length) {
      const counts = await queue.counts();
      findings.push({ severity: 'ok', title: `no stuck, dead or forgotten jobs (${counts.queued} queued, ${counts.running} running, ${counts.succeeded} succeeded)` });
    }
    return findings;
  },
};
