// The plugin host: a plugin installed as an npm package (from test/fixtures/) and one of
// the repository load by name, in order; their contributions reach every registry; and a
// plugin that is broken, clashes or throws stops start-up with a message naming it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds, createTestDatabase } from '../../helpers/test-databases.js';
import { startTestHost, writeTestConfig, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { PlatformHost } from '../../../core/host/platform-host.js';
import { definePlugin, type PluginDefinition } from '../../../core/plugins/define-plugin.js';
import { Actions } from '../../../core/plugins/hooks/actions.js';
import { Commands } from '../../../core/plugins/hooks/commands.js';
import { Lifecycle } from '../../../core/plugins/hooks/lifecycle.js';
import { PluginError } from '../../../core/errors.js';
import { loadPlugins } from '../../../core/plugins/plugin-loader.js';

const action = (name: string, result: unknown) => ({ name, kind: 'read' as const, help: 'test', run: async () => result });

async function startFails(plugins: PluginDefinition[], pattern: RegExp): Promise<void> {
  const db = await createTestDatabase('sqlite');
  try {
    const configFile = writeTestConfig(db, plugins.map((p) => p.name));
    await assert.rejects(PlatformHost.start({ configFile, inlinePlugins: new Map(plugins.map((p) => [p.name, p])), env: {}, logSink: () => undefined }), (error: unknown) => {
      assert.ok(error instanceof PluginError, String(error));
      assert.match(error.message, pattern);
      return true;
    });
  } finally {
    await db.cleanup();
  }
}

for (const kind of databaseKinds()) {
  describe(`a plugin installed as an npm package (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['depot-fs', 'platform-plugin-example'], extraConfig: '[plugin:platform-plugin-example]\ngreeting = ahoy\n' });
    });
    after(async () => t.close());

    it('resolves from node_modules, registers every hook, and is listed with its version', async () => {
      const loaded = t.host.plugins.find((p) => p.definition.name === 'platform-plugin-example')!;
      assert.equal(loaded.origin, 'package');
      assert.equal(t.host.plugins.find((p) => p.definition.name === 'depot-fs')!.origin, 'repository');
      assert.deepEqual(t.host.plugins.map((p) => p.definition.name), ['depot-fs', 'platform-plugin-example']);
      const listed = await runCli(['--config', t.configFile, 'plugins', 'list']);
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, /platform-plugin-example 1\.0\.0 \(package: /);
      for (const hook of ['action example_greeting_show', 'command example greet', 'route /ext/example', 'observer', 'migrations']) assert.match(listed.stdout, new RegExp(`  ${hook}`));
    });

    it('applies its migration, serves its action, route and command, and observes events', async () => {
      const status = await runCli(['--config', t.configFile, 'db', 'status']);
      assert.match(status.stdout, /platform-plugin-example:0001-create-example-greetings\s+applied/);
      const first = await t.call('example_greeting_show', { name: 'Ada' }, { method: 'GET' });
      assert.deepEqual(first.body.result, { message: 'ahoy, Ada', times: 1 });
      const cli = await runCli(['--config', t.configFile, 'example', 'greet', 'Ada']);
      assert.equal(cli.stdout, 'ahoy, Ada (2)\n');
      const before = (await (await t.app.request('/ext/example/stats')).json()) as { datasetsSeen: number };
      const { ApiTokenServiceId, OrganizationServiceId, UserServiceId } = await import('../../../core/services/service-ids.js');
      const user = await t.host.services.get(UserServiceId).create({ name: 'sys', email: 's@example.org', sysadmin: true });
      await t.host.services.get(OrganizationServiceId).create({ name: 'lab' });
      const token = (await t.host.services.get(ApiTokenServiceId).create(user, 't')).token;
      await t.call('package_create', { name: 'observed', owner_org: 'lab' }, { token });
      await t.call('package_create', { name: 'observed', owner_org: 'lab' }, { token });
      const after = (await (await t.app.request('/ext/example/stats')).json()) as { datasetsSeen: number };
      assert.equal(after.datasetsSeen, before.datasetsSeen + 1, 'a failed create emits nothing');
    });
  });
}

describe('plugin loading and registration', () => {
  it('a repository plugin is found before an npm package of the same name', async () => {
    const [loaded] = await loadPlugins(['depot-fs'], process.cwd());
    assert.equal(loaded!.origin, 'repository');
  });

  it('an unknown plugin is named, with how to install it', async () => {
    await assert.rejects(loadPlugins(['no-such-plugin'], process.cwd()), /plugin "no-such-plugin": not found: .*npm install no-such-plugin/);
  });

  it('rejects a wrong name, a missing version, no register and an unmet core version', async () => {
    await assert.rejects(loadPlugins(['x-named'], process.cwd(), new Map([['x-named', { name: 'other', version: '1.0.0', register: () => undefined }]])), /declares the name "other"; it must match/);
    await assert.rejects(loadPlugins(['pp'], process.cwd(), new Map([['pp', { name: 'pp', version: 'one', register: () => undefined } as PluginDefinition]])), /semver version/);
    await assert.rejects(loadPlugins(['pq'], process.cwd(), new Map([['pq', { name: 'pq', version: '1.0.0' } as unknown as PluginDefinition]])), /register\(ctx\)/);
    await assert.rejects(loadPlugins(['pr'], process.cwd(), new Map([['pr', { name: 'pr', version: '1.0.0', coreVersion: '^2.0.0', register: () => undefined }]])), /needs platform core \^2\.0\.0/);
  });

  it('stops start-up when register throws, naming the plugin and the cause', async () => {
    await startFails([definePlugin({ name: 'thrower', version: '1.0.0', register: () => { throw new Error('missing licence file'); } })], /plugin "thrower": register failed: missing licence file/);
  });

  it('refuses two plugins contributing the same action or command, naming both', async () => {
    await startFails(
      [
        definePlugin({ name: 'first', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, action('shared_show', 1)) }),
        definePlugin({ name: 'second', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, action('shared_show', 2)) }),
      ],
      /plugin "second": action "shared_show" is already contributed by plugin "first"/,
    );
    await startFails(
      [definePlugin({ name: 'third', version: '1.0.0', register: (ctx) => ctx.contribute(Commands, { name: 'user add', summary: 'clash', needs: 'none', run: async () => 0 }) })],
      /plugin "third": command "user add" is already contributed by core/,
    );
  });

  it('lets a later plugin wrap an action explicitly with chain', async () => {
    const t = await startTestHost('sqlite', {
      plugins: [
        definePlugin({ name: 'base', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, action('layered_show', 'base')) }),
        definePlugin({ name: 'wrapper', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, { name: 'layered_show', kind: 'read', help: 'wrapped', chain: true, run: async (input, c, next) => `wrapped(${String(await next!(input, c))})` }) }),
      ],
    });
    try {
      assert.equal((await t.call('layered_show', {}, { method: 'GET' })).body.result, 'wrapped(base)');
      const status = (await t.call('status_show', {}, { method: 'GET' })).body.result as { extensions: string[] };
      assert.deepEqual(status.extensions, ['base', 'wrapper']);
    } finally {
      await t.close();
    }
  });

  it('runs lifecycles in plugin order and stops them in reverse, undoing registrations', async () => {
    const calls: string[] = [];
    const lifecycle = (name: string) => definePlugin({ name, version: '1.0.0', register: (ctx) => ctx.contribute(Lifecycle, { initialize: () => void calls.push(`init ${name}`), onStop: () => void calls.push(`stop ${name}`) }) });
    const t = await startTestHost('sqlite', { plugins: [lifecycle('one'), lifecycle('two')] });
    await t.close();
    assert.deepEqual(calls, ['init one', 'init two', 'stop two', 'stop one']);
    assert.deepEqual(t.host.registries.actions.names(), []);
  });
});
