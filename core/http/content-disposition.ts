// The Content-Disposition of a download: an ASCII filename for old clients and the exact
// UTF-8 name (RFC 6266 / 5987) for the rest. Whatever a stored name holds, what is offered
// is one file name: no path, no control characters (see safeFileName).
import { safeFileName } from '../util/file-names.js';

/** `attachment; filename="..."; filename*=UTF-8''...` for `name`. */
export function contentDisposition(stored: string): string {
  const name = safeFileName(stored);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
