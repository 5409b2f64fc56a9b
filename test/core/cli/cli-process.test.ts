// `platform` as a real process, as an operator and a script meet it: on a fresh directory
// `serve` (what `npm start` runs) creates the SQLite database and the secret (mode 0600,
// never printed), applies migrations, prints its URL and the command that creates the first
// sysadmin, answers HTTP and stops cleanly on SIGTERM; `KEY=$(platform token create ...)`
// captures the token alone even while logs are written; a plugin that throws while
// registering stops the process with exit 1, naming it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { databaseKinds, createTestDatabase, type TestDatabase } from '../../helpers/test-databases.js';
import { writeTestConfig } from '../../helpers/test-host.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = join(root, 'bin', 'platform.js');

/** The environment of a child: this one without PLATFORM__ overrides, plus `extra`. */
function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PLATFORM__') && key !== 'PLATFORM_INI'));
  return { ...env, ...extra };
}

/** Runs `node bin/platform.js ...args` to completion. */
function platform(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? root, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('platform serve on a fresh directory (what npm start runs)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'platform-fresh-'));
    // The repository's development configuration, as a fresh checkout has it.
    copyFileSync(join(root, 'platform.ini'), join(dir, 'platform.ini'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates database and secret, prints its URL and the first-sysadmin command, serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, '--config', join(dir, 'platform.ini'), 'serve'], { cwd: dir, env: childEnv({ PLATFORM__HTTP__PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /platform listening on (http:\/\/127\.0\.0\.1:\d+)\n[\s\S]*--sysadmin\n/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        void exited.then((status) => reject(new Error(`serve exited with ${status} before listening:\n${stdout}\n${stderr}`)));
      });
      assert.match(stdout, /^platform listening on http:\/\/127\.0\.0\.1:\d+\nno sysadmin yet; create the first one with:\n {2}\S.* user add admin --email admin@example\.org --sysadmin\n$/);
      const response = await fetch(`${url}/api/3/action/status_show`);
      assert.equal(response.status, 200);
      const body = (await response.json()) as { result: { extensions: string[] } };
      // The development configuration enables every plugin of the repository that runs on the
      // embedded default; depot-s3 needs an S3 server's endpoint and keys (docs/depot-s3.md).
      const needServers = ['depot-s3'];
      const repositoryPlugins = readdirSync(join(root, 'plugins'), { withFileTypes: true }).filter((e) => e.isDirectory() && !needServers.includes(e.name)).map((e) => e.name);
      assert.deepEqual([...body.result.extensions].sort(), repositoryPlugins.sort());
      assert.deepEqual(body.result.extensions.slice(0, 2), ['depot-fs', 'upload-tus']);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(existsSync(join(dir, 'data', 'platform.sqlite')), 'SQLite at ./data/platform.sqlite');
    const secretFile = join(dir, 'data', 'secrets', 'secret-key');
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'data', 'secrets')).mode & 0o777, 0o700);
    const secret = readFileSync(secretFile, 'utf8').trim();
    assert.equal(`${stdout}${stderr}`.includes(secret), false, 'the secret is never printed');
    assert.equal(readFileSync(join(dir, 'platform.ini'), 'utf8').includes(secret), false);
    const status = await platform(['--config', join(dir, 'platform.ini'), 'db', 'status'], { cwd: dir });
    assert.equal(status.status, 0, 'migrations were applied');
    assert.doesNotMatch(status.stdout, /pending/);
  });
});

for (const kind of databaseKinds()) {
  describe(`scripts capture exactly what they need (${kind})`, () => {
    let db: TestDatabase;
    let configFile: string;
    before(async () => {
      db = await createTestDatabase(kind);
      configFile = writeTestConfig(db);
      writeFileSync(join(db.dir, 'password'), 'a-strong-password\n', { mode: 0o600 });
    });
    after(async () => db.cleanup());

    it('KEY=$(platform token create ...) gets the token alone, though the same run logs its migrations', async () => {
      // Logs at info: the first run applies migrations and says so, on stderr.
      const env = { PLATFORM__LOGGING__LEVEL: 'info' };
      const added = await platform(['--config', configFile, 'user', 'add', 'robot', '--email', 'robot@example.org', '--password-file', join(db.dir, 'password')], { env });
      assert.equal(added.status, 0, added.stderr);
      assert.match(added.stderr, /applied migration/);
      assert.match(added.stdout, /^[0-9a-f-]{36}\n$/);
      const created = await platform(['--config', configFile, 'token', 'create', '--user', 'robot', '--name', 'ci', '--expires-days', '7'], { env });
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /^\S{20,}\n$/, 'one line: the token');
      const token = created.stdout.trim();
      assert.match(created.stderr, /it is shown only now/);
      assert.equal(created.stderr.includes(token), false, 'the token is not repeated on stderr');
      const listed = await platform(['--config', configFile, 'token', 'list', '--user', 'robot', '--json']);
      assert.equal(`${listed.stdout}${listed.stderr}`.includes(token), false, 'token list never shows the secret');
      const host = await PlatformHost.start({ configFile, env: {}, logSink: () => undefined });
      try {
        const response = await host.app().request('/api/3/action/user_show?id=robot', { headers: { authorization: token } });
        assert.equal(response.status, 200, 'the token works against the API');
      } finally {
        await host.stop();
      }
    });
  });
}

describe('a plugin package that throws while registering', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'platform-throwing-'));
    const pkg = join(dir, 'node_modules', 'platform-plugin-faulty');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'platform-plugin-faulty', version: '0.0.1', type: 'module', exports: { '.': { import: './index.js' } } }));
    writeFileSync(join(pkg, 'index.js'), "export default { name: 'platform-plugin-faulty', version: '0.0.1', register() { throw new Error('[plugin:platform-plugin-faulty] needs a licence file'); } };\n");
    writeFileSync(join(dir, 'platform.ini'), '[platform]\nplugins = platform-plugin-faulty\ndata_dir = ./data\n[db]\nurl = sqlite:./data/platform.sqlite\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stops every command with exit 1, naming the plugin and the cause', async () => {
    for (const args of [['plugins', 'list'], ['user', 'list'], ['serve']]) {
      const run = await platform(['--config', join(dir, 'platform.ini'), ...args], { cwd: dir, env: { PLATFORM__HTTP__PORT: '0' } });
      assert.equal(run.status, 1, args.join(' '));
      // Structured log lines (a first run creates the secret key) may precede it; the message
      // meant for the person at the terminal is the one plain line, with no stack trace.
      const plain = run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
      assert.deepEqual(plain, ['error: plugin "platform-plugin-faulty": register failed: [plugin:platform-plugin-faulty] needs a licence file']);
      assert.equal(run.stdout, '');
    }
  });
});
