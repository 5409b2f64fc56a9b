// Reading platform.ini exactly as written: a section name is taken whole (a plugin named
// `acme.thing` has the section [plugin:acme.thing]), a key set twice or a line that is no
// ini is reported with file and line together with every other problem, values keep `#`
// and `;`; values are coerced to their declared types, with defaults; and PLATFORM__
// variables override single keys, for plugin sections too, naming the variable when the
// override is wrong.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { definePlugin, type PluginDefinition } from '../../../core/plugins/define-plugin.js';
import { ConfigError } from '../../../core/errors.js';

describe('platform.ini syntax, types and overrides', () => {
  let dir: string;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'config-ini-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const dotted = definePlugin({
    name: 'acme.thing',
    version: '1.0.0',
    config: { type: 'object', additionalProperties: false, required: ['region'], properties: { level: { type: 'integer', minimum: 1, default: 1 }, region: { type: 'string' } } },
    register: () => undefined,
  });

  /** Writes a config (data_dir inside the scratch directory is added) and returns its path. */
  function write(text: string): string {
    const file = join(dir, `platform-${++n}.ini`);
    writeFileSync(file, `[platform]\ndata_dir = ./data-${n}\n${text}`);
    return file;
  }

  async function start(text: string, env: NodeJS.ProcessEnv = {}, plugins: PluginDefinition[] = []): Promise<PlatformHost> {
    const file = write(text.replace('[platform]\n', ''));
    return PlatformHost.start({ configFile: file, env, level: 'config', logSink: () => undefined, inlinePlugins: new Map(plugins.map((p) => [p.name, p])) });
  }

  async function problems(text: string, env: NodeJS.ProcessEnv = {}, plugins: PluginDefinition[] = []): Promise<string[]> {
    try {
      const host = await start(text, env, plugins);
      await host.stop();
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    assert.fail('the configuration was accepted');
  }

  it('applies defaults: the server listens on 127.0.0.1:5000 unless told otherwise', async () => {
    const host = await start('[http]\n');
    try {
      const http = host.config.section<{ host: unknown; port: unknown; trust_proxy: unknown }>('http');
      assert.deepEqual([http.host, http.port, http.trust_proxy], ['127.0.0.1', 5000, false]);
      assert.equal(host.config.section<{ auto_migrate: boolean }>('db').auto_migrate, true);
    } finally {
      await host.stop();
    }
  });

  it('coerces values to their declared types, and reports every value that does not fit at once', async () => {
    const host = await start('[http]\nport = 8081\ntrust_proxy = true\n[jobs]\nconcurrency = 4\n');
    try {
      const http = host.config.section<{ port: unknown; trust_proxy: unknown }>('http');
      assert.equal(http.port, 8081);
      assert.equal(http.trust_proxy, true);
      assert.equal(host.config.section<{ concurrency: unknown }>('jobs').concurrency, 4);
    } finally {
      await host.stop();
    }
    const found = await problems('[http]\nport = abc\ntrust_proxy = yes\nmax_body_bytes = 10\n[logging]\nlevel = loud\n[jobs]\nworker = sometimes\n');
    assert.deepEqual(found.map((p) => p.replace(/^.*\.ini: /, '')).sort(), [
      '[http] max_body_bytes: must be >= 1024',
      '[http] port: must be integer',
      '[http] trust_proxy: must be boolean',
      '[jobs] worker: must be one of internal, external',
      '[logging] level: must be one of debug, info, warn, error, silent',
    ]);
    assert.ok(found.every((p) => p.startsWith(join(dir, `platform-${n}.ini`))), 'each problem names the file');
    assert.deepEqual((await problems('[http]\nport = 70000\n')).map((p) => p.replace(/^.*\.ini: /, '')), ['[http] port: must be <= 65535']);
  });

  it('takes a dotted plugin name\'s section whole, with required keys and overrides', async () => {
    const host = await start('[platform]\nplugins = acme.thing\n[plugin:acme.thing]\nlevel = 3\nregion = north\n', {}, [dotted]);
    try {
      assert.deepEqual(host.config.section('plugin:acme.thing'), { level: 3, region: 'north' });
    } finally {
      await host.stop();
    }
    const overridden = await start('[platform]\nplugins = acme.thing\n[plugin:acme.thing]\nregion = north\n', { PLATFORM__PLUGIN_ACME_THING__LEVEL: '7' }, [dotted]);
    try {
      assert.equal(overridden.config.section<{ level: number }>('plugin:acme.thing').level, 7);
    } finally {
      await overridden.stop();
    }
    const missing = await problems('[platform]\nplugins = acme.thing\n', {}, [dotted]);
    assert.deepEqual(missing.map((p) => p.replace(/^.*\.ini: /, '')), ['[plugin:acme.thing] region: is required']);
  });

  it('reports a key set twice and a line that is no ini with file and line, together with the other problems', async () => {
    const file = write('[http]\nport = 5000\nhost 127.0.0.1\n[auth]\nlockout_minutes = 5\nlockout_minutes = 10\n[logging]\nlevle = info\n');
    await assert.rejects(PlatformHost.start({ configFile: file, env: {}, level: 'config', logSink: () => undefined }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        `${file}:5: "host 127.0.0.1" is neither [section], key = value nor a comment`,
        `${file}:8: [auth] lockout_minutes: set again (first set on line 7); keep one`,
        `${file}: [logging] levle: unknown key; did you mean "level"?`,
      ]);
      assert.match(error.message, /^configuration is invalid \(3 problems\):/);
      return true;
    });
  });

  it('keeps # and ; inside values, drops a ; comment after whitespace (as docs/ examples write them), skips comment lines, unquotes a quoted value, and refuses keys before any section', async () => {
    const host = await start('  ; an indented comment\n# another\n[platform]\nsite_title = Lab #1; west wing   ; the name on every page\nsite_url = "https://data.example.org/a b" ; public\n');
    try {
      assert.equal(host.config.string('platform', 'site_title'), 'Lab #1; west wing');
      assert.equal(host.config.string('platform', 'site_url'), 'https://data.example.org/a b');
    } finally {
      await host.stop();
    }
    const file = join(dir, 'orphan.ini');
    writeFileSync(file, `orphan = 1\n[platform]\ndata_dir = ${join(dir, 'orphan-data')}\n`);
    await assert.rejects(PlatformHost.start({ configFile: file, env: {}, level: 'config', logSink: () => undefined }), /keys before the first \[section\]: orphan/);
  });

  it('PLATFORM__SECTION__KEY overrides one key; a wrong override names its variable, not the file', async () => {
    const host = await start('[http]\nport = 5000\n', { PLATFORM__HTTP__PORT: '8081', PLATFORM__HTTP__HOST: '0.0.0.0', PLATFORM_INI: 'ignored.ini', OTHER: 'x' });
    try {
      assert.deepEqual([host.config.section<{ host: string }>('http').host, host.config.section<{ port: number }>('http').port], ['0.0.0.0', 8081]);
    } finally {
      await host.stop();
    }
    const found = await problems('[http]\nport = 5000\n', { PLATFORM__HTTP__PROT: '1', PLATFORM__HTTP__PORT: 'abc', PLATFORM__HTTP: '1', PLATFORM__LOGING__LEVEL: 'info' });
    assert.deepEqual(found.sort(), [
      'environment PLATFORM__HTTP: expected PLATFORM__SECTION__KEY',
      'environment PLATFORM__HTTP__PORT: [http] port: must be integer',
      'environment PLATFORM__HTTP__PROT: [http] prot: unknown key; did you mean "port"?',
      'environment PLATFORM__LOGING__LEVEL: no section matches "LOGING"; did you mean "LOGGING"?',
    ]);
  });

  it('a plugin may declare a secret file of its own: created with mode 0600, its content never in the configuration', async () => {
    const signer = definePlugin({
      name: 'signer',
      version: '1.0.0',
      config: { type: 'object', additionalProperties: false, properties: { key_file: { type: 'string', default: './signer-data/secrets/signing-key', 'x-path': true, 'x-secret-file': true, 'x-generate': true } } },
      register: () => undefined,
    });
    const host = await start('[platform]\nplugins = signer\n', {}, [signer]);
    try {
      const path = host.config.path('plugin:signer', 'key_file')!;
      assert.equal(path, join(dir, 'signer-data', 'secrets', 'signing-key'));
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.ok(readFileSync(path, 'utf8').trim().length >= 43);
      assert.deepEqual(host.config.secretFiles().map((s) => `${s.section} ${s.key}`).sort(), ['platform secret_key_file', 'plugin:signer key_file']);
    } finally {
      await host.stop();
    }
  });
});
