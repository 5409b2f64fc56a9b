// Prompts on the terminal: secrets without echo, and yes/no questions. Never used when
// stdin is not a terminal, so scripts never hang.
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { UsageError } from '../errors.js';

interface PromptIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
  stderr: NodeJS.WritableStream;
}

/** Reads a secret with echo off. @throws UsageError when stdin is not a terminal. */
export async function promptSecretOnTerminal(question: string, io: PromptIo): Promise<string> {
  if (!io.stdin.isTTY) throw new UsageError(`${question.replace(/:\s*$/, '')} is needed but there is no terminal to ask on; give it with the --password-file option`);
  io.stderr.write(question);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: io.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    io.stderr.write('\n');
  }
}

/** Asks a yes/no question; false without a terminal. */
export async function confirmOnTerminal(question: string, io: PromptIo): Promise<boolean> {
  if (!io.stdin.isTTY) return false;
  const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: true });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
