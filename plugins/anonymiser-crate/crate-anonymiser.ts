// The Anonymiser hook's implementation, named "crate". Two kinds of source:
// - kind "database": a whole run as an anon.ini describes it (its databases or datasets), with
//   the policy `{ config: "anon.ini", incremental?: boolean, workers?: number }`;
// - kind "file" (what distribution hands it): one CSV, JSON or plain-text file scrubbed with its
//   patient's scrubber, the policy `{ config, patient_column | patient_from_name, max_mb? }`
//   (see file-anonymiser.ts). PDF and other binary files are refused with the reason.
import { ValidationError, ThreadPoolId, type Anonymiser, type AnonymisationResult, type FileRecordDestination, type FileRecordSource, type RecordDestination, type RecordSource, type Services } from '../../core/api.js';
import { runAnonymisation } from './anonymisation-run.js';
import { anonymiseFile } from './file-anonymiser.js';

function isFileSource(source: RecordSource): source is FileRecordSource {
  const s = source as Partial<FileRecordSource>;
  return source.kind === 'file' && typeof s.path === 'string' && typeof s.name === 'string' && typeof s.mimeType === 'string';
}

function isFileDestination(destination: RecordDestination): destination is FileRecordDestination {
  return destination.kind === 'file' && typeof (destination as Partial<FileRecordDestination>).path === 'string';
}

/** CRATE-style anonymiser over databases described by an anon.ini, and over single files. */
export class CrateAnonymiser implements Anonymiser {
  readonly name = 'crate';

  constructor(private readonly services: Services) {}

  async anonymise(source: RecordSource, policy: Record<string, unknown>, destination: RecordDestination): Promise<AnonymisationResult> {
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) throw new ValidationError('the policy must be an object such as { "config": "/etc/anon/anon.ini" }', { policy: ['must be an object'] });
    if (source.kind === 'file' || destination.kind === 'file') {
      if (!isFileSource(source) || !isFileDestination(destination)) throw new ValidationError(`the crate anonymiser turns a file into a file, not "${source.kind}" into "${destination.kind}"`);
      const { name, ...outcome } = await anonymiseFile(source, destination, policy, process.env);
      return { ...outcome, destination, ...(name === undefined ? {} : { name }) };
    }
    if (source.kind !== 'database' || destination.kind !== 'database') throw new ValidationError(`the crate anonymiser reads databases (kind "database") and files (kind "file"), not "${source.kind}" to "${destination.kind}"`);
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
