// The shipped FileCheck: a PDF's text (through poppler's pdftotext) must contain, on any
// page, the identifier found in the file's name.
import { execFile } from 'node:child_process';
import type { CheckedFile, FileCheck, FileCheckResult } from '../../core/api.js';

/** Extracts a PDF's text, one string per page. @throws Error when pdftotext is missing; a refusal when it cannot read the file. */
export function pdfPages(path: string, signal: AbortSignal): Promise<{ pages: string[] } | { unreadable: string }> {
  return new Promise((resolve, reject) => {
    execFile('pdftotext', ['-q', '-enc', 'UTF-8', '-layout', path, '-'], { signal, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return reject(new Error('pdftotext is not installed (Debian package poppler-utils); the pdf-identifier check cannot run'));
        if (code === 'ABORT_ERR') return reject(error);
        return resolve({ unreadable: `pdftotext could not read it (exit ${String((error as { code?: unknown }).code)}${stderr ? `: ${stderr.trim().slice(0, 200)}` : ''})` });
      }
      resolve({ pages: stdout.split('\f') });
    });
  });
}

/** The pdf-identifier check, with the regular expression whose first group is the identifier in a name. */
export function pdfIdentifierCheck(identifierPattern: RegExp): FileCheck {
  return {
    name: 'pdf-identifier',
    appliesTo: (file: CheckedFile) => file.mimeType === 'application/pdf',
    async check(file: CheckedFile, signal: AbortSignal): Promise<FileCheckResult> {
      const match = identifierPattern.exec(file.name);
      const identifier = match?.[1] ?? match?.[0];
      if (!identifier) return { ok: false, reason: `the name "${file.name}" holds no identifier (identifier_pattern ${identifierPattern.source} does not match)` };
      const text = await pdfPages(file.path, signal);
      if ('unreadable' in text) return { ok: false, reason: text.unreadable };
      const page = text.pages.findIndex((p) => p.includes(identifier));
      if (page < 0) return { ok: false, reason: `identifier "${identifier}" from the file name appears on none of its ${text.pages.filter((p) => p.trim()).length} page(s) of text` };
      return { ok: true, detail: `identifier "${identifier}" found on page ${page + 1}` };
    },
  };
}
