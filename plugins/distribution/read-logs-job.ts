// The periodic job that reads access logs and download events, then queues its next run.
import type { JobHandler } from '../../core/api.js';
import type { LogReadReport } from './access-log-reader.js';

/** What the job needs of the distribution runtime (named here so the two files do not import each other). */
export interface LogReading {
  readonly settings: { readonly logReadMs: number };
  readAcknowledgements(): Promise<{ logs: LogReadReport[]; downloads: { events: number; acknowledged: number } }>;
  scheduleLogReading(delayMs: number): Promise<void>;
}

export const READ_LOGS_JOB = 'distribution.read-logs';

/** The job handler; it queues the next reading `log_read_seconds` later, whatever happened. */
export function readLogsJobHandler(runtime: () => LogReading): JobHandler {
  return {
    type: READ_LOGS_JOB,
    maxAttempts: 1,
    timeoutMs: 10 * 60_000,
    payloadSchema: { type: 'object', additionalProperties: false, properties: {} },
    async run() {
      const r = runtime();
      try {
        const { logs, downloads } = await r.readAcknowledgements();
        return { logs: logs.map((l) => ({ lines: l.lines, acknowledged: l.acknowledged, unparsed: l.unparsed, ...(l.rotated ? { rotated: l.rotated } : {}), ...(l.missing ? { missing: true } : {}) })), downloads };
      } finally {
        if (r.settings.logReadMs > 0) await r.scheduleLogReading(r.settings.logReadMs);
      }
    },
  };
}
