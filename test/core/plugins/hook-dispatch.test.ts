// How hooks are dispatched (DESIGN.md): observers run after commit in plugin order, and one
// observer's failure is logged with its plugin's name without stopping the others; a
// failed or vetoed action emits nothing; a Schema veto rolls the whole action back (every
// row and audit event it wrote); normalisers and policies run in plugin order; a chained
// action wraps the earlier one inside the same transaction and keeps its input checks;
// plugin migrations apply after core's, in plugin order; registrations are undone at stop.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QueryTypes } from 'sequelize';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, tableCounts, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { runCli } from '../../helpers/run-cli.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { Actions } from '../../../core/plugins/hooks/actions.js';
import { Schema } from '../../../core/plugins/hooks/schema.js';
import { AuthPolicy } from '../../../core/plugins/hooks/auth-policy.js';
import { EventObserver, Lifecycle, type PlatformEventName } from '../../../core/plugins/hooks/lifecycle.js';
import { Migrations } from '../../../core/plugins/hooks/migrations.js';
import { Commands } from '../../../core/plugins/hooks/commands.js';
import { Routes } from '../../../core/plugins/hooks/routes.js';
import { VetoError, type FieldErrors } from '../../../core/errors.js';
import { ActionRunnerId, AuditLogId, DatabaseId, DatasetServiceId } from '../../../core/services/service-ids.js';

/** What the observers saw, in the order they saw it. */
interface Seen {
  plugin: string;
  event: PlatformEventName;
  name: string;
  /** Whether the dataset was visible outside the writing transaction when the observer ran. */
  committed: boolean;
}

for (const kind of databaseKinds()) {
  describe(`hook dispatch (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    const seen: Seen[] = [];

    /** An observer plugin that records dataset events and whether the row was committed. */
    const recorder = (name: string) =>
      definePlugin({
        name,
        version: '1.0.0',
        register(ctx) {
          const visible = async (id: string): Promise<boolean> => {
            const rows = await ctx.services.get(DatabaseId).sequelize.query('SELECT id FROM datasets WHERE id = :id', { replacements: { id }, type: QueryTypes.SELECT });
            return rows.length === 1;
          };
          ctx.contribute(EventObserver, {
            on: {
              'dataset.created': async ({ dataset }) => void seen.push({ plugin: name, event: 'dataset.created', name: dataset.name, committed: await visible(dataset.id) }),
              'dataset.updated': async ({ dataset }) => void seen.push({ plugin: name, event: 'dataset.updated', name: dataset.name, committed: await visible(dataset.id) }),
            },
          });
        },
      });

    before(async () => {
      t = await startTestHost(kind, {
        plugins: [
          recorder('recorder-a'),
          definePlugin({
            name: 'faulty',
            version: '1.0.0',
            register: (ctx) => ctx.contribute(EventObserver, { on: { 'dataset.created': () => { throw new Error('search index is down'); } } }),
          }),
          recorder('recorder-b'),
          definePlugin({
            name: 'gatekeeper',
            version: '1.0.0',
            register(ctx) {
              ctx.contribute(Schema, {
                name: 'gatekeeper',
                normalizeDataset: (d) => ({ ...d, title: d.title.toUpperCase() }),
                validateDataset: ({ dataset }): FieldErrors => (dataset.title.includes('FORBIDDEN') ? { title: ['forbidden titles are vetoed'] } : {}),
              });
              ctx.contribute(AuthPolicy, { name: 'first-policy', check: (r) => (r.input.notes === 'deny' ? 'first says no' : undefined) });
            },
          }),
          definePlugin({
            name: 'embargo',
            version: '1.0.0',
            register(ctx) {
              ctx.contribute(Schema, {
                name: 'embargo',
                // Runs after gatekeeper's normaliser: the suffix stays as written.
                normalizeDataset: (d) => ({ ...d, title: `${d.title} (checked)` }),
                validateDataset: ({ dataset }) => {
                  if (dataset.notes === 'embargo') throw new VetoError('dataset is under embargo', { notes: ['embargoed until 2030'] });
                  return {};
                },
              });
              ctx.contribute(AuthPolicy, { name: 'second-policy', check: (r) => (r.input.notes === 'deny' ? 'second says no' : undefined) });
              // A write action that creates two datasets in one transaction.
              ctx.contribute(Actions, {
                name: 'twin_create',
                kind: 'write',
                help: 'Creates two datasets at once.',
                run: async (input, actionCtx) => {
                  const datasets = actionCtx.services.get(DatasetServiceId);
                  const first = await datasets.create({ name: `${String(input.name)}-1`, owner_org: 'lab', title: 'first' }, actionCtx);
                  const second = await datasets.create({ name: `${String(input.name)}-2`, owner_org: 'lab', title: String(input.second_title) }, actionCtx);
                  return [first.name, second.name];
                },
              });
            },
          }),
          definePlugin({
            name: 'stamper',
            version: '1.0.0',
            register(ctx) {
              // Wraps core's package_create: runs it, then may fail, in the same transaction.
              ctx.contribute(Actions, {
                name: 'package_create',
                kind: 'write',
                help: 'package_create, stamped.',
                chain: true,
                run: async (input, actionCtx, next) => {
                  assert.ok(actionCtx.transaction, 'a wrapper of a write action runs inside its transaction');
                  const result = (await next!(input, actionCtx)) as Record<string, unknown>;
                  if (input.notes === 'fail-after-create') throw new VetoError('stamper refuses after the dataset was written', { notes: ['refused'] });
                  return { ...result, stamped: true };
                },
              });
              // Wraps a core action that has an input schema, without one of its own.
              ctx.contribute(Actions, { name: 'organization_create', kind: 'write', help: 'organization_create, wrapped.', chain: true, run: async (input, actionCtx, next) => next!(input, actionCtx) });
              // Observers may write after commit (their own transaction, through an action).
              ctx.contribute(Actions, {
                name: 'stamp_note_create',
                kind: 'write',
                help: 'Records a note in the audit trail.',
                run: async (input, actionCtx) => actionCtx.services.get(AuditLogId).record({ actor: actionCtx.actor, action: 'stamp_note_create', objectType: 'dataset', objectId: String(input.id) }, actionCtx.transaction),
              });
              ctx.contribute(EventObserver, {
                on: { 'dataset.created': ({ dataset }) => ctx.services.get(ActionRunnerId).run('stamp_note_create', { id: dataset.id }, { actor: { kind: 'system', name: 'stamper' } }).then(() => undefined) },
              });
            },
          }),
        ],
      });
      f = await createApiFixtures(t);
    });
    after(async () => t.close());

    const create = (input: Record<string, unknown>) => t.call('package_create', { owner_org: 'lab', ...input }, { token: f.tokens.sysadmin });

    it('observers run after commit, in plugin order; a failing observer is logged with its plugin and the others still run', async () => {
      seen.length = 0;
      const created = await create({ name: 'observed', title: 'Observed' });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.deepEqual(seen, [
        { plugin: 'recorder-a', event: 'dataset.created', name: 'observed', committed: true },
        { plugin: 'recorder-b', event: 'dataset.created', name: 'observed', committed: true },
      ]);
      const failure = t.logs.find((r) => r.msg === 'observer failed' && r.fields.plugin === 'faulty');
      assert.ok(failure, 'the failing observer is logged');
      assert.deepEqual({ event: failure.fields.event, error: failure.fields.error }, { event: 'dataset.created', error: 'search index is down' });
      assert.equal((created.body.result as { stamped?: boolean }).stamped, true, 'the chained wrapper ran');
      const notes = await t.host.services.get(AuditLogId).list({ action: 'stamp_note_create', objectId: (created.body.result as { id: string }).id });
      assert.equal(notes.length, 1, 'an observer wrote through an action after commit');
    });

    it('normalisers run in plugin order before the vetoes', async () => {
      const created = await create({ name: 'normalised', title: 'Mixed Case' });
      assert.equal((created.body.result as { title: string }).title, 'MIXED CASE (checked)');
    });

    it('a Schema veto fails the action with every field problem and emits nothing', async () => {
      seen.length = 0;
      const before = await tableCounts(t);
      const vetoed = await create({ name: 'vetoed', title: 'a forbidden title' });
      assert.equal(vetoed.status, 400);
      assert.equal(vetoed.body.error?.__type, 'Validation Error');
      assert.deepEqual(vetoed.body.error?.title, ['forbidden titles are vetoed']);
      const thrown = await create({ name: 'embargoed', notes: 'embargo' });
      assert.equal(thrown.status, 400);
      assert.match(thrown.body.error!.message, /dataset is under embargo/);
      assert.deepEqual(thrown.body.error?.notes, ['embargoed until 2030']);
      assert.deepEqual(await tableCounts(t), before);
      assert.deepEqual(seen, []);
    });

    it('a veto rolls the whole action back: rows and audit events written before it are gone', async () => {
      seen.length = 0;
      const before = await tableCounts(t);
      const twin = await t.call('twin_create', { name: 'twin', second_title: 'forbidden twin' }, { token: f.tokens.sysadmin });
      assert.equal(twin.status, 400, JSON.stringify(twin.body));
      assert.deepEqual(twin.body.error?.title, ['forbidden titles are vetoed']);
      assert.equal((await t.call('package_show', { id: 'twin-1' }, { token: f.tokens.sysadmin, method: 'GET' })).status, 404, 'the first dataset was rolled back');
      const refused = await create({ name: 'stamped-then-refused', notes: 'fail-after-create' });
      assert.equal(refused.status, 400);
      assert.equal((await t.call('package_show', { id: 'stamped-then-refused' }, { token: f.tokens.sysadmin, method: 'GET' })).status, 404, 'the wrapped create was rolled back');
      assert.deepEqual(await tableCounts(t), before, 'no dataset and no audit event remain');
      assert.equal(seen.length, 0, 'a rolled-back action emits nothing');
      const ok = await t.call('twin_create', { name: 'twin', second_title: 'fine' }, { token: f.tokens.sysadmin });
      assert.deepEqual(ok.body.result, ['twin-1', 'twin-2']);
      assert.deepEqual(seen.map((s) => `${s.plugin} ${s.name}`), ['recorder-a twin-1', 'recorder-b twin-1', 'recorder-a twin-2', 'recorder-b twin-2']);
    });

    it('an update vetoed by a schema leaves the dataset as it was', async () => {
      await create({ name: 'stable', title: 'Stable' });
      seen.length = 0;
      const vetoed = await t.call('package_patch', { id: 'stable', title: 'now forbidden' }, { token: f.tokens.sysadmin });
      assert.equal(vetoed.status, 400);
      const shown = await t.call('package_show', { id: 'stable' }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.equal((shown.body.result as { title: string }).title, 'STABLE (checked)');
      assert.deepEqual(seen, []);
    });

    it('auth policies run in plugin order after core allowed; the first denial wins and names its plugin', async () => {
      const before = await tableCounts(t);
      const denied = await create({ name: 'denied', notes: 'deny' });
      assert.equal(denied.status, 403);
      assert.match(denied.body.error!.message, /denied by policy "first-policy" of plugin gatekeeper: first says no/);
      assert.deepEqual(await tableCounts(t), before);
    });

    it('a chained wrapper without an input schema keeps the checks of the action it wraps', async () => {
      const refused = await t.call('organization_create', { name: 'wrapped-org', bogus: 1 }, { token: f.tokens.sysadmin });
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(JSON.stringify(refused.body.error), /bogus/);
      const made = await t.call('organization_create', { name: 'wrapped-org' }, { token: f.tokens.sysadmin });
      assert.equal(made.status, 200, JSON.stringify(made.body));
    });
  });

  describe(`plugin migrations and disposal (${kind})`, () => {
    const table = (name: string) => ({ queryInterface }: { queryInterface: import('sequelize').QueryInterface }) => queryInterface.createTable(name, { id: { type: 'INTEGER', primaryKey: true } });

    it('applies each plugin\'s migrations after core\'s, in plugin order, and db status lists them', async () => {
      const order: string[] = [];
      const migrating = (name: string) =>
        definePlugin({
          name,
          version: '1.0.0',
          register: (ctx) =>
            ctx.contribute(Migrations, {
              migrations: [
                { name: '0001-first', up: async (m) => void (order.push(`${name}:0001`), await table(`${name.replace('-', '_')}_one`)(m)) },
                { name: '0002-second', up: async (m) => void (order.push(`${name}:0002`), await table(`${name.replace('-', '_')}_two`)(m)) },
              ],
            }),
        });
      const t = await startTestHost(kind, { plugins: [migrating('mig-b'), migrating('mig-a')] });
      try {
        assert.deepEqual(order, ['mig-b:0001', 'mig-b:0002', 'mig-a:0001', 'mig-a:0002'], 'plugin order, not alphabetical');
        const status = await t.host.migrator!.status();
        const names = status.map((m) => m.name);
        assert.ok(names.indexOf('core:0001-core-tables') < names.indexOf('mig-b:0001-first'));
        assert.deepEqual(names.filter((n) => !n.startsWith('core:')), ['mig-b:0001-first', 'mig-b:0002-second', 'mig-a:0001-first', 'mig-a:0002-second']);
        assert.ok(status.every((m) => m.applied));
        const tables = (await t.host.db!.sequelize.getQueryInterface().showAllTables()).map((x) => (typeof x === 'string' ? x : (x as { tableName: string }).tableName));
        for (const name of ['mig_b_one', 'mig_b_two', 'mig_a_one', 'mig_a_two']) assert.ok(tables.includes(name), name);
      } finally {
        await t.close();
      }
    });

    it('a migration that fails stops start-up naming the plugin\'s step and the cause, keeping the steps before it', async () => {
      const failing = definePlugin({
        name: 'mig-broken',
        version: '1.0.0',
        register: (ctx) =>
          ctx.contribute(Migrations, {
            migrations: [
              { name: '0001-fine', up: table('broken_fine') },
              { name: '0002-bad', up: async () => { throw new Error('column "x" already exists'); } },
            ],
          }),
      });
      await assert.rejects(startTestHost(kind, { plugins: [failing] }), (error: unknown) => {
        assert.match(String((error as Error).message), /mig-broken:0002-bad/);
        assert.match(String((error as Error).message) + String(((error as Error).cause as Error | undefined)?.message ?? ''), /column "x" already exists/);
        return true;
      });
    });

    it('undoes every registration at stop, plugins\' and core\'s, and stops lifecycles in reverse order', async () => {
      const calls: string[] = [];
      const plugin = (name: string) =>
        definePlugin({
          name,
          version: '1.0.0',
          register(ctx) {
            ctx.contribute(Lifecycle, { initialize: () => void calls.push(`init ${name}`), onStop: () => void calls.push(`stop ${name}`) });
            ctx.contribute(Actions, { name: `${name}_show`, kind: 'read', help: 'x', run: async () => name });
            ctx.contribute(Commands, { name: `${name} go`, summary: 'x', needs: 'none', run: async () => 0 });
            ctx.contribute(Routes, { path: `/ext/${name}`, mount: () => undefined });
          },
        });
      const t = await startTestHost(kind, { plugins: [plugin('one'), plugin('two')] });
      const registries = t.host.registries;
      assert.ok(registries.actions.names().includes('two_show'));
      await t.close();
      assert.deepEqual(calls, ['init one', 'init two', 'stop two', 'stop one']);
      assert.deepEqual([registries.actions.names(), registries.commands.names(), registries.routes.names(), registries.jobHandlers.names(), registries.inspectChecks.names()], [[], [], [], [], []]);
    });
  });
}

describe('plugin commands through the CLI', () => {
  it('a plugin command is listed in --help, has its own --help, and runs against the database', async () => {
    const t = await startTestHost('sqlite', { pluginNames: ['platform-plugin-example'] });
    try {
      const help = await runCli(['--config', t.configFile, '--help']);
      assert.match(help.stdout, /^ {2}example greet NAME\s+greet someone from the command line$/m);
      const own = await runCli(['--config', t.configFile, 'example', 'greet', '--help']);
      assert.match(own.stdout, /^Usage: platform example greet NAME/);
      const run = await runCli(['--config', t.configFile, 'example', 'greet', 'Grace']);
      assert.deepEqual(run, { status: 0, stdout: 'hello, Grace (1)\n', stderr: '' });
      const wrong = await runCli(['--config', t.configFile, 'example', 'greet']);
      assert.equal(wrong.status, 2);
      assert.match(wrong.stderr, /usage: platform example greet NAME/);
    } finally {
      await t.close();
    }
  });
});
