// Finding and checking plugins: a name resolves to plugins/<name> of the repository first,
// then to an npm package installed beside platform.ini, then to one installed with the
// platform; packages are found the way `import` finds them (ES-module `exports`, scoped
// names). A broken plugin (bad definition, a throw while importing or registering, a
// contribution nothing would collect) stops start-up with a message naming it and the cause,
// and leaves no database connection behind.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { loadPlugins } from '../../../core/plugins/plugin-loader.js';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { definePlugin, type PluginDefinition } from '../../../core/plugins/define-plugin.js';
import { Actions, type ActionDefinition } from '../../../core/plugins/hooks/actions.js';
import { Commands } from '../../../core/plugins/hooks/commands.js';
import { Routes } from '../../../core/plugins/hooks/routes.js';
import type { HookId } from '../../../core/plugins/hook-id.js';
import { PluginError } from '../../../core/errors.js';
import { databaseKinds, createTestDatabase } from '../../helpers/test-databases.js';
import { writeTestConfig } from '../../helpers/test-host.js';

const readAction = (name: string, result: unknown): ActionDefinition => ({ name, kind: 'read', help: 'test', run: async () => result });

/** Writes an installed package `node_modules/<name>` under `dir`: package.json fields and files. */
function installPackage(dir: string, name: string, manifest: Record<string, unknown> | undefined, files: Record<string, string>): string {
  const root = join(dir, 'node_modules', name);
  mkdirSync(root, { recursive: true });
  if (manifest) writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', ...manifest }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

/** The source of a package plugin's entry module. */
const pluginSource = (name: string, version = '1.0.0', extra = ''): string => `export default { name: ${JSON.stringify(name)}, version: ${JSON.stringify(version)}, register() {} ${extra} };\n`;

describe('plugin resolution', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'plugin-resolution-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds a package installed with the platform (the example, by its name) as a package plugin', async () => {
    const [loaded] = await loadPlugins(['platform-plugin-example'], join(dir, 'nothing-installed-here'));
    assert.equal(loaded!.origin, 'package');
    assert.equal(loaded!.definition.version, '1.0.0');
    assert.equal(realpathSync(loaded!.location), realpathSync(new URL('../../../../test/fixtures/platform-plugin-example/index.js', import.meta.url)));
  });

  it('prefers a package installed beside platform.ini, also from a parent directory', async () => {
    const site = join(dir, 'site');
    installPackage(site, 'platform-plugin-example', { main: 'main.js' }, { 'main.js': pluginSource('platform-plugin-example', '2.0.0') });
    for (const baseDir of [site, join(site, 'etc', 'platform')]) {
      const [loaded] = await loadPlugins(['platform-plugin-example'], baseDir);
      assert.equal(loaded!.definition.version, '2.0.0', baseDir);
      assert.equal(loaded!.location, join(site, 'node_modules', 'platform-plugin-example', 'main.js'));
    }
  });

  it('a repository plugin wins over a package of the same name', async () => {
    const site = join(dir, 'shadow');
    installPackage(site, 'depot-fs', { main: 'index.js' }, { 'index.js': pluginSource('depot-fs', '9.9.9') });
    const [loaded] = await loadPlugins(['depot-fs'], site);
    assert.equal(loaded!.origin, 'repository');
    assert.equal(loaded!.location, 'plugins/depot-fs');
    assert.notEqual(loaded!.definition.version, '9.9.9');
  });

  it('follows ES-module exports (an "import"-only condition, nested conditions) as import does', async () => {
    const site = join(dir, 'esm');
    installPackage(site, 'import-only', { exports: { '.': { import: './lib/plugin.js' } } }, { 'lib/plugin.js': pluginSource('import-only') });
    installPackage(site, 'nested-conditions', { exports: { '.': { types: './x.d.ts', node: { import: './node.js' }, default: './other.js' } } }, { 'node.js': pluginSource('nested-conditions', '3.0.0') });
    installPackage(site, 'string-exports', { exports: './entry.js' }, { 'entry.js': pluginSource('string-exports') });
    installPackage(site, 'no-manifest', undefined, { 'index.js': pluginSource('no-manifest') });
    const loaded = await loadPlugins(['import-only', 'nested-conditions', 'string-exports', 'no-manifest'], site);
    assert.deepEqual(loaded.map((p) => [p.definition.name, p.origin]), [['import-only', 'package'], ['nested-conditions', 'package'], ['string-exports', 'package'], ['no-manifest', 'package']]);
    assert.equal(loaded[1]!.definition.version, '3.0.0');
    assert.equal(loaded[0]!.location, join(site, 'node_modules', 'import-only', 'lib', 'plugin.js'));
  });

  it('loads a scoped package, and its [plugin:@scope/name] section can be configured and overridden', async () => {
    const site = join(dir, 'scoped');
    installPackage(site, '@acme/platform-colours', { main: 'index.js' }, {
      'index.js': pluginSource('@acme/platform-colours', '1.2.0', `, config: { type: 'object', additionalProperties: false, properties: { colour: { type: 'string', default: 'red' }, shades: { type: 'integer', default: 1 } } }`),
    });
    const configFile = join(site, 'platform.ini');
    writeFileSync(configFile, `[platform]\nplugins = @acme/platform-colours\ndata_dir = ./data\n[plugin:@acme/platform-colours]\nshades = 3\n`);
    const host = await PlatformHost.start({ configFile, env: { PLATFORM__PLUGIN_ACME_PLATFORM_COLOURS__COLOUR: 'teal' }, level: 'config', logSink: () => undefined });
    try {
      assert.equal(host.plugins[0]!.origin, 'package');
      assert.deepEqual(host.config.section('plugin:@acme/platform-colours'), { colour: 'teal', shades: 3 });
    } finally {
      await host.stop();
    }
  });

  it('says what is wrong with a package that cannot be loaded, naming it', async () => {
    const site = join(dir, 'broken');
    installPackage(site, 'throws-on-import', { main: 'index.js' }, { 'index.js': "throw new Error('libfoo.so.1 is missing');\n" });
    installPackage(site, 'named-export-only', { main: 'index.js' }, { 'index.js': "export const plugin = { name: 'named-export-only' };\n" });
    installPackage(site, 'missing-entry', { main: 'dist/index.js' }, {});
    installPackage(site, 'require-only', { exports: { '.': { require: './index.cjs' } } }, { 'index.cjs': 'module.exports = {};\n' });
    const cases: Array<[string, RegExp]> = [
      ['throws-on-import', /^plugin "throws-on-import": failed to load: libfoo\.so\.1 is missing$/],
      ['named-export-only', /^plugin "named-export-only": has no default export; export default definePlugin/],
      ['missing-entry', /^plugin "missing-entry": package .*missing-entry names dist\/index\.js as its entry, but there is no such file$/],
      ['require-only', /^plugin "require-only": package .*require-only exports no "\." entry for import/],
      ['not-installed', /^plugin "not-installed": not found: there is no plugins\/not-installed and no installed npm package "not-installed" \(install it with npm install not-installed\)$/],
      ['../plugins/depot-fs', /is not a valid plugin name/],
      ['Depot-FS', /is not a valid plugin name/],
    ];
    for (const [name, pattern] of cases) {
      await assert.rejects(loadPlugins([name], site), (error: unknown) => {
        assert.ok(error instanceof PluginError, `${name}: ${String(error)}`);
        assert.equal(error.plugin, name);
        assert.match(error.message, pattern);
        return true;
      });
    }
  });

  it('refuses a plugin enabled twice', async () => {
    await assert.rejects(loadPlugins(['depot-fs', 'depot-fs'], dir), /plugin "depot-fs": is enabled twice in \[platform\] plugins/);
  });
});

describe('plugin definitions', () => {
  const inline = (definition: PluginDefinition, name = definition.name) => loadPlugins([name], process.cwd(), new Map([[name, definition]]));

  it('rejects a wrong name, a version that is not semver and a missing register, saying what to do', async () => {
    await assert.rejects(inline({ name: 'other', version: '1.0.0', register: () => undefined }, 'enabled-as'), /plugin "enabled-as": declares the name "other"; it must match the name it is enabled by/);
    await assert.rejects(inline({ name: 'pp', version: 'one', register: () => undefined }), /plugin "pp": must declare a semver version, e.g. version: "1.0.0"/);
    await assert.rejects(inline({ name: 'pq', version: '1.0.0' } as unknown as PluginDefinition), /plugin "pq": must have a register\(ctx\) function/);
  });

  it('checks coreVersion against this core', async () => {
    await assert.rejects(inline({ name: 'future', version: '1.0.0', coreVersion: '^0.2.0', register: () => undefined }), /plugin "future": needs platform core \^0\.2\.0, but this is 0\.1\.0/);
    await assert.rejects(inline({ name: 'major', version: '1.0.0', coreVersion: '>=1.0.0', register: () => undefined }), /needs platform core >=1\.0\.0/);
    for (const range of ['^0.1.0', '~0.1.0', '>=0.1.0 <1.0.0', '^1.0.0 || ^0.1.0', '*', '0.1.0']) {
      const [loaded] = await inline({ name: 'fits', version: '1.0.0', coreVersion: range, register: () => undefined });
      assert.equal(loaded!.definition.coreVersion, range);
    }
  });

  it('rejects a config that is no valid object schema, or keys that PLATFORM__ variables cannot reach', async () => {
    await assert.rejects(inline({ name: 'flat', version: '1.0.0', config: { type: 'string' } as never, register: () => undefined }), /plugin "flat": config must be a JSON schema of type "object" with properties/);
    await assert.rejects(
      inline({ name: 'typo', version: '1.0.0', config: { type: 'object', properties: { level: { type: 'strnig' } as never } }, register: () => undefined }),
      /plugin "typo": its config schema is not a valid JSON schema: .*properties\/level\/type/,
    );
    await assert.rejects(
      inline({ name: 'camel', version: '1.0.0', config: { type: 'object', properties: { apiUrl: { type: 'string' }, 'max-size': { type: 'integer' }, ok_key: { type: 'string' } } }, register: () => undefined }),
      /plugin "camel": config keys "apiUrl", "max-size" must be lowercase letters, digits and _ \(e\.g\. "api_url"\)/,
    );
  });
});

for (const kind of databaseKinds()) {
  describe(`start-up with a broken plugin (${kind})`, () => {
    /** Starts a host that must fail with a PluginError naming `plugin`; returns the message. */
    async function startFails(plugins: PluginDefinition[], plugin: string): Promise<string> {
      const db = await createTestDatabase(kind);
      try {
        const configFile = writeTestConfig(db, plugins.map((p) => p.name));
        let message = '';
        await assert.rejects(PlatformHost.start({ configFile, inlinePlugins: new Map(plugins.map((p) => [p.name, p])), env: {}, logSink: () => undefined }), (error: unknown) => {
          assert.ok(error instanceof PluginError, String(error));
          assert.equal(error.plugin, plugin);
          message = error.message;
          return true;
        });
        if (kind === 'postgres') assert.equal(await connectionsTo(db.url), 0, 'a failed start-up closes its database connections');
        return message;
      } finally {
        await db.cleanup();
      }
    }

    it('a register that throws, or rejects, stops start-up naming the plugin and the cause', async () => {
      assert.equal(await startFails([definePlugin({ name: 'thrower', version: '1.0.0', register: () => { throw new Error('licence file /etc/x missing'); } })], 'thrower'), 'plugin "thrower": register failed: licence file /etc/x missing');
      assert.equal(await startFails([definePlugin({ name: 'rejecter', version: '1.0.0', register: async () => Promise.reject(new Error('cannot reach the registry')) })], 'rejecter'), 'plugin "rejecter": register failed: cannot reach the registry');
    });

    it('two plugins contributing one name: the error names both (actions, commands, routes, core)', async () => {
      const both = (hook: HookId<unknown>, value: object) => [
        definePlugin({ name: 'first', version: '1.0.0', register: (ctx) => ctx.contribute(hook, value) }),
        definePlugin({ name: 'second', version: '1.0.0', register: (ctx) => ctx.contribute(hook, value) }),
      ];
      assert.equal(await startFails(both(Actions, readAction('shared_show', 1)), 'second'), 'plugin "second": action "shared_show" is already contributed by plugin "first"');
      assert.equal(await startFails(both(Commands, { name: 'shared go', summary: 's', needs: 'none', run: async () => 0 }), 'second'), 'plugin "second": command "shared go" is already contributed by plugin "first"');
      assert.equal(await startFails(both(Routes, { path: '/ext/shared', mount: () => undefined }), 'second'), 'plugin "second": route "/ext/shared" is already contributed by plugin "first"');
      assert.equal(
        await startFails([definePlugin({ name: 'third', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, readAction('package_show', 'mine')) })], 'third'),
        'plugin "third": action "package_show" is already contributed by core',
      );
    });

    it('a chain that wraps nothing, or changes the kind of what it wraps, is refused', async () => {
      assert.match(
        await startFails([definePlugin({ name: 'lonely', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, { ...readAction('nothing_show', 1), chain: true }) })], 'lonely'),
        /plugin "lonely": action "nothing_show" sets chain but no earlier action of that name exists/,
      );
      assert.match(
        await startFails([definePlugin({ name: 'sneaky', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, { ...readAction('package_create', 1), chain: true }) })], 'sneaky'),
        /plugin "sneaky": action "package_create" is a write action \(from core\); a wrapper with chain must declare kind: 'write' too/,
      );
    });

    it('a contribution nothing would collect is refused: an unknown hook, a non-object, a missing name', async () => {
      const typo = Symbol.for('platform.hook.Action') as HookId<unknown>;
      assert.match(
        await startFails([definePlugin({ name: 'typist', version: '1.0.0', register: (ctx) => ctx.contribute(typo, readAction('x_show', 1)) })], 'typist'),
        /^plugin "typist": contributes to Symbol\(platform\.hook\.Action\), which is not a hook; did you mean "Actions"\?; hooks are Symbol\.for\('platform\.hook\.<Name>'\) with <Name> one of Depot, UploadProtocol, .*DatasetSections$/,
      );
      assert.match(
        await startFails([definePlugin({ name: 'nullish', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, null as unknown as ActionDefinition) })], 'nullish'),
        /plugin "nullish": contributes null to Actions; a contribution is an object/,
      );
      assert.match(
        await startFails([definePlugin({ name: 'nameless', version: '1.0.0', register: (ctx) => ctx.contribute(Commands, { summary: 'no name', needs: 'none', run: async () => 0 } as never) })], 'nameless'),
        /plugin "nameless": contributes a command without a name \(got undefined\); every command needs one/,
      );
    });
  });
}

/** Open connections to the database of a PostgreSQL URL, once they have gone (or after ~2 s). */
async function connectionsTo(url: string): Promise<number> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: process.env.PLATFORM_TEST_PG_URL });
  await admin.connect();
  try {
    let count = 0;
    // A closed client's server process ends a moment after the client; wait for that, not for a clock.
    for (let attempt = 0; attempt < 100; attempt++) {
      const result = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      count = Number(result.rows[0]!.n);
      if (count === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return count;
  } finally {
    await admin.end();
  }
}
