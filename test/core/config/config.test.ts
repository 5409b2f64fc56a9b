// platform.ini: every problem at once with file, section and key; unknown keys and
// sections with a did-you-mean; types; environment overrides of core and plugin keys;
// secret files created with mode 0600; `init` writing a production configuration.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { ConfigError } from '../../../core/errors.js';
import { runCli } from '../../helpers/run-cli.js';

describe('configuration', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function write(text: string): string {
    const file = join(dir, `platform-${Math.random().toString(36).slice(2)}.ini`);
    writeFileSync(file, text);
    return file;
  }

  async function problems(text: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
    const file = write(text);
    try {
      await PlatformHost.start({ configFile: file, env, level: 'config', logSink: () => undefined });
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    assert.fail('the configuration was accepted');
  }

  it('reports every problem at once, with file, section and key, and did-you-mean', async () => {
    const found = await problems(`[platform]\ndata_dir = ${dir}\n[http]\nprot = 8080\nport = eighty\n[loging]\nlevel = info\n[db]\nurl = mysql://nope\n`);
    assert.equal(found.length, 4, found.join('\n'));
    assert.ok(found.some((p) => /platform-.*\.ini: \[http\] prot: unknown key; did you mean "port"\?/.test(p)));
    assert.ok(found.some((p) => /\[http\] port: must be integer/.test(p)));
    assert.ok(found.some((p) => /\[loging\]: unknown section; did you mean "logging"\?/.test(p)));
    assert.ok(found.some((p) => /\[db\] url: must match pattern/.test(p)));
  });

  it('validates plugin sections against the plugin schema', async () => {
    const found = await problems(`[platform]\nplugins = platform-plugin-example\ndata_dir = ${dir}\n[plugin:platform-plugin-example]\ngreting = hi\n`);
    assert.deepEqual(found.map((p) => p.replace(/^.*?: /, '')), ['[plugin:platform-plugin-example] greting: unknown key; did you mean "greeting"?']);
  });

  it('takes PLATFORM__SECTION__KEY overrides, for plugin sections too, and reports bad ones', async () => {
    const file = write(`[platform]\nplugins = platform-plugin-example\ndata_dir = ${dir}\n[http]\nport = 5000\n`);
    const host = await PlatformHost.start({ configFile: file, env: { PLATFORM__HTTP__PORT: '8081', PLATFORM__PLUGIN_PLATFORM_PLUGIN_EXAMPLE__GREETING: 'moin' }, level: 'config', logSink: () => undefined });
    try {
      assert.equal(host.config.section<{ port: number }>('http').port, 8081);
      assert.equal(host.config.section<{ greeting: string }>('plugin:platform-plugin-example').greeting, 'moin');
    } finally {
      await host.stop();
    }
    const found = await problems(`[platform]\ndata_dir = ${dir}\n`, { PLATFORM__HTPP__PORT: '1', PLATFORM__HTTP__PORT: 'x' });
    assert.ok(found.some((p) => /PLATFORM__HTPP__PORT: no section matches "HTPP"; did you mean "HTTP"\?/.test(p)), found.join('\n'));
    assert.ok(found.some((p) => /\[http\] port: must be integer/.test(p)));
  });

  it('creates missing secret files with mode 0600 and never prints them', async () => {
    const data = join(dir, 'fresh');
    const file = write(`[platform]\ndata_dir = ${data}\nsecret_key_file = ${data}/secrets/key\n`);
    const logs: string[] = [];
    const host = await PlatformHost.start({ configFile: file, env: {}, level: 'config', logSink: (r) => logs.push(JSON.stringify(r)) });
    await host.stop();
    const secret = readFileSync(join(data, 'secrets', 'key'), 'utf8').trim();
    assert.equal(statSync(join(data, 'secrets', 'key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(data, 'secrets')).mode & 0o777, 0o700);
    assert.ok(secret.length >= 43);
    assert.equal(logs.join('\n').includes(secret), false);
  });

  it('init writes a production configuration and secret with mode 0600, and refuses to overwrite', async () => {
    const target = join(dir, 'prod', 'platform.ini');
    const run = await runCli(['init', '--config', target, '--site-url', 'https://data.example.org']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(statSync(target).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'prod', 'secrets', 'secret-key')).mode & 0o777, 0o600);
    const text = readFileSync(target, 'utf8');
    assert.match(text, /auto_migrate = false/);
    assert.match(text, /trust_proxy = true/);
    assert.equal(text.includes(readFileSync(join(dir, 'prod', 'secrets', 'secret-key'), 'utf8').trim()), false, 'the config holds no secret');
    const host = await PlatformHost.start({ configFile: target, env: {}, level: 'config', logSink: () => undefined });
    await host.stop();
    const again = await runCli(['init', '--config', target]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already exists; not overwriting/);
    assert.ok(existsSync(target));
    // A second configuration beside the first would replace the key every API token depends on.
    const key = readFileSync(join(dir, 'prod', 'secrets', 'secret-key'), 'utf8');
    const beside = await runCli(['init', '--config', join(dir, 'prod', 'other.ini')]);
    assert.equal(beside.status, 2);
    assert.match(beside.stderr, /secrets\/secret-key already exists .*not overwriting it: write the new configuration into another directory/);
    assert.equal(existsSync(join(dir, 'prod', 'other.ini')), false, 'nothing was written');
    assert.equal(readFileSync(join(dir, 'prod', 'secrets', 'secret-key'), 'utf8'), key);
    assert.equal((await runCli(['init'])).status, 2, '--config is required');
  });

  it('the configuration init writes is ready to use: db upgrade, the first sysadmin, db status', async () => {
    const target = join(dir, 'ready', 'platform.ini');
    const init = await runCli(['init', '--config', target, '--data-dir', join(dir, 'ready', 'var')]);
    assert.deepEqual([init.status, init.stdout], [0, `${target}\n`]);
    const pending = await runCli(['--config', target, 'db', 'status']);
    assert.equal(pending.status, 1, 'auto_migrate is off in production: migrations wait for db upgrade');
    assert.match(pending.stdout, /core:0001-core-tables\s+pending/);
    assert.equal((await runCli(['--config', target, 'user', 'list'])).status, 1, 'commands refuse to run on a database with pending migrations');
    assert.equal((await runCli(['--config', target, 'db', 'upgrade'])).status, 0);
    writeFileSync(join(dir, 'ready', 'pw'), 'a-production-password\n', { mode: 0o600 });
    const added = await runCli(['--config', target, 'user', 'add', 'admin', '--email', 'admin@example.org', '--sysadmin', '--password-file', join(dir, 'ready', 'pw')]);
    assert.equal(added.status, 0, added.stderr);
    assert.equal((await runCli(['--config', target, 'db', 'status'])).status, 0);
    assert.ok(existsSync(join(dir, 'ready', 'var', 'platform.sqlite')), 'the database lives in the data directory');
  });
});
