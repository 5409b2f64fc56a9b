// alter_method of the data dictionary: a comma-separated list of steps applied in order to a
// value on its way to the destination (scrub, truncate_date, html_unescape, html_untag,
// hash=SECTION, binary_to_text=EXTFIELD, filename_to_text, with skip_if_extract_fails).

/** One step of an alter_method. */
export type AlterMethod =
  | { kind: 'scrub' }
  | { kind: 'truncate_date' }
  | { kind: 'html_unescape' }
  | { kind: 'html_untag' }
  | { kind: 'hash'; section: string }
  | { kind: 'binary_to_text'; extensionField: string; skipIfExtractFails: boolean }
  | { kind: 'filename_to_text'; skipIfExtractFails: boolean };

/** Parses `text`; every problem is a message for the alter_method column. */
export function parseAlterMethods(text: string): { methods: AlterMethod[]; problems: string[] } {
  const methods: AlterMethod[] = [];
  const problems: string[] = [];
  if (!text) return { methods, problems };
  const parts = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const skip = parts.includes('skip_if_extract_fails');
  for (const part of parts) {
    const [name, arg] = part.includes('=') ? [part.slice(0, part.indexOf('=')), part.slice(part.indexOf('=') + 1)] : [part, undefined];
    switch (name) {
      case 'scrub':
      case 'truncate_date':
      case 'html_unescape':
      case 'html_untag':
        if (arg !== undefined) problems.push(`${name} takes no argument ("${part}")`);
        else methods.push({ kind: name });
        break;
      case 'hash':
        if (!arg || !/^[A-Za-z0-9_.-]+$/.test(arg)) problems.push(`hash needs a config section: hash=SECTION, not "${part}"`);
        else methods.push({ kind: 'hash', section: arg });
        break;
      case 'binary_to_text':
        if (!arg || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(arg)) problems.push(`binary_to_text needs the field holding the file name or extension: binary_to_text=EXTFIELD, not "${part}"`);
        else methods.push({ kind: 'binary_to_text', extensionField: arg, skipIfExtractFails: skip });
        break;
      case 'filename_to_text':
        if (arg !== undefined) problems.push(`filename_to_text takes no argument ("${part}")`);
        else methods.push({ kind: 'filename_to_text', skipIfExtractFails: skip });
        break;
      case 'skip_if_extract_fails':
        if (!parts.some((p) => p.startsWith('binary_to_text') || p === 'filename_to_text')) problems.push('skip_if_extract_fails modifies binary_to_text or filename_to_text, and neither is given');
        break;
      default:
        problems.push(`unknown alter method "${name}"; use scrub, truncate_date, html_unescape, html_untag, hash=SECTION, binary_to_text=EXTFIELD, filename_to_text, skip_if_extract_fails`);
    }
  }
  const extractions = methods.filter((m) => m.kind === 'binary_to_text' || m.kind === 'filename_to_text');
  if (extractions.length > 1) problems.push('give at most one of binary_to_text and filename_to_text');
  if (extractions.length === 1 && methods[0] !== extractions[0]) problems.push(`${extractions[0]!.kind} must come first: the other steps work on the extracted text`);
  return { methods, problems };
}
