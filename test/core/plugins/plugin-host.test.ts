// The example plugin package (test/fixtures/platform-plugin-example, installed as a
// devDependency) enabled by name beside a repository plugin: it resolves from node_modules,
// `platform plugins list` shows its version and every hook it contributes, its config
// section and migration apply, and its action, command, route and observer work. And a
// later plugin may wrap an earlier one's action explicitly with chain.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { runCli } from '../../helpers/run-cli.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { Actions } from '../../../core/plugins/hooks/actions.js';
import { ApiTokenServiceId, OrganizationServiceId, UserServiceId } from '../../../core/services/service-ids.js';

const action = (name: string, result: unknown) => ({ name, kind: 'read' as const, help: 'test', run: async () => result });

/** What the example contributes, as `platform plugins list` names it. */
const EXAMPLE_HOOKS = ['action example_greeting_show', 'command example greet', 'job-handler example.greet-later', 'migrations', 'observer', 'route /ext/example'];

for (const kind of databaseKinds()) {
  describe(`a plugin installed as an npm package (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['depot-fs', 'platform-plugin-example'], extraConfig: '[plugin:platform-plugin-example]\ngreeting = ahoy\n' });
    });
    after(async () => t.close());

    it('resolves from node_modules by name, after the repository plugin before it, and plugins list shows its version and hooks', async () => {
      assert.deepEqual(t.host.plugins.map((p) => [p.definition.name, p.origin]), [['depot-fs', 'repository'], ['platform-plugin-example', 'package']]);
      const listed = await runCli(['--config', t.configFile, 'plugins', 'list']);
      assert.equal(listed.status, 0, listed.stderr);
      const blocks = listed.stdout.split(/\n(?=\S)/);
      assert.match(blocks[0]!, /^depot-fs \d+\.\d+\.\d+ \(repository: plugins\/depot-fs\)/);
      const example = blocks[1]!.split('\n').filter(Boolean);
      assert.match(example[0]!, /^platform-plugin-example 1\.0\.0 \(package: .*platform-plugin-example[/\\]index\.js\) - Greets people and counts new datasets$/);
      assert.deepEqual(example.slice(1).map((line) => line.trim()).sort(), EXAMPLE_HOOKS);
      const json = await runCli(['--config', t.configFile, 'plugins', 'list', '--json']);
      const parsed = JSON.parse(json.stdout) as Array<{ name: string; version: string; origin: string; contributes: string[] }>;
      assert.deepEqual(parsed.map((p) => [p.name, p.origin]), [['depot-fs', 'repository'], ['platform-plugin-example', 'package']]);
      assert.deepEqual([...parsed[1]!.contributes].sort(), EXAMPLE_HOOKS);
      const status = (await t.call('status_show', {}, { method: 'GET' })).body.result as { extensions: string[] };
      assert.deepEqual(status.extensions, ['depot-fs', 'platform-plugin-example']);
    });

    it('applies its migration and its config; its action, command and route use its table', async () => {
      const status = await runCli(['--config', t.configFile, 'db', 'status']);
      assert.equal(status.status, 0);
      assert.match(status.stdout, /^platform-plugin-example:0001-create-example-greetings\s+applied$/m);
      assert.deepEqual((await t.call('example_greeting_show', { name: 'Ada' }, { method: 'GET' })).body.result, { message: 'ahoy, Ada', times: 1 });
      assert.deepEqual((await t.call('example_greeting_show', { name: 'Ada' })).body.result, { message: 'ahoy, Ada', times: 2 });
      assert.deepEqual(await runCli(['--config', t.configFile, 'example', 'greet', 'Ada']), { status: 0, stdout: 'ahoy, Ada (3)\n', stderr: '' });
      const bad = await t.call('example_greeting_show', { name: 'Ada', shout: true });
      assert.equal(bad.status, 400, 'its input schema is checked');
      const stats = await t.app.request('/ext/example/stats');
      assert.equal(stats.status, 200);
      assert.equal(((await stats.json()) as { greeting: string }).greeting, 'ahoy');
    });

    it('its observer counts only datasets whose creation committed', async () => {
      const seen = async () => ((await (await t.app.request('/ext/example/stats')).json()) as { datasetsSeen: number }).datasetsSeen;
      const before = await seen();
      const user = await t.host.services.get(UserServiceId).create({ name: 'sys', email: 's@example.org', sysadmin: true });
      await t.host.services.get(OrganizationServiceId).create({ name: 'lab' });
      const token = (await t.host.services.get(ApiTokenServiceId).create(user, 't')).token;
      assert.equal((await t.call('package_create', { name: 'observed', owner_org: 'lab' }, { token })).status, 200);
      assert.equal((await t.call('package_create', { name: 'observed', owner_org: 'lab' }, { token })).status, 409);
      assert.equal(await seen(), before + 1, 'the failed create emitted nothing');
    });
  });
}

describe('plugins chaining an action', () => {
  it('lets a later plugin wrap an earlier plugin\'s action explicitly with chain, in plugin order', async () => {
    const t = await startTestHost('sqlite', {
      plugins: [
        definePlugin({ name: 'base', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, action('layered_show', 'base')) }),
        definePlugin({ name: 'wrapper', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, { name: 'layered_show', kind: 'read', help: 'wrapped', chain: true, run: async (input, c, next) => `wrapped(${String(await next!(input, c))})` }) }),
        definePlugin({ name: 'outer', version: '1.0.0', register: (ctx) => ctx.contribute(Actions, { name: 'layered_show', kind: 'read', help: 'outer', chain: true, run: async (input, c, next) => `outer(${String(await next!(input, c))})` }) }),
      ],
    });
    try {
      assert.equal((await t.call('layered_show', {}, { method: 'GET' })).body.result, 'outer(wrapped(base))');
      const status = (await t.call('status_show', {}, { method: 'GET' })).body.result as { extensions: string[] };
      assert.deepEqual(status.extensions, ['base', 'wrapper', 'outer']);
      assert.deepEqual([t.host.registries.contributionsOf('outer'), t.host.registries.contributionsOf('wrapper')], [['action layered_show'], []], 'the registry names the outermost wrapper');
    } finally {
      await t.close();
    }
  });
});
