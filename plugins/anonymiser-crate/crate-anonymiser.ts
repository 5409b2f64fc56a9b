// The Anonymiser hook's implementation: distribution rules and exports name "crate" and pass
// a policy `{ config: "anon.ini", incremental?: boolean, workers?: number }`; the record source
// and destination are those the config names (kind "database").
import { ValidationError, ThreadPoolId, type Anonymiser, type AnonymisationResult, type RecordDestination, type RecordSource, type Services } from '../../core/api.js';
import { runAnonymisation } from './anonymisation-run.js';

/** CRATE-style anonymiser over databases described by an anon.ini. */
export class CrateAnonymiser implements Anonymiser {
  readonly name = 'crate';

  constructor(private readonly services: Services) {}

  async anonymise(source: RecordSource, policy: Record<string, unknown>, destination: RecordDestination): Promise<AnonymisationResult> {
    if (source.kind !== 'database' || destination.kind !== 'database') throw new ValidationError(`the crate anonymiser reads and writes databases (kind "database"), not "${source.kind}" to "${destination.kind}"`);
    if (typeof policy.config !== 'string' || !policy.config) throw new ValidationError('the policy needs "config": the path of an anon.ini', { config: ['required'] });
    const summary = await runAnonymisation({
      configFile: policy.config,
      env: process.env,
      incremental: policy.incremental === true,
      ...(typeof policy.workers === 'number' ? { workers: policy.workers } : {}),
      pool: this.services.get(ThreadPoolId),
      services: this.services,
    });
    return { recordsRead: summary.rowsRead, recordsWritten: summary.rowsWritten, destination };
  }
}
