// Runs every FileCheck that applies to a file: the shipped ones that are enabled and those
// other plugins contribute (in plugin order); the first refusal refuses the file.
import { HookRegistriesId, type CheckedFile, type FileCheck, type Services } from '../../core/api.js';

/** The outcome of all checks of one file. */
export type ChecksOutcome = { ok: true; passed: string[] } | { ok: false; check: string; reason: string };

/** Contributions to the FileCheck hook, in plugin order. */
function contributedChecks(services: Services): FileCheck[] {
  return services.get(HookRegistriesId).fileChecks.map((c) => c.value);
}

/** Runs the checks of files. */
export class FileCheckRunner {
  constructor(private readonly shipped: readonly FileCheck[], private readonly services: () => Services) {}

  /** Every check that runs, shipped first. */
  checks(): FileCheck[] {
    return [...this.shipped, ...contributedChecks(this.services())];
  }

  /** Runs the applicable checks in order; stops at the first refusal. Throws when a check could not run. */
  async run(file: CheckedFile, signal: AbortSignal): Promise<ChecksOutcome> {
    const passed: string[] = [];
    for (const check of this.checks()) {
      if (!check.appliesTo(file)) continue;
      const result = await check.check(file, signal);
      if (!result.ok) return { ok: false, check: check.name, reason: result.reason };
      passed.push(result.detail ? `${check.name}: ${result.detail}` : check.name);
    }
    return { ok: true, passed };
  }
}
