// Inspect: dead jobs and running jobs whose lease lapsed (their worker died).
import type { InspectCheck, InspectFinding } from '../../plugins/hooks/inspect-checks.js';
import { JobQueueId } from '../../services/service-ids.js';

/** The jobs check. */
export const jobsCheck: InspectCheck = {
  area: 'jobs',
  name: 'job queue',
  async run(ctx) {
    const queue = ctx.services.get(JobQueueId);
    const findings: InspectFinding[] = [];
    const stuck = await queue.stuck(60_000);
    if (stuck.length) {
      findings.push({
        severity: 'problem',
        title: `${stuck.length} running job(s) have a lapsed lease: their worker stopped`,
        why: 'they wait until a worker claims them again; none may be running',
        fix: 'start a worker (platform serve or platform jobs work), or requeue them with --repair',
        details: stuck.map((j) => `${j.id} ${j.type}, leased by ${j.leaseOwner ?? '?'} until ${j.leaseUntil?.toISOString() ?? '?'}`),
        repair: { description: `requeue ${stuck.length} stuck job(s)`, apply: async () => `requeued ${await queue.requeueStuck()} job(s)` },
      });
    }
    const dead = await queue.list({ state: 'dead', limit: 1000 });
    if (dead.length) {
      findings.push({
        severity: 'warning',
        title: `${dead.length} job(s) are dead after their last attempt`,
        why: 'the work they stand for (checks, deliveries) did not happen',
        fix: 'read the error with platform jobs show ID, fix the cause, then platform jobs retry ID',
        details: dead.slice(0, 50).map((j) => `${j.id} ${j.type}: ${j.lastError ?? 'no error recorded'}`),
      });
    }
    if (!findings.length) {
      const counts = await queue.counts();
      findings.push({ severity: 'ok', title: `no stuck or dead jobs (${counts.queued} queued, ${counts.running} running)` });
    }
    return findings;
  },
};
