// The rules for names that become file names: resource names (sent back in a download's
// Content-Disposition and used by clients that save files) and names a plugin writes under a
// folder. The same rules apply whichever way a name arrives (JSON action, multipart upload,
// tus), so `../../../etc/passwd` is refused everywhere, not just cleaned up in one place.

/** Names Windows reserves for devices, with or without an extension (`CON`, `nul.txt`, `COM1`). */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

/**
 * What is wrong with `name` as a file name, or undefined when nothing is: no `/` or `\`, no
 * control characters, not `.` or `..` (nor only dots), no leading or trailing space, no
 * trailing dot, not a Windows device name, at most 255 characters.
 */
export function fileNameProblem(name: string): string | undefined {
  const shown = JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}...` : name);
  const hint = 'use letters, digits and . , - _ + ( ) [ ]';
  if (name === '') return 'must not be empty';
  if (name.length > 255) return `name is ${name.length} characters long; use at most 255`;
  const separator = /[/\\]/.exec(name);
  if (separator) return `name ${shown} contains "${separator[0]}"; a name is one file name, not a path: ${hint}`;
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return `name ${shown} contains a control character; ${hint}`;
  if (/^\.+$/.test(name)) return `name ${shown} is only dots; ${hint}`;
  if (name !== name.trim()) return `name ${shown} starts or ends with a space; ${hint}`;
  if (name.endsWith('.')) return `name ${shown} ends with "."; ${hint}`;
  if (RESERVED.test(name)) return `name ${shown} is reserved for a device on Windows; choose another`;
  return undefined;
}

/**
 * `name` made safe to offer as a file name (for names stored before the rules, or from
 * elsewhere): the last path part, control characters and separators as `_`, and `download`
 * when nothing usable remains.
 */
export function safeFileName(name: string): string {
  const base = (name.split(/[/\\]/).at(-1) ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '_').trim().slice(0, 255);
  if (!base || /^\.+$/.test(base)) return 'download';
  return RESERVED.test(base) ? `_${base}` : base;
}
