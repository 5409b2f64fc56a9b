// Each contract suite can fail: a deliberately broken implementation of each hook (under
// test/contracts/broken/, not picked up as tests of their own) is run through its suite in a
// child test runner, and the tests that must catch each fault are seen failing, while the
// ones the fault does not touch still pass (so the failure is the contract's, not a crash).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Outcome {
  passed: Set<string>;
  failed: Set<string>;
  output: string;
}

/** Runs one compiled broken fixture under `node --test` and collects which tests passed and failed. */
function runBroken(fixture: string): Outcome {
  const file = fileURLToPath(new URL(`./broken/${fixture}.broken.js`, import.meta.url));
  // Without the parent runner's context, or the child would defer to it and run nothing.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_TEST_CONTEXT'));
  const child = spawnSync(process.execPath, ['--test', '--test-reporter=tap', file], { encoding: 'utf8', env, timeout: 300_000, maxBuffer: 256 * 1024 * 1024 });
  const output = `${child.stdout}\n${child.stderr}`;
  const passed = new Set<string>();
  const failed = new Set<string>();
  for (const match of output.matchAll(/^\s*(ok|not ok) \d+ - (.*?)(?: # .*)?$/gm)) (match[1] === 'ok' ? passed : failed).add(match[2]!.trim());
  assert.notEqual(child.status, 0, `the broken ${fixture} passed its contract:\n${output.slice(-3000)}`);
  return { passed, failed, output };
}

function expectFailures(outcome: Outcome, mustFail: string[], mustPass: string[]): void {
  for (const name of mustFail) assert.ok(outcome.failed.has(name), `"${name}" should fail; the run said:\n${outcome.output.slice(-4000)}`);
  for (const name of mustPass) assert.ok(outcome.passed.has(name), `"${name}" should pass; the run said:\n${outcome.output.slice(-4000)}`);
}

describe('contract suites catch broken implementations', () => {
  it('UploadProtocol: a 500 on a request without the header it expects', () => {
    expectFailures(
      runBroken('upload-protocol'),
      ['refuses each malformed request with a 4xx that shows no internals', 'answers junk sent to any of its routes, by any method and without credentials, without a 5xx'],
      ['has a name that is one path segment', 'adds routes, each relative to its own mount point, and the same ones every time'],
    );
  });

  it('Depot: keeps a file whose size or sha256 differs from the expected one, serves a range too long', () => {
    expectFailures(
      runBroken('depot'),
      ['keeps nothing when the size differs from the expected one, and says both', 'keeps nothing when the sha256 differs from the expected one, and says both', 'serves exact inclusive byte ranges: first byte, last byte, middle, whole'],
      ['has a name', 'round-trips bytes, with size and sha256 equal to a hash of the input', 'deletes: stat is then undefined, open is NotFound, and deleting again is fine'],
    );
  });

  it('Anonymiser: copies identifiers through, and refuses with a plain Error after writing half a file', () => {
    expectFailures(
      runBroken('anonymiser'),
      ['leaves none of the identifiers a sample names in what it writes', 'refuses what it cannot anonymise with a ValidationError and a reason, writing nothing'],
      ['has a name to be named by', 'gives the same bytes for the same file and policy (a kept copy stays valid across a retry)'],
    );
  });

  it('Schema: changes its input, throws instead of answering, calls a bad file valid with NaN metadata', () => {
    expectFailures(
      runBroken('schema'),
      ['normalises to a fixed point, without changing the dataset it was given', 'answers invalid datasets with messages for the fields at fault, the same every time, without throwing', 'finds valid files valid, with metadata that survives JSON', 'finds invalid files invalid, and says why', 'stops when the job is cancelled, without calling a file valid'],
      ['has a name', 'accepts valid datasets with no messages'],
    );
  });

  it('FileCheck: applies to every file, refuses without a reason, passes a file after its signal was aborted', () => {
    expectFailures(
      runBroken('file-check'),
      ['applies to the files it checks and not to others, the same way every time', 'refuses bad files with a reason, leaving them unchanged', 'stops when its signal is aborted, without passing the file'],
      ['has a name to be named by in refusals', 'passes good files, leaving them unchanged', 'gives the same answer for the same file'],
    );
  });

  it('Delivery destination: half a file under the final name, a signal ignored, a password in the location', () => {
    expectFailures(
      runBroken('delivery-target'),
      ['rejects a send whose source fails, and shows no file under its name', 'rejects a send whose signal is aborted, and shows no file under its name', 'reports locations and public paths without credentials'],
      ['has a name and a kind', 'holds a sent file whole: size (and sha256, when it can tell) as sent, in nested folders too', 'removes, and removing again (or what never was) is fine'],
    );
  });

  it('Actions: a 500 on unexpected input, a write for anyone, a lookup before the permission check', () => {
    expectFailures(
      runBroken('actions'),
      ['answers an empty call, signed in or not, from the catalogue', 'answers junk input from the catalogue, never with a 5xx', 'lets no one change data without signing in', 'checks permissions before input: an anonymous writer learns nothing of what exists'],
      ['refuses GET for actions that change data'],
    );
  });
});
