// Telling workers that jobs may have become runnable, or that a running job should stop: in
// this process by events, in other processes by NOTIFY on PostgreSQL (workers LISTEN on both
// channels; see job-worker.ts).
import { EventEmitter } from 'node:events';
import { QueryTypes, type Transaction } from 'sequelize';
import type { Database } from '../db/database.js';
import type { Disposable } from '../plugins/hook-id.js';
import { JOBS_CHANNEL } from './job-inserts.js';

/** The NOTIFY channels workers LISTEN on (PostgreSQL). */
export { JOBS_CHANNEL };
export const JOBS_CANCEL_CHANNEL = 'platform_jobs_cancel';

/** The queue's wake-ups and cancel requests. */
export class JobSignals {
  private readonly events = new EventEmitter();

  constructor(private readonly db: Database) {
    this.events.setMaxListeners(0);
  }

  /**
   * Tells this process's workers that jobs (of `type`, or of any type) were added; after
   * `transaction` commits when there is one. Other processes learn it from the insert's NOTIFY.
   */
  queuedHere(type: string | undefined, transaction?: Transaction): void {
    if (transaction) transaction.afterCommit(() => void this.events.emit('queued', type));
    else this.events.emit('queued', type);
  }

  /** Wakes idle workers: this process's at once, other processes' by NOTIFY (PostgreSQL). */
  async wake(): Promise<void> {
    this.events.emit('queued', undefined);
    if (this.db.dialect === 'postgres') await this.db.sequelize.query(`SELECT pg_notify('${JOBS_CHANNEL}', '')`, { type: QueryTypes.SELECT }).catch(() => undefined);
  }

  /** Asks the worker running job `id` to stop it, in this process and (PostgreSQL) in others. */
  async requestCancel(id: string): Promise<void> {
    this.events.emit('cancel', id);
    if (this.db.dialect === 'postgres') await this.db.sequelize.query('SELECT pg_notify(:channel, :id)', { replacements: { channel: JOBS_CANCEL_CHANNEL, id }, type: QueryTypes.SELECT });
  }

  /** Calls `listener` when jobs may have become runnable in this process (enqueue, retry, release, a dependency done). */
  onDidQueueJobs(listener: (type: string | undefined) => void): Disposable {
    this.events.on('queued', listener);
    return { dispose: () => void this.events.off('queued', listener) };
  }

  /** Calls `listener` with a job id when a cancel of a running job was requested in this process. */
  onDidRequestCancel(listener: (id: string) => void): Disposable {
    this.events.on('cancel', listener);
    return { dispose: () => void this.events.off('cancel', listener) };
  }
}
