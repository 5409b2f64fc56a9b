// Reading the errno code of Node's filesystem errors without `any`.

/** The errno code (`ENOENT`, `EISDIR`, ...) of a Node system error, or undefined for other errors. */
export function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** Whether a filesystem error means "not there" (the path, or a directory on the way, is missing). */
export function isMissing(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Whether a filesystem error means the disk (or the service user's quota) is full. */
export function isNoSpace(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}
