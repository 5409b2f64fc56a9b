// Runs inspect checks, applies repairs as allowed (ask, yes, or not at all), records an
// audit event for each repair, and builds the report.
import type { InspectCheck, InspectContext, InspectFinding } from '../plugins/hooks/inspect-checks.js';
import type { InspectReport, ReportedCheck, ReportedFinding } from './inspect-report.js';

/** How repairs are handled. */
export type RepairMode = 'none' | 'ask' | 'yes';

/** Options of one run. */
export interface InspectRunOptions {
  only?: string[];
  deep: boolean;
  repair: RepairMode;
  /** Asks whether to apply one repair (mode `ask`); false without a terminal. */
  confirm(question: string): Promise<boolean>;
  /** Called after each repair that was applied. */
  onRepaired?(check: InspectCheck, finding: InspectFinding, message: string): Promise<void>;
  /** Called as each check starts (for the terminal display). */
  onCheckStart?(check: InspectCheck): void;
  onCheckDone?(check: ReportedCheck): void;
  context: Omit<InspectContext, 'progress'> & { progress?: InspectContext['progress'] };
}

/** Severity order, worst last. */
const RANK = { ok: 0, repaired: 1, warning: 2, problem: 3, error: 4 } as const;

/** Runs checks in order and returns the report (without timing and exit code fields filled by the caller). */
export async function runInspectChecks(checks: readonly InspectCheck[], options: InspectRunOptions): Promise<ReportedCheck[]> {
  const chosen = options.only?.length ? checks.filter((c) => options.only!.includes(c.area)) : checks;
  // Group by area, areas in the order they first appear (core's first, then plugins').
  const areas = [...new Set(chosen.map((c) => c.area))];
  const selected = areas.flatMap((area) => chosen.filter((c) => c.area === area));
  const out: ReportedCheck[] = [];
  for (const check of selected) {
    options.onCheckStart?.(check);
    const reported = await runOne(check, options);
    options.onCheckDone?.(reported);
    out.push(reported);
  }
  return out;
}

async function runOne(check: InspectCheck, options: InspectRunOptions): Promise<ReportedCheck> {
  let findings: InspectFinding[];
  try {
    findings = await check.run({ ...options.context, deep: options.deep, progress: options.context.progress ?? (() => undefined) });
  } catch (error) {
    return { area: check.area, name: check.name, status: 'error', findings: [], error: error instanceof Error ? error.message : String(error) };
  }
  const reported: ReportedFinding[] = [];
  for (const finding of findings) {
    const entry: ReportedFinding = { severity: finding.severity, title: finding.title, ...(finding.why ? { why: finding.why } : {}), ...(finding.fix ? { fix: finding.fix } : {}), ...(finding.details?.length ? { details: finding.details } : {}) };
    if (finding.repair && finding.severity !== 'ok') {
      const wanted = options.repair === 'yes' || (options.repair === 'ask' && (await options.confirm(`Repair: ${finding.repair.description}?`)));
      if (!wanted) entry.repair = { description: finding.repair.description, status: 'skipped' };
      else {
        try {
          const message = await finding.repair.apply();
          entry.repair = { description: finding.repair.description, status: 'applied', message };
          await options.onRepaired?.(check, finding, message);
        } catch (error) {
          entry.repair = { description: finding.repair.description, status: 'failed', message: error instanceof Error ? error.message : String(error) };
        }
      }
    }
    reported.push(entry);
  }
  return { area: check.area, name: check.name, status: statusOf(reported), findings: reported };
}

/** The worst remaining severity of a check's findings. */
export function statusOf(findings: ReportedFinding[]): ReportedCheck['status'] {
  let worst: ReportedCheck['status'] = 'ok';
  for (const f of findings) {
    const status: ReportedCheck['status'] = f.severity !== 'ok' && f.repair?.status === 'applied' ? 'repaired' : f.severity;
    if (RANK[status] > RANK[worst]) worst = status;
  }
  return worst;
}

/** Counts and exit code of a finished run. */
export function summarise(checks: ReportedCheck[]): Pick<InspectReport, 'summary' | 'exitCode'> {
  const summary = { checks: checks.length, ok: 0, warnings: 0, problems: 0, repaired: 0, errors: 0 };
  for (const check of checks) {
    if (check.status === 'error') summary.errors++;
    for (const f of check.findings) {
      if (f.severity === 'ok') summary.ok++;
      else if (f.repair?.status === 'applied') summary.repaired++;
      else if (f.severity === 'warning') summary.warnings++;
      else summary.problems++;
    }
  }
  return { summary, exitCode: summary.problems > 0 || summary.errors > 0 ? 1 : 0 };
}
