// The permission matrix: every action, as anonymous, member, editor, admin, a member of
// another organisation, sysadmin, and with revoked and expired tokens. Each case runs on a
// fresh target so that writes cannot influence each other. An AuthPolicy may deny what
// core allows, and cannot allow what core denies.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, ROLES, type ApiFixtures, type Role } from '../../helpers/api-fixtures.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { AuthPolicy } from '../../../core/plugins/hooks/auth-policy.js';
import { ApiTokenServiceId, UserServiceId } from '../../../core/services/service-ids.js';

type Outcome = 200 | 403 | 404;
const READ_ALL: Record<Role, Outcome> = { anonymous: 200, member: 200, editor: 200, admin: 200, other: 200, sysadmin: 200, revoked: 403, expired: 403 };
const PRIVATE_READ: Record<Role, Outcome> = { anonymous: 404, member: 200, editor: 200, admin: 200, other: 404, sysadmin: 200, revoked: 403, expired: 403 };
const EDIT: Record<Role, Outcome> = { anonymous: 403, member: 403, editor: 200, admin: 200, other: 403, sysadmin: 200, revoked: 403, expired: 403 };
const ORG_ADMIN: Record<Role, Outcome> = { anonymous: 403, member: 403, editor: 403, admin: 200, other: 403, sysadmin: 200, revoked: 403, expired: 403 };
const SYSADMIN: Record<Role, Outcome> = { anonymous: 403, member: 403, editor: 403, admin: 403, other: 403, sysadmin: 200, revoked: 403, expired: 403 };
const EDITOR_SELF: Record<Role, Outcome> = { anonymous: 403, member: 403, editor: 200, admin: 403, other: 403, sysadmin: 200, revoked: 403, expired: 403 };

interface Case {
  action: string;
  expect: Record<Role, Outcome>;
  /** Builds the input, creating a fresh target first when the action needs one. */
  input(ctx: CaseContext): Promise<Record<string, unknown>>;
}

interface CaseContext {
  t: TestHost;
  f: ApiFixtures;
  unique: string;
}

async function dataset(ctx: CaseContext, options: { private?: boolean } = {}): Promise<string> {
  const name = `ds-${ctx.unique}`;
  const { status, body } = await ctx.t.call('package_create', { name, owner_org: 'lab', private: options.private ?? false }, { token: ctx.f.tokens.sysadmin });
  assert.equal(status, 200, JSON.stringify(body));
  return name;
}

async function resource(ctx: CaseContext, options: { private?: boolean } = {}): Promise<string> {
  const id = await dataset(ctx, options);
  const { body } = await ctx.t.call('resource_create', { package_id: id, name: 'file.csv', url: 'https://example.org/file.csv' }, { token: ctx.f.tokens.sysadmin });
  return (body.result as { id: string }).id;
}

const CASES: Case[] = [
  { action: 'status_show', expect: READ_ALL, input: async () => ({}) },
  { action: 'site_read', expect: READ_ALL, input: async () => ({}) },
  { action: 'help_show', expect: READ_ALL, input: async () => ({ name: 'package_show' }) },
  { action: 'package_list', expect: READ_ALL, input: async () => ({}) },
  { action: 'package_search', expect: READ_ALL, input: async () => ({ q: 'anything' }) },
  { action: 'package_show', expect: READ_ALL, input: async (c) => ({ id: await dataset(c) }) },
  { action: 'package_show', expect: PRIVATE_READ, input: async (c) => ({ id: await dataset(c, { private: true }) }) },
  { action: 'package_create', expect: EDIT, input: async (c) => ({ name: `new-${c.unique}`, owner_org: 'lab' }) },
  { action: 'package_update', expect: EDIT, input: async (c) => ({ id: await dataset(c), title: 'Changed' }) },
  { action: 'package_patch', expect: EDIT, input: async (c) => ({ id: await dataset(c), notes: 'Changed' }) },
  { action: 'package_delete', expect: EDIT, input: async (c) => ({ id: await dataset(c) }) },
  { action: 'resource_show', expect: READ_ALL, input: async (c) => ({ id: await resource(c) }) },
  { action: 'resource_show', expect: PRIVATE_READ, input: async (c) => ({ id: await resource(c, { private: true }) }) },
  { action: 'resource_create', expect: EDIT, input: async (c) => ({ package_id: await dataset(c), name: 'more.csv', url: 'https://example.org/more.csv' }) },
  { action: 'resource_update', expect: EDIT, input: async (c) => ({ id: await resource(c), name: 'renamed.csv' }) },
  { action: 'resource_patch', expect: EDIT, input: async (c) => ({ id: await resource(c), description: 'Changed' }) },
  { action: 'resource_delete', expect: EDIT, input: async (c) => ({ id: await resource(c) }) },
  { action: 'organization_list', expect: READ_ALL, input: async () => ({}) },
  { action: 'organization_show', expect: READ_ALL, input: async () => ({ id: 'lab' }) },
  { action: 'organization_create', expect: SYSADMIN, input: async (c) => ({ name: `org-${c.unique}` }) },
  { action: 'organization_member_create', expect: ORG_ADMIN, input: async (c) => {
    const user = await c.t.host.services.get(UserServiceId).create({ name: `u-${c.unique}`, email: 'x@example.org' });
    return { id: 'lab', username: user.name, role: 'member' };
  } },
  { action: 'organization_member_delete', expect: ORG_ADMIN, input: async (c) => {
    const user = await c.t.host.services.get(UserServiceId).create({ name: `u-${c.unique}`, email: 'x@example.org' });
    await c.t.call('organization_member_create', { id: 'lab', username: user.name, role: 'member' }, { token: c.f.tokens.sysadmin });
    return { id: 'lab', username: user.name };
  } },
  { action: 'user_create', expect: SYSADMIN, input: async (c) => ({ name: `new-${c.unique}`, email: 'n@example.org', password: 'a-long-password' }) },
  { action: 'user_show', expect: READ_ALL, input: async () => ({ id: 'editor-user' }) },
  { action: 'api_token_create', expect: EDITOR_SELF, input: async () => ({ user: 'editor-user', name: 'another' }) },
  { action: 'api_token_list', expect: EDITOR_SELF, input: async () => ({ user: 'editor-user' }) },
  { action: 'api_token_revoke', expect: EDITOR_SELF, input: async (c) => {
    const editor = await c.t.host.services.get(UserServiceId).get('editor-user');
    return { id: (await c.t.host.services.get(ApiTokenServiceId).create(editor, `t-${c.unique}`)).record.prefix };
  } },
];

const WRITE_ACTIONS = new Set(['package_create', 'package_update', 'package_patch', 'package_delete', 'resource_create', 'resource_update', 'resource_patch', 'resource_delete', 'organization_create', 'organization_member_create', 'organization_member_delete', 'user_create', 'api_token_create', 'api_token_revoke']);

for (const kind of databaseKinds()) {
  describe(`permission matrix (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let counter = 0;
    before(async () => {
      t = await startTestHost(kind, {
        plugins: [
          definePlugin({
            name: 'test-policy',
            version: '1.0.0',
            register: (ctx) => ctx.contribute(AuthPolicy, { name: 'frozen-datasets', check: (r) => (r.action === 'package_patch' && r.input.notes === 'frozen' ? 'this dataset is frozen' : undefined) }),
          }),
        ],
      });
      f = await createApiFixtures(t);
    });
    after(async () => t.close());

    it('covers every core action', () => {
      const covered = new Set(CASES.map((c) => c.action));
      const all = t.host.registries.actions.names().filter((name) => t.host.registries.actions.entry(name)?.plugin === 'core');
      assert.deepEqual(all.filter((a) => !covered.has(a)), []);
    });

    for (const testCase of CASES) {
      it(`${testCase.action} ${testCase.expect === PRIVATE_READ ? '(private) ' : ''}as each role`, async () => {
        const failures: string[] = [];
        for (const role of ROLES) {
          const input = await testCase.input({ t, f, unique: `${++counter}` });
          const { status, body } = await t.call(testCase.action, input, { token: f.tokens[role], method: WRITE_ACTIONS.has(testCase.action) ? 'POST' : 'GET' });
          if (status !== testCase.expect[role]) failures.push(`${role}: expected ${testCase.expect[role]}, got ${status} ${JSON.stringify(body.error ?? '')}`);
          if (status === 403) assert.equal(body.error?.__type, 'Authorization Error');
          if (status === 404) assert.equal(body.error?.__type, 'Not Found Error');
        }
        assert.deepEqual(failures, []);
      });
    }

    it('revoked and expired tokens say why', async () => {
      assert.match((await t.call('status_show', {}, { token: f.tokens.revoked })).body.error!.message, /revoked/);
      assert.match((await t.call('status_show', {}, { token: f.tokens.expired })).body.error!.message, /expired/);
    });

    it('a policy denies what core allows, even to sysadmins, and names itself', async () => {
      const id = await dataset({ t, f, unique: `${++counter}` });
      const denied = await t.call('package_patch', { id, notes: 'frozen' }, { token: f.tokens.sysadmin });
      assert.equal(denied.status, 403);
      assert.match(denied.body.error!.message, /denied by policy "frozen-datasets" of plugin test-policy: this dataset is frozen/);
      const shown = await t.call('package_show', { id }, { token: f.tokens.sysadmin });
      assert.equal((shown.body.result as { notes: string }).notes, '');
    });

    it('a policy cannot allow what core denies', async () => {
      const id = await dataset({ t, f, unique: `${++counter}` });
      assert.equal((await t.call('package_patch', { id, notes: 'frozen' }, { token: f.tokens.member })).status, 403);
      assert.equal((await t.call('package_patch', { id, notes: 'fine' }, { token: f.tokens.member })).status, 403);
    });
  });
}
