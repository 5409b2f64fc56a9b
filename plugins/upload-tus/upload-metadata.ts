// Parsing tus `Upload-Metadata` and turning a client's file name into a safe resource name.
import { ValidationError, fileNameProblem } from '../../core/api.js';

/** Characters allowed in resource names (DCOR's rule). */
const ALLOWED = /[^A-Za-z0-9.,\-_+()[\]]/g;

/**
 * Parses `key base64,key2 base64` into a map.
 * @throws ValidationError for malformed pairs, duplicate keys or invalid base64.
 */
export function parseUploadMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header?.trim()) return out;
  if (header.length > 8192) throw new ValidationError(`Upload-Metadata is ${header.length} characters long; the limit is 8192`);
  for (const pair of header.split(',')) {
    const [key, value, ...rest] = pair.trim().split(' ');
    if (!key || rest.length || !/^[A-Za-z0-9_.:-]{1,100}$/.test(key)) throw new ValidationError(`Upload-Metadata pair "${pair.trim().slice(0, 50)}" is not "key base64value"`);
    if (key in out) throw new ValidationError(`Upload-Metadata has the key "${key}" twice`);
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new ValidationError(`Upload-Metadata value of "${key}" is not base64`);
    out[key] = value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
  }
  return out;
}

/**
 * A resource name from a client's file name: the last path component, with characters
 * outside `A-Za-z0-9 . , - _ + ( ) [ ]` replaced by `_`.
 * @throws ValidationError when nothing usable remains.
 */
export function sanitiseResourceName(filename: string): string {
  const base = filename.split(/[/\\]/).pop() ?? '';
  const name = base.replace(ALLOWED, '_').slice(0, 255);
  if (!name || /^\.+$/.test(name) || /^_+$/.test(name)) {
    throw new ValidationError(`file name "${filename.slice(0, 100)}" gives no usable resource name; use letters, digits and . , - _ + ( ) [ ]`, { filename: ['is not a usable resource name'] });
  }
  // What core refuses in a resource name (a device name, a trailing dot) is refused here too.
  const problem = fileNameProblem(name);
  if (problem) throw new ValidationError(`file name "${filename.slice(0, 100)}": ${problem}`, { filename: [problem] });
  return name;
}
