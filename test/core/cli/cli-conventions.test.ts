// Conventions every command keeps, for scripts and for people: no secret is ever taken as
// a plain argument; passwords are asked on a terminal (twice, without echo, never on
// stdout) and refused without one; wrong usage exits 2 with the reason on stderr, failures
// exit 1; a mistyped command is named even when the configuration cannot be read.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../core/cli/main.js';
import { coreCommands } from '../../../core/cli/commands/core-commands.js';
import { startHostForInspect } from '../../../core/host/platform-host.js';
import { startTestHost, writeTestConfig, type TestHost } from '../../helpers/test-host.js';
import { createTestDatabase } from '../../helpers/test-databases.js';
import { runCli } from '../../helpers/run-cli.js';
import { UserServiceId } from '../../../core/services/service-ids.js';

/** Runs the CLI with stdin on a pretend terminal: `answers` are typed one per prompt seen on stderr. */
async function runOnTerminal(args: string[], answers: string[]): Promise<{ status: number; stdout: string; stderr: string; prompts: number }> {
  let stdout = '';
  let stderr = '';
  let prompts = 0;
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
  stdin.isTTY = true;
  stdin.setRawMode = () => undefined;
  const err = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      stderr += text;
      // Type the next answer when a question appears, as a person would.
      if (/: $/.test(text) && prompts < answers.length) setImmediate(() => stdin.write(`${answers[prompts++]}\r`));
      done();
    },
  });
  const out = new Writable({ write: (chunk: Buffer, _encoding, done) => void ((stdout += chunk.toString()), done()) });
  const status = await main(args, { stdout: out, stderr: err, stdin, env: {} });
  stdin.destroy();
  return { status, stdout, stderr, prompts };
}

describe('CLI conventions', () => {
  let t: TestHost;
  const cli = (...args: string[]) => runCli(['--config', t.configFile, ...args]);
  before(async () => {
    t = await startTestHost('sqlite', { pluginNames: ['platform-plugin-example'] });
  });
  after(async () => t.close());

  it('no command, core\'s or a plugin\'s, takes a password, token, key or secret as a plain value', () => {
    const offenders: string[] = [];
    for (const command of [...coreCommands(startHostForInspect), ...t.host.registries.commands.values()]) {
      for (const [name, option] of Object.entries(command.options ?? {})) {
        if (option.type === 'string' && /pass|token|secret|key|credential/i.test(name) && option.value !== 'FILE') offenders.push(`${command.name} --${name} ${option.value ?? 'VALUE'}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('asks for a password twice on a terminal, without echo and never on stdout', async () => {
    const run = await runOnTerminal(['--config', t.configFile, 'user', 'add', 'tess', '--email', 't@example.org'], ['terminal-secret-1', 'terminal-secret-1']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.prompts, 2);
    assert.match(run.stderr, /^Password: \nPassword again: \ncreated user tess\n$/);
    assert.match(run.stdout, /^[0-9a-f-]{36}\n$/, 'stdout holds only the new user\'s id');
    assert.equal(`${run.stdout}${run.stderr}`.includes('terminal-secret-1'), false, 'the password is not echoed');
    assert.equal((await t.host.services.get(UserServiceId).authenticate('tess', 'terminal-secret-1')).name, 'tess', 'the typed password is the one set');
  });

  it('two different answers on the terminal create nothing and exit 2', async () => {
    const run = await runOnTerminal(['--config', t.configFile, 'user', 'add', 'tom', '--email', 'tom@example.org'], ['first-password-1', 'second-password-2']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /error: the two passwords differ/);
    assert.equal((await cli('user', 'show', 'tom')).status, 1);
  });

  it('wrong usage exits 2 with the reason on stderr and nothing on stdout', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['token', 'create', '--user', 'tess'], /--name is required; see platform token create --help/],
      [['user', 'add', '--email', 'x@example.org'], /expected NAME, got nothing; see platform user add --help/],
      [['user', 'add', 'a', 'b', '--email', 'x@example.org'], /expected NAME, got "a" "b"/],
      [['user', 'list', '--bogus'], /Unknown option '--bogus'; see platform user list --help/],
      [['token', 'create', '--user', 'tess', '--name', 'x', '--token', 'abc'], /Unknown option '--token'/],
      [['usr', 'lst'], /unknown command "usr lst"; did you mean "user list"\?; see platform --help/],
    ];
    for (const [args, pattern] of cases) {
      const run = await cli(...args);
      assert.equal(run.status, 2, args.join(' '));
      assert.match(run.stderr, pattern);
      assert.equal(run.stdout, '', args.join(' '));
    }
  });

  it('a failure exits 1 with the reason on stderr and nothing on stdout', async () => {
    const run = await cli('token', 'create', '--user', 'nobody', '--name', 'ci');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^error: .*nobody/m);
    assert.equal(run.stdout, '');
  });

  it('--help is exit 0 for the whole CLI and for a group; bare platform shows the overview and exits 2', async () => {
    const all = await cli('--help');
    assert.equal(all.status, 0);
    assert.match(all.stdout, /^Usage: platform \[--config FILE\] COMMAND \[OPTIONS\]/);
    const group = await cli('user', '--help');
    assert.equal(group.status, 0);
    assert.deepEqual(group.stdout.split('\n').filter((l) => /^ {2}user /.test(l)).map((l) => l.trim().split(/\s{2,}/)[0]!.split(' ').slice(0, 2).join(' ')), ['user add', 'user delete', 'user list', 'user set-password', 'user show', 'user sysadmin']);
    assert.equal((await cli()).status, 2);
  });
});

describe('CLI without a usable configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-noconfig-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('--config without a path is wrong usage', async () => {
    const run = await runCli(['user', 'list', '--config']);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--config needs the path of a platform\.ini/);
  });

  it('a mistyped core command is named as such; anything else reports the configuration problem', async () => {
    const missing = join(dir, 'missing.ini');
    const typo = await runCli(['--config', missing, 'usr', 'add']);
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /unknown command "usr add"; did you mean "user add"( or "[^"]+")*\? \(plugin commands could not be looked up: cannot read configuration file .*missing\.ini: ENOENT\)/);
    const other = await runCli(['--config', missing, 'frobnicate']);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /cannot read configuration file .*missing\.ini: ENOENT/);
    const help = await runCli(['--config', missing, '--help']);
    assert.equal(help.status, 0, 'core help works without a configuration');
    assert.match(help.stdout, /Plugin commands are not listed because the configuration could not be loaded/);
  });

  it('a plugin that cannot be loaded stops every command with exit 1, naming the plugin', async () => {
    const db = await createTestDatabase('sqlite');
    try {
      const configFile = writeTestConfig(db, ['platform-plugin-missing']);
      const run = await runCli(['--config', configFile, 'user', 'list']);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /^error: plugin "platform-plugin-missing": not found: .*\(install it with npm install platform-plugin-missing\)\n$/);
      assert.equal(run.stdout, '');
    } finally {
      await db.cleanup();
    }
  });
});
