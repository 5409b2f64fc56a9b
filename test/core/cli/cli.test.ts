// The CLI as scripts and people use it: help for everything, passwords never as
// arguments, `token create` printing only the token, exit codes, and a real process.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { coreCommands } from '../../../core/cli/commands/core-commands.js';
import { startHostForInspect } from '../../../core/host/platform-host.js';

const bin = fileURLToPath(new URL('../../../../bin/platform.js', import.meta.url));

for (const kind of databaseKinds()) {
  describe(`platform CLI (${kind})`, () => {
    let t: TestHost;
    let passwordFile: string;
    const cli = (...args: string[]) => runCli(['--config', t.configFile, ...args]);

    before(async () => {
      t = await startTestHost(kind);
      passwordFile = join(t.db.dir, 'password');
      writeFileSync(passwordFile, 'a-strong-password\n', { mode: 0o600 });
    });
    after(async () => t.close());

    it('--help lists every core command, and each command has its own help', async () => {
      const help = await cli('--help');
      assert.equal(help.status, 0);
      for (const command of coreCommands(startHostForInspect)) {
        assert.match(help.stdout, new RegExp(`^  ${command.name}\\b`, 'm'), command.name);
        const own = await cli(...command.name.split(' '), '--help');
        assert.equal(own.status, 0);
        assert.match(own.stdout, new RegExp(`^Usage: platform ${command.name}`));
      }
    });

    it('adds a user from a password file; without one and without a terminal it refuses and creates nothing', async () => {
      const refused = await cli('user', 'add', 'dave', '--email', 'd@example.org');
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /no terminal to ask on; give it with the --password-file option/);
      assert.equal((await cli('user', 'show', 'dave')).status, 1);
      const added = await cli('user', 'add', 'dave', '--email', 'd@example.org', '--password-file', passwordFile, '--sysadmin');
      assert.equal(added.status, 0, added.stderr);
      assert.match((await cli('user', 'show', 'dave')).stdout, /sysadmin: true/);
    });

    it('never takes a password or token as an argument', async () => {
      const run = await cli('user', 'add', 'eve', '--email', 'e@example.org', '--password', 'secret123456');
      assert.equal(run.status, 2);
      assert.match(run.stderr, /Unknown option '--password'/);
    });

    it('token create prints the token alone, and it works against the API; list never shows it; revoke ends it', async () => {
      const created = await cli('token', 'create', '--user', 'dave', '--name', 'ci', '--expires-days', '30');
      assert.equal(created.status, 0, created.stderr);
      const lines = created.stdout.split('\n').filter(Boolean);
      assert.equal(lines.length, 1);
      const token = lines[0]!;
      assert.equal((await t.call('user_show', { id: 'dave' }, { token, method: 'GET' })).status, 200);
      const listed = await cli('token', 'list', '--user', 'dave');
      assert.equal(listed.stdout.includes(token), false);
      const prefix = token.split('_')[1]!;
      assert.match(listed.stdout, new RegExp(`${prefix}\\s+ci\\s+active`));
      assert.equal((await cli('token', 'revoke', prefix)).status, 0);
      assert.equal((await t.call('user_show', { id: 'dave' }, { token, method: 'GET' })).status, 403);
      assert.equal((await cli('token', 'create', '--user', 'dave', '--name', 'x', '--expires-days', 'soon')).status, 2);
    });

    it('manages organisations and members', async () => {
      assert.equal((await cli('org', 'add', 'lab', '--title', 'The Lab')).status, 0);
      assert.equal((await cli('org', 'member-add', 'lab', 'dave', '--role', 'editor')).status, 0);
      assert.match((await cli('org', 'list')).stdout, /lab\s+The Lab\s+dave\(editor\)/);
      const bad = await cli('org', 'member-add', 'lab', 'dave', '--role', 'owner');
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /role: must be one of/);
      assert.equal((await cli('org', 'member-remove', 'lab', 'dave')).status, 0);
      assert.doesNotMatch((await cli('org', 'list')).stdout, /dave/);
    });

    it('changes passwords, sysadmin rights and deletes users', async () => {
      writeFileSync(join(t.db.dir, 'new-password'), 'another-strong-one\n', { mode: 0o600 });
      assert.equal((await cli('user', 'set-password', 'dave', '--password-file', join(t.db.dir, 'new-password'))).status, 0);
      assert.equal((await cli('user', 'sysadmin', 'dave', '--off')).status, 0);
      assert.match((await cli('user', 'show', 'dave')).stdout, /sysadmin: false/);
      assert.equal((await cli('user', 'delete', 'dave')).status, 2, 'asks first; no terminal means no');
      assert.equal((await cli('user', 'delete', 'dave', '--yes')).status, 0);
      assert.equal((await cli('user', 'show', 'dave')).status, 1);
    });

    it('says which command was meant, with exit 2', async () => {
      const run = await cli('usr', 'add');
      assert.equal(run.status, 2);
      assert.match(run.stderr, /unknown command "usr add"; did you mean "user add"/);
    });

    it('db status lists migrations and exits 1 while some are pending; db upgrade applies them', async () => {
      const status = await cli('db', 'status');
      assert.equal(status.status, 0);
      assert.match(status.stdout, /core:0001-core-tables\s+applied/);
      const env = { PLATFORM__PLATFORM__PLUGINS: 'platform-plugin-example', PLATFORM__DB__AUTO_MIGRATE: 'false' };
      const pending = await runCli(['--config', t.configFile, 'db', 'status'], env);
      assert.equal(pending.status, 1);
      assert.match(pending.stdout, /platform-plugin-example:0001-create-example-greetings\s+pending/);
      assert.match(pending.stderr, /run: platform db upgrade/);
      const refused = await runCli(['--config', t.configFile, 'user', 'list'], env);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /pending migration/);
      const upgraded = await runCli(['--config', t.configFile, 'db', 'upgrade'], env);
      assert.match(upgraded.stdout, /applied platform-plugin-example:0001-create-example-greetings/);
      assert.equal((await runCli(['--config', t.configFile, 'db', 'status'], env)).status, 0);
    });
  });
}

describe('platform as a real process', () => {
  it('prints the version and exits 0; an unknown option exits 2 with the reason on stderr', () => {
    assert.equal(execFileSync(process.execPath, [bin, '--version']).toString().trim(), '0.1.0');
    const run = spawnSync(process.execPath, [bin, '--config', '/nonexistent/platform.ini', 'init', '--bogus'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /Unknown option '--bogus'/);
    assert.equal(run.stdout, '');
  });
});
