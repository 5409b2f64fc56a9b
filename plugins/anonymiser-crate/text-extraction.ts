// Text from documents for binary_to_text and filename_to_text: PDF through pdftotext, RTF
// through unrtf, DOC through antiword, DOCX and ODT by reading their XML (both are zip files;
// unzip -p gives the part), plain text as is. Each tool runs with a time limit and no shell.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';

/** Why extraction failed; `skip_if_extract_fails` turns it into a skipped row. */
export class ExtractionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExtractionError';
  }
}

function run(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, stdout) => {
      if (error) reject(new ExtractionError(`${command} failed: ${error.killed ? `no answer within ${timeoutMs} ms` : error.message.split('\n')[0]}`));
      else resolve(stdout);
    });
  });
}

function xmlToText(xml: string): string {
  return xml
    .replace(/<\/(w:p|text:p|text:h)>/g, '\n')
    .replace(/<(w:tab|text:tab)\/>/g, '\t')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/**
 * Extracts the text of the file at `path`, choosing the tool by extension.
 * @throws ExtractionError for unknown extensions and failing tools
 */
export async function fileToText(path: string, timeoutMs: number, extension = extname(path)): Promise<string> {
  const ext = extension.toLowerCase().replace(/^\.?/, '.');
  switch (ext) {
    case '.pdf': return run('pdftotext', ['-q', '-enc', 'UTF-8', path, '-'], timeoutMs);
    case '.rtf': {
      const out = await run('unrtf', ['--text', '--nopict', path], timeoutMs);
      // unrtf --text starts with a comment block of ### lines.
      return out.split('\n').filter((l) => !l.startsWith('###')).join('\n').replace(/^-+\n/, '').trim();
    }
    case '.doc': return run('antiword', [path], timeoutMs);
    case '.docx': return xmlToText(await run('unzip', ['-p', path, 'word/document.xml'], timeoutMs));
    case '.odt': return xmlToText(await run('unzip', ['-p', path, 'content.xml'], timeoutMs));
    case '.txt': case '.text': case '.csv': {
      const { readFile } = await import('node:fs/promises');
      return readFile(path, 'utf8');
    }
    default: throw new ExtractionError(`no text extractor for "${ext}" files (PDF, DOCX, RTF, ODT, DOC and TXT are supported)`);
  }
}

/** Extracts text from bytes held in a database, given the document's file name or extension. */
export async function bytesToText(bytes: Buffer, nameOrExtension: string, timeoutMs: number): Promise<string> {
  const ext = extname(nameOrExtension) || `.${nameOrExtension.replace(/^\./, '')}`;
  const dir = await mkdtemp(join(tmpdir(), 'anon-extract-'));
  try {
    const file = join(dir, `document${ext.toLowerCase()}`);
    await writeFile(file, bytes, { mode: 0o600 });
    return await fileToText(file, timeoutMs, ext);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
