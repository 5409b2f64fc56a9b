// The `anonymise.run` job: a run started from the queue. It orchestrates on the worker's
// event loop (I/O) and hands the batches to core's thread pool, so the event loop stays free.
// Progress goes to the job (platform jobs show) and its log; rerunning it is safe (an interrupted run is finished by an
// incremental one, which retries use).
import { ThreadPoolId, type JobHandler } from '../../core/api.js';
import { runAnonymisation } from './anonymisation-run.js';
import { ANONYMISE_JOB } from './anonymise-commands.js';

/** The handler of anonymisation jobs. */
export function anonymiseJobHandler(): JobHandler {
  return {
    type: ANONYMISE_JOB,
    payloadSchema: {
      type: 'object',
      required: ['config'],
      additionalProperties: false,
      properties: {
        config: { type: 'string', minLength: 1 },
        incremental: { type: 'boolean' },
        workers: { type: 'integer', minimum: 1, maximum: 64 },
      },
    },
    timeoutMs: 24 * 3600_000,
    maxAttempts: 3,
    async run(payload, job) {
      let lastLog = 0;
      const summary = await runAnonymisation({
        configFile: String(payload.config),
        env: process.env,
        // A retry finishes what an interrupted attempt began.
        incremental: payload.incremental === true || job.attempt > 1,
        ...(typeof payload.workers === 'number' ? { workers: payload.workers } : {}),
        pool: job.services.get(ThreadPoolId),
        services: job.services,
        signal: job.signal,
        logger: job.logger,
        onProgress(p) {
          // Counts only: no identifiers leave through progress.
          job.progress(p.patientsDone, p.patientsTotal, `${p.phase}: ${p.patientsDone} of ${p.patientsTotal} patients, ${p.rowsWritten} rows written`);
          if (Date.now() - lastLog < 2000 && p.phase !== 'done') return;
          lastLog = Date.now();
          job.logger.info('anonymisation progress', { ...p });
        },
      });
      return summary;
    },
  };
}
