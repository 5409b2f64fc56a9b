// The document `platform inspect --json` prints: stable and versioned, with a JSON Schema
// (INSPECT_REPORT_SCHEMA) that monitoring can validate against.
import type { FindingSeverity } from '../plugins/hooks/inspect-checks.js';

/** What happened to a finding's repair. */
export interface RepairOutcome {
  description: string;
  /** `applied`, `failed`, `skipped` (not confirmed, or no --repair). */
  status: 'applied' | 'failed' | 'skipped';
  /** What the repair did, or why it failed. */
  message?: string;
}

/** One finding as reported. */
export interface ReportedFinding {
  severity: FindingSeverity;
  title: string;
  why?: string;
  fix?: string;
  details?: string[];
  repair?: RepairOutcome;
}

/** One check as reported. */
export interface ReportedCheck {
  area: string;
  name: string;
  /** Worst remaining severity: `repaired` when every problem was repaired; `error` when the check itself failed. */
  status: 'ok' | 'warning' | 'problem' | 'repaired' | 'error';
  findings: ReportedFinding[];
  error?: string;
}

/** The whole report. */
export interface InspectReport {
  version: 1;
  startedAt: string;
  finishedAt: string;
  config: string;
  deep: boolean;
  repair: boolean;
  checks: ReportedCheck[];
  summary: { checks: number; ok: number; warnings: number; problems: number; repaired: number; errors: number };
  /** 0: nothing left wrong; 1: problems remain; 2: inspect could not run. */
  exitCode: 0 | 1 | 2;
}

const finding = {
  type: 'object',
  required: ['severity', 'title'],
  additionalProperties: false,
  properties: {
    severity: { enum: ['ok', 'warning', 'problem'] },
    title: { type: 'string' },
    why: { type: 'string' },
    fix: { type: 'string' },
    details: { type: 'array', items: { type: 'string' } },
    repair: {
      type: 'object',
      required: ['description', 'status'],
      additionalProperties: false,
      properties: { description: { type: 'string' }, status: { enum: ['applied', 'failed', 'skipped'] }, message: { type: 'string' } },
    },
  },
} as const;

/** JSON Schema (draft 2020-12) of {@link InspectReport}; documented in docs/inspect.md. */
export const INSPECT_REPORT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://platform.invalid/schemas/inspect-report-v1.json',
  type: 'object',
  required: ['version', 'startedAt', 'finishedAt', 'config', 'deep', 'repair', 'checks', 'summary', 'exitCode'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    startedAt: { type: 'string', format: 'date-time' },
    finishedAt: { type: 'string', format: 'date-time' },
    config: { type: 'string' },
    deep: { type: 'boolean' },
    repair: { type: 'boolean' },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['area', 'name', 'status', 'findings'],
        additionalProperties: false,
        properties: {
          area: { type: 'string' },
          name: { type: 'string' },
          status: { enum: ['ok', 'warning', 'problem', 'repaired', 'error'] },
          findings: { type: 'array', items: finding },
          error: { type: 'string' },
        },
      },
    },
    summary: {
      type: 'object',
      required: ['checks', 'ok', 'warnings', 'problems', 'repaired', 'errors'],
      additionalProperties: false,
      properties: Object.fromEntries(['checks', 'ok', 'warnings', 'problems', 'repaired', 'errors'].map((k) => [k, { type: 'integer', minimum: 0 }])),
    },
    exitCode: { enum: [0, 1, 2] },
  },
} as const;
