// InspectChecks: what `platform inspect` looks at, and how it repairs.
import { hookId } from '../hook-id.js';
import type { Services } from '../../services/services.js';
import type { PlatformConfig } from '../../config/platform-config.js';

/** How bad a finding is. */
export type FindingSeverity = 'ok' | 'warning' | 'problem';

/** A safe repair that `inspect --repair` may apply. */
export interface Repair {
  /** What it will do, shown before asking. */
  readonly description: string;
  /** Applies the repair; @returns what was done. */
  apply(): Promise<string>;
}

/** One result of a check: what is wrong, why it matters, and the fix. */
export interface InspectFinding {
  severity: FindingSeverity;
  /** What is wrong (or what was found fine). */
  title: string;
  /** Why it matters. */
  why?: string;
  /** The exact fix, as a command or steps. */
  fix?: string;
  details?: string[];
  repair?: Repair;
}

/** What a check receives. */
export interface InspectContext {
  readonly services: Services;
  readonly config: PlatformConfig;
  /** True with `--deep` (slow checks such as re-hashing files). */
  readonly deep: boolean;
  /** True with `--retry-dead`: repairs may queue dead jobs again (off by default: they failed every attempt). */
  readonly retryDead?: boolean;
  /** Reports progress of a long check (drawn as a bar on a terminal). */
  progress(done: number, total: number | undefined): void;
}

/**
 * One check. Dispatch: **registry** keyed by `area` + `name`; checks run in plugin order,
 * grouped by area.
 */
export interface InspectCheck {
  /** e.g. `config`, `depot`, `jobs`. */
  readonly area: string;
  readonly name: string;
  run(ctx: InspectContext): Promise<InspectFinding[]>;
}

/** Service identifier of the {@link InspectCheck} hook. */
export const InspectChecks = hookId<InspectCheck>('InspectChecks');
