// The [plugin:distribution] section: its JSON schema and the typed settings read from it.
import { join } from 'node:path';
import type { ConfigSectionSchema, PluginContext } from '../../core/api.js';
import { splitList } from '../../core/api.js';

/** The plugin's config section as declared to core (validated by ajv at start). */
export const distributionConfigSchema: ConfigSectionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    root: { type: 'string', 'x-path': true, description: 'Working folder holding outgoing/, rejected/ and archive/ (default <data_dir>/distribution).' },
    watch: { type: 'string', 'x-path': true, description: 'Deprecated: set [plugin:distribution-folders] watch instead (still read, with a warning).' },
    stable_ms: { type: 'integer', minimum: 0, maximum: 600_000, default: 1000, description: 'Deprecated with watch: [plugin:distribution-folders] stable_ms.' },
    scan_seconds: { type: 'integer', minimum: 1, maximum: 3600, default: 30, description: 'Deprecated with watch: [plugin:distribution-folders] scan_seconds.' },
    name_patterns: { type: 'string', default: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Space-separated regular expressions; a file name must match one.' },
    mime_types: { type: 'string', default: 'application/pdf', description: 'Space-separated MIME types accepted (sniffed from the bytes).' },
    max_name_length: { type: 'integer', minimum: 1, maximum: 255, default: 100 },
    identifier_pattern: { type: 'string', default: '^([A-Za-z0-9]+)', description: 'Regular expression whose first group is the identifier in a file name (for the pdf-identifier check).' },
    file_checks: { type: 'string', default: 'pdf-identifier', description: 'Shipped checks to run (space-separated; `none` for none). Checks of other plugins always run.' },
    rules_file: { type: 'string', 'x-path': true, description: 'JSON file with routing rules and destinations (see docs/distribution.md).' },
    upload_dataset_types: { type: 'string', default: '', description: 'Dataset types whose uploaded files enter distribution (space-separated).' },
    batch_size: { type: 'integer', minimum: 1, maximum: 1000, default: 50, description: 'Files per delivery job.' },
    send_concurrency: { type: 'integer', minimum: 1, maximum: 64, default: 8, description: 'Transfers at once within one delivery job.' },
    max_attempts: { type: 'integer', minimum: 1, maximum: 100, default: 8, description: 'Attempts of a delivery job before its files are marked failed.' },
    access_logs: { type: 'string', default: '', description: 'Space-separated access logs of the web servers recipients fetch from.' },
    access_log_format: { type: 'string', default: 'combined', description: '`combined`, `common`, or an nginx log_format string such as `$remote_addr [$time_local] "$request" $status`.' },
    log_read_seconds: { type: 'integer', minimum: 0, maximum: 86_400, default: 60, description: 'Interval of the access-log reading job (0: only `platform distribution read-log`).' },
    unacknowledged_days: { type: 'integer', minimum: 1, maximum: 3650, default: 7, description: 'inspect warns about files sent and not acknowledged for this long.' },
  },
};

/** The settings the plugin works with, resolved and split. */
export interface DistributionSettings {
  root: string;
  outgoingDir: string;
  rejectedDir: string;
  archiveDir: string;
  /** Copies made by a rule's anonymiser, until they are sent and archived. */
  anonymisedDir: string;
  /** Received originals of files sent anonymised (the archive keeps what was sent). */
  originalsDir: string;
  watchDir: string | undefined;
  stableMs: number;
  scanMs: number;
  namePatterns: RegExp[];
  mimeTypes: string[];
  maxNameLength: number;
  identifierPattern: RegExp;
  fileChecks: string[];
  rulesFile: string | undefined;
  uploadDatasetTypes: string[];
  batchSize: number;
  sendConcurrency: number;
  maxAttempts: number;
  accessLogs: string[];
  accessLogFormat: string;
  logReadMs: number;
  unacknowledgedDays: number;
}

function regex(value: string, key: string): RegExp {
  try {
    return new RegExp(value);
  } catch (error) {
    throw new Error(`[plugin:distribution] ${key}: "${value}" is not a regular expression (${(error as Error).message})`);
  }
}

/** Reads the validated section. @throws Error naming the key when a regular expression is invalid. */
export function readDistributionSettings(ctx: Pick<PluginContext, 'config' | 'platformConfig' | 'resolvePath'>): DistributionSettings {
  const c = ctx.config;
  const str = (key: string): string | undefined => (typeof c[key] === 'string' && c[key] !== '' ? String(c[key]) : undefined);
  const dataDir = ctx.platformConfig.path('platform', 'data_dir') ?? ctx.resolvePath('./data');
  const root = str('root') ? ctx.resolvePath(str('root')!) : join(dataDir, 'distribution');
  const checks = splitList(str('file_checks') ?? '');
  return {
    root,
    outgoingDir: join(root, 'outgoing'),
    rejectedDir: join(root, 'rejected'),
    archiveDir: join(root, 'archive'),
    anonymisedDir: join(root, 'anonymised'),
    originalsDir: join(root, 'originals'),
    watchDir: str('watch') ? ctx.resolvePath(str('watch')!) : undefined,
    stableMs: Number(c.stable_ms),
    scanMs: Number(c.scan_seconds) * 1000,
    namePatterns: (str('name_patterns') ?? '').split(/\s+/).filter(Boolean).map((p) => regex(p, 'name_patterns')),
    mimeTypes: splitList(str('mime_types') ?? ''),
    maxNameLength: Number(c.max_name_length),
    identifierPattern: regex(str('identifier_pattern') ?? '^([A-Za-z0-9]+)', 'identifier_pattern'),
    fileChecks: checks.includes('none') ? [] : checks,
    rulesFile: str('rules_file') ? ctx.resolvePath(str('rules_file')!) : undefined,
    uploadDatasetTypes: splitList(str('upload_dataset_types') ?? ''),
    batchSize: Number(c.batch_size),
    sendConcurrency: Number(c.send_concurrency),
    maxAttempts: Number(c.max_attempts),
    accessLogs: splitList(str('access_logs') ?? '').map((p) => ctx.resolvePath(p)),
    accessLogFormat: str('access_log_format') ?? 'combined',
    logReadMs: Number(c.log_read_seconds) * 1000,
    unacknowledgedDays: Number(c.unacknowledged_days),
  };
}
