// Runs the CLI in-process with captured output, as a script would see it.
import { PassThrough, Writable } from 'node:stream';
import { main } from '../../core/cli/main.js';

/** Output and exit status of one CLI run. */
export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

function collector(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(Buffer.from(chunk)), done()) });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Runs `platform ...args` with no terminal attached; `input` is what stdin gives (default nothing). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<CliRun> {
  const out = collector();
  const err = collector();
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.end(input);
  const status = await main(args, { stdout: out.stream, stderr: err.stream, stdin, env });
  return { status, stdout: out.text(), stderr: err.text() };
}
