// Entry of every contained process (see contained-process.ts): reads `{ module, input }` from
// stdin, imports the module (which must lie under the code paths the process may read), calls
// its default export with the input and `{ fd: 3 }`, and writes `{ ok, result }` or
// `{ ok: false, error }` as JSON to stdout. Anything the task prints goes to stderr, so that
// stdout carries the answer alone.
import { readFileSync } from 'node:fs';

/** What a contained task's module exports as default. */
export type ContainedTaskFunction = (input: unknown, context: { fd: number }) => unknown;

const write = (text: string): void => {
  process.stdout.write(text, () => process.exit(0));
};

console.log = console.info = console.warn = console.debug = console.error;

try {
  const { module, input } = JSON.parse(readFileSync(0, 'utf8')) as { module: string; input: unknown };
  const loaded = (await import(module)) as { default?: unknown };
  if (typeof loaded.default !== 'function') throw new TypeError('the task module has no default export');
  const result: unknown = await (loaded.default as ContainedTaskFunction)(input, { fd: 3 });
  write(JSON.stringify({ ok: true, result: result === undefined ? null : result }));
} catch (caught) {
  write(JSON.stringify({ ok: false, error: caught instanceof Error ? caught.message : String(caught) }));
}
