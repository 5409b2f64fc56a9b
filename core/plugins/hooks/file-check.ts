// FileCheck: checks a file must pass before the distribution plugin accepts or sends it.
import { hookId } from '../hook-id.js';

/** The file a {@link FileCheck} looks at. */
export interface CheckedFile {
  /** The file's name as received (no directory), e.g. `ABC123_results.pdf`. */
  readonly name: string;
  /** A local path holding the file's bytes, readable for the duration of the check. */
  readonly path: string;
  /** MIME type sniffed from the bytes (not from the extension), e.g. `application/pdf`. */
  readonly mimeType: string;
  readonly size: number;
  readonly sha256: string;
}

/** What a check found: `ok`, or the reason the file is refused. */
export type FileCheckResult = { ok: true; detail?: string } | { ok: false; reason: string };

/**
 * A check of a file's content before it is accepted and again before it is sent (e.g. "the
 * patient identifier in the name appears in the PDF's text"). Dispatch: **all in plugin
 * order**; every check whose `appliesTo` accepts the file runs, and the first refusal refuses
 * the file, which then goes to the `rejected/` folder with the check's name and reason.
 *
 * A check must not change the file, and must honour `signal` (a job's time limit or shutdown).
 *
 * @example
 * ctx.contribute(FileCheck, {
 *   name: 'not-empty',
 *   appliesTo: () => true,
 *   check: async (file) => (file.size > 0 ? { ok: true } : { ok: false, reason: 'the file is empty' }),
 * });
 */
export interface FileCheck {
  /** Named in refusals and in the audit trail, e.g. `pdf-identifier`. */
  readonly name: string;
  /** Whether this check concerns the file (e.g. only `application/pdf`). */
  appliesTo(file: CheckedFile): boolean;
  /** @returns `ok`, or the reason the file is refused. Throwing counts as a failed attempt to check, not a refusal. */
  check(file: CheckedFile, signal: AbortSignal): Promise<FileCheckResult>;
}

/** Service identifier of the {@link FileCheck} hook. */
export const FileCheck = hookId<FileCheck>('FileCheck');
