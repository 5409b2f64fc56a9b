// How inspect looks on a terminal: one line per check grouped by area, marks, details
// under each problem, a summary line; and a progress bar for long checks.
import type { InspectReport } from './inspect-report.js';

const MARK = { ok: 'ok', warning: 'WARN', problem: 'PROBLEM', repaired: 'REPAIRED', error: 'ERROR' } as const;

/** The text report. */
export function renderInspectReport(report: InspectReport): string {
  const lines: string[] = [];
  let area = '';
  for (const check of report.checks) {
    if (check.area !== area) {
      area = check.area;
      lines.push(`[${area}]`);
    }
    const counts = { ok: 0, warning: 0, problem: 0 };
    for (const f of check.findings) counts[f.severity]++;
    lines.push(`  ${MARK[check.status].padEnd(8)} ${check.name} (${counts.ok} ok, ${counts.warning} warning(s), ${counts.problem} problem(s))`);
    if (check.error) lines.push(`           the check failed: ${check.error}`);
    for (const f of check.findings) {
      if (f.severity === 'ok') continue;
      const repaired = f.repair?.status === 'applied';
      lines.push(`           ${repaired ? 'repaired' : f.severity}: ${f.title}`);
      if (f.why) lines.push(`             why: ${f.why}`);
      if (!repaired && f.fix) lines.push(`             fix: ${f.fix}`);
      for (const d of f.details?.slice(0, 20) ?? []) lines.push(`             - ${d}`);
      if ((f.details?.length ?? 0) > 20) lines.push(`             - ... and ${f.details!.length - 20} more (see --json)`);
      if (f.repair) lines.push(`             repair ${f.repair.status}: ${f.repair.message ?? f.repair.description}${f.repair.status === 'skipped' ? ' (run with --repair)' : ''}`);
    }
  }
  const s = report.summary;
  lines.push('', `${s.checks} check(s): ${s.ok} ok, ${s.warnings} warning(s), ${s.problems} problem(s), ${s.repaired} repaired${s.errors ? `, ${s.errors} failed to run` : ''}${report.exitCode === 0 ? ' - nothing left wrong' : ''}`);
  return `${lines.join('\n')}\n`;
}

/** A one-line progress bar on a terminal: label, bar, counts and rate. */
export function terminalProgress(out: NodeJS.WritableStream): { start(label: string): void; update(done: number, total: number | undefined): void; done(): void } {
  let label = '';
  let started = 0;
  let last = 0;
  return {
    start(l) {
      label = l;
      started = Date.now();
    },
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done !== total) return;
      last = now;
      const rate = done / Math.max((now - started) / 1000, 0.001);
      const width = 30;
      const bar = total ? `[${'#'.repeat(Math.round((done / total) * width)).padEnd(width)}] ${done}/${total}` : `${done}`;
      out.write(`\r${label} ${bar} ${rate.toFixed(0)}/s   `);
    },
    done() {
      if (last) out.write('\r\x1b[K');
      last = 0;
    },
  };
}
