// The permission matrix: every action, as anonymous, member, editor, admin, a member of
// another organisation, sysadmin, and with revoked and expired tokens, driven by one table
// of expected statuses. Each case runs on a fresh target so that writes cannot influence
// each other; a refused request must leave the audit trail as it was, an allowed write
// must add to it. An AuthPolicy may deny what core allows (on every action, reads and
// cached answers included) and cannot allow what core denies.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { auditCount, createApiFixtures, ROLES, type ApiFixtures, type Role } from '../../helpers/api-fixtures.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { AuthPolicy, type AuthRequest } from '../../../core/plugins/hooks/auth-policy.js';
import { ApiTokenServiceId, UserServiceId } from '../../../core/services/service-ids.js';

type Outcome = 200 | 403 | 404;
type Expect = Record<Role, Outcome>;

/** Everyone may; dead tokens fail before any rule is looked at. */
const READ_ALL: Expect = { anonymous: 200, member: 200, editor: 200, admin: 200, other: 200, sysadmin: 200, revoked: 403, expired: 403 };
/** Private or draft datasets: the organisation and sysadmins see them; to others they do not exist. */
const PRIVATE_READ: Expect = { anonymous: 404, member: 200, editor: 200, admin: 200, other: 404, sysadmin: 200, revoked: 403, expired: 403 };
/** Deleted datasets: only editors and admins of the organisation, and sysadmins. */
const DELETED_READ: Expect = { anonymous: 404, member: 404, editor: 200, admin: 200, other: 404, sysadmin: 200, revoked: 403, expired: 403 };
/** Changes to a public dataset of `lab`: editors and admins. */
const EDIT: Expect = { anonymous: 403, member: 403, editor: 200, admin: 200, other: 403, sysadmin: 200, revoked: 403, expired: 403 };
/**
 * Changes to a private dataset: those who cannot see it learn nothing about it (404);
 * anonymous callers are refused before anything is looked up (403, as for any dataset).
 */
const PRIVATE_EDIT: Expect = { anonymous: 403, member: 403, editor: 200, admin: 200, other: 404, sysadmin: 200, revoked: 403, expired: 403 };
/**
 * Changes to a deleted dataset or its resources: nobody (it is gone; only package_show shows
 * it to its editors). Callers who may not edit any dataset are refused first, as CKAN's
 * check_access does (403).
 */
const DELETED_WRITE: Expect = { anonymous: 403, member: 403, editor: 404, admin: 404, other: 404, sysadmin: 404, revoked: 403, expired: 403 };
/** Members of `lab`: admins of `lab`. */
const ORG_ADMIN: Expect = { anonymous: 403, member: 403, editor: 403, admin: 200, other: 403, sysadmin: 200, revoked: 403, expired: 403 };
const SYSADMIN: Expect = { anonymous: 403, member: 403, editor: 403, admin: 403, other: 403, sysadmin: 200, revoked: 403, expired: 403 };
/** The editor's own tokens: the editor and sysadmins. */
const EDITOR_SELF: Expect = { anonymous: 403, member: 403, editor: 200, admin: 403, other: 403, sysadmin: 200, revoked: 403, expired: 403 };
/** Another user's token answers as an unknown token does (404), so prefixes cannot be probed. */
const EDITOR_OWN_TOKEN: Expect = { ...EDITOR_SELF, member: 404, admin: 404, other: 404 };

interface CaseContext {
  t: TestHost;
  f: ApiFixtures;
  unique: string;
}

interface Case {
  action: string;
  /** Tells cases of the same action apart. */
  label?: string;
  expect: Expect;
  /** Builds the input, creating a fresh target first when the action needs one. */
  input(ctx: CaseContext): Promise<Record<string, unknown>>;
}

type DatasetKind = 'public' | 'private' | 'draft' | 'deleted';

async function dataset(ctx: CaseContext, kind: DatasetKind = 'public'): Promise<string> {
  const name = `ds-${ctx.unique}`;
  const input = { name, owner_org: 'lab', private: kind === 'private', ...(kind === 'draft' ? { state: 'draft' } : {}) };
  const created = await ctx.t.call('package_create', input, { token: ctx.f.tokens.sysadmin });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  if (kind === 'deleted') assert.equal((await ctx.t.call('package_delete', { id: name }, { token: ctx.f.tokens.sysadmin })).status, 200);
  return name;
}

async function resource(ctx: CaseContext, kind: DatasetKind = 'public'): Promise<string> {
  const id = await dataset(ctx, kind === 'deleted' ? 'public' : kind);
  const { status, body } = await ctx.t.call('resource_create', { package_id: id, name: 'file.csv', url: 'https://example.org/file.csv' }, { token: ctx.f.tokens.sysadmin });
  assert.equal(status, 200, JSON.stringify(body));
  if (kind === 'deleted') assert.equal((await ctx.t.call('package_delete', { id }, { token: ctx.f.tokens.sysadmin })).status, 200);
  return (body.result as { id: string }).id;
}

async function freshUser(ctx: CaseContext): Promise<string> {
  return (await ctx.t.host.services.get(UserServiceId).create({ name: `u-${ctx.unique}`, email: `u-${ctx.unique}@example.org` })).name;
}

async function editorToken(ctx: CaseContext): Promise<string> {
  const editor = await ctx.t.host.services.get(UserServiceId).get('editor-user');
  return (await ctx.t.host.services.get(ApiTokenServiceId).create(editor, `t-${ctx.unique}`)).record.prefix;
}

const CASES: Case[] = [
  { action: 'status_show', expect: READ_ALL, input: async () => ({}) },
  { action: 'site_read', expect: READ_ALL, input: async () => ({}) },
  { action: 'help_show', expect: READ_ALL, input: async () => ({ name: 'package_show' }) },
  { action: 'package_list', expect: READ_ALL, input: async () => ({}) },
  { action: 'package_search', expect: READ_ALL, input: async () => ({ q: 'anything' }) },
  { action: 'package_show', expect: READ_ALL, input: async (c) => ({ id: await dataset(c) }) },
  { action: 'package_show', label: 'private', expect: PRIVATE_READ, input: async (c) => ({ id: await dataset(c, 'private') }) },
  { action: 'package_show', label: 'draft', expect: PRIVATE_READ, input: async (c) => ({ id: await dataset(c, 'draft') }) },
  { action: 'package_show', label: 'deleted', expect: DELETED_READ, input: async (c) => ({ id: await dataset(c, 'deleted') }) },
  { action: 'package_create', expect: EDIT, input: async (c) => ({ name: `new-${c.unique}`, owner_org: 'lab' }) },
  { action: 'package_create', label: 'private', expect: EDIT, input: async (c) => ({ name: `new-${c.unique}`, owner_org: 'lab', private: true }) },
  { action: 'package_update', expect: EDIT, input: async (c) => ({ id: await dataset(c), title: 'Changed' }) },
  { action: 'package_update', label: 'private', expect: PRIVATE_EDIT, input: async (c) => ({ id: await dataset(c, 'private'), title: 'Changed', private: true }) },
  { action: 'package_patch', expect: EDIT, input: async (c) => ({ id: await dataset(c), notes: 'Changed' }) },
  { action: 'package_patch', label: 'private', expect: PRIVATE_EDIT, input: async (c) => ({ id: await dataset(c, 'private'), notes: 'Changed' }) },
  { action: 'package_patch', label: 'draft', expect: PRIVATE_EDIT, input: async (c) => ({ id: await dataset(c, 'draft'), state: 'active' }) },
  { action: 'package_patch', label: 'deleted', expect: DELETED_WRITE, input: async (c) => ({ id: await dataset(c, 'deleted'), notes: 'Changed' }) },
  { action: 'package_delete', expect: EDIT, input: async (c) => ({ id: await dataset(c) }) },
  { action: 'package_delete', label: 'private', expect: PRIVATE_EDIT, input: async (c) => ({ id: await dataset(c, 'private') }) },
  { action: 'resource_show', expect: READ_ALL, input: async (c) => ({ id: await resource(c) }) },
  { action: 'resource_show', label: 'private', expect: PRIVATE_READ, input: async (c) => ({ id: await resource(c, 'private') }) },
  { action: 'resource_show', label: 'deleted dataset', expect: DELETED_READ, input: async (c) => ({ id: await resource(c, 'deleted') }) },
  { action: 'resource_create', expect: EDIT, input: async (c) => ({ package_id: await dataset(c), name: 'more.csv', url: 'https://example.org/more.csv' }) },
  { action: 'resource_create', label: 'private', expect: PRIVATE_EDIT, input: async (c) => ({ package_id: await dataset(c, 'private'), name: 'more.csv' }) },
  { action: 'resource_update', expect: EDIT, input: async (c) => ({ id: await resource(c), name: 'renamed.csv' }) },
  { action: 'resource_update', label: 'private', expect: PRIVATE_EDIT, input: async (c) => ({ id: await resource(c, 'private'), name: 'renamed.csv' }) },
  { action: 'resource_patch', expect: EDIT, input: async (c) => ({ id: await resource(c), description: 'Changed' }) },
  { action: 'resource_patch', label: 'private', expect: PRIVATE_EDIT, input: async (c) => ({ id: await resource(c, 'private'), description: 'Changed' }) },
  { action: 'resource_create', label: 'deleted dataset', expect: DELETED_WRITE, input: async (c) => ({ package_id: await dataset(c, 'deleted'), name: 'more.csv' }) },
  { action: 'resource_patch', label: 'deleted dataset', expect: DELETED_WRITE, input: async (c) => ({ id: await resource(c, 'deleted'), description: 'Changed' }) },
  { action: 'resource_delete', label: 'deleted dataset', expect: DELETED_WRITE, input: async (c) => ({ id: await resource(c, 'deleted') }) },
  { action: 'resource_delete', expect: EDIT, input: async (c) => ({ id: await resource(c) }) },
  { action: 'resource_delete', label: 'private', expect: PRIVATE_EDIT, input: async (c) => ({ id: await resource(c, 'private') }) },
  { action: 'organization_list', expect: READ_ALL, input: async () => ({}) },
  { action: 'organization_show', expect: READ_ALL, input: async () => ({ id: 'lab' }) },
  { action: 'organization_create', expect: SYSADMIN, input: async (c) => ({ name: `org-${c.unique}` }) },
  { action: 'organization_member_create', expect: ORG_ADMIN, input: async (c) => ({ id: 'lab', username: await freshUser(c), role: 'member' }) },
  { action: 'organization_member_create', label: 'other organisation', expect: SYSADMIN, input: async (c) => ({ id: 'other', username: await freshUser(c), role: 'editor' }) },
  { action: 'organization_member_delete', expect: ORG_ADMIN, input: async (c) => {
    const user = await freshUser(c);
    assert.equal((await c.t.call('organization_member_create', { id: 'lab', username: user, role: 'member' }, { token: c.f.tokens.sysadmin })).status, 200);
    return { id: 'lab', username: user };
  } },
  { action: 'organization_member_delete', label: 'other organisation', expect: SYSADMIN, input: async (c) => {
    const user = await freshUser(c);
    assert.equal((await c.t.call('organization_member_create', { id: 'other', username: user, role: 'member' }, { token: c.f.tokens.sysadmin })).status, 200);
    return { id: 'other', username: user };
  } },
  { action: 'user_create', expect: SYSADMIN, input: async (c) => ({ name: `new-${c.unique}`, email: 'n@example.org', password: 'a-long-password' }) },
  { action: 'user_show', expect: READ_ALL, input: async () => ({ id: 'editor-user' }) },
  { action: 'api_token_create', expect: EDITOR_SELF, input: async () => ({ user: 'editor-user', name: 'another' }) },
  { action: 'api_token_list', expect: EDITOR_SELF, input: async () => ({ user: 'editor-user' }) },
  { action: 'api_token_revoke', expect: EDITOR_OWN_TOKEN, input: async (c) => ({ id: await editorToken(c) }) },
];

const SHOW_ACTIONS = new Set(['package_show', 'resource_show']);

/** A policy the tests switch on and off: denies everything one user does, and remembers what it was asked. */
interface PolicyState {
  denyUser: string | undefined;
  seen: AuthRequest[];
}

for (const kind of databaseKinds()) {
  describe(`permission matrix (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let counter = 0;
    const policy: PolicyState = { denyUser: undefined, seen: [] };
    const context = (): CaseContext => ({ t, f, unique: `${++counter}` });

    before(async () => {
      t = await startTestHost(kind, {
        plugins: [
          definePlugin({
            name: 'test-policy',
            version: '1.0.0',
            register: (ctx) => {
              ctx.contribute(AuthPolicy, { name: 'frozen-datasets', check: (r) => (r.action === 'package_patch' && r.input.notes === 'frozen' ? 'this dataset is frozen' : undefined) });
              ctx.contribute(AuthPolicy, {
                name: 'switchable',
                check: (r) => {
                  policy.seen.push(r);
                  return r.actor.kind === 'user' && r.actor.user.name === policy.denyUser ? `${policy.denyUser} is suspended` : undefined;
                },
              });
            },
          }),
        ],
      });
      f = await createApiFixtures(t);
    });
    after(async () => t.close());

    const send = (action: string, input: Record<string, unknown>, role: Role) => {
      const write = t.host.registries.actions.get(action)?.kind === 'write';
      return t.call(action, input, { token: f.tokens[role], method: write ? 'POST' : 'GET' });
    };

    it('covers every core action', () => {
      const covered = new Set(CASES.map((c) => c.action));
      const all = t.host.registries.actions.names().filter((name) => t.host.registries.actions.entry(name)?.plugin === 'core');
      assert.deepEqual(all.filter((a) => !covered.has(a)), []);
    });

    for (const testCase of CASES) {
      it(`${testCase.action}${testCase.label ? ` (${testCase.label})` : ''} as each role`, async () => {
        const failures: string[] = [];
        const write = t.host.registries.actions.get(testCase.action)?.kind === 'write';
        // A refused request changes nothing (the audit check below holds it to that), so
        // its target serves the next role too; only a write that went through needs a new one.
        let input: Record<string, unknown> | undefined;
        for (const role of ROLES) {
          input ??= await testCase.input(context());
          const audited = await auditCount(t);
          const { status, body } = await send(testCase.action, input, role);
          const expected = testCase.expect[role];
          if (status !== expected) failures.push(`${role}: expected ${expected}, got ${status} ${JSON.stringify(body.error ?? '')}`);
          if (status === 403) assert.equal(body.error?.__type, 'Authorization Error', `${role}: ${JSON.stringify(body)}`);
          if (status === 404) assert.equal(body.error?.__type, 'Not Found Error', `${role}: ${JSON.stringify(body)}`);
          if (status !== 200) assert.equal(body.success, false);
          const added = (await auditCount(t)) - audited;
          if (status !== 200 && added !== 0) failures.push(`${role}: a refused ${testCase.action} wrote ${added} audit event(s)`);
          if (status === 200 && write && added === 0) failures.push(`${role}: ${testCase.action} changed something without an audit event`);
          if (status === 200 && write) input = undefined;
        }
        assert.deepEqual(failures, []);
      });
    }

    it('anonymous writes are told to log in; role errors name the role needed', async () => {
      const id = await dataset(context());
      assert.match((await send('package_patch', { id, notes: 'x' }, 'anonymous')).body.error!.message, /log in first/);
      assert.match((await send('package_patch', { id, notes: 'x' }, 'member')).body.error!.message, /your role "member" is not enough in any organization; it needs "editor"/);
      assert.match((await send('package_patch', { id, notes: 'x' }, 'other')).body.error!.message, /you need the role "editor"/);
    });

    it('a private dataset is indistinguishable from a missing one to those who may not see it', async () => {
      const id = await dataset(context(), 'private');
      for (const role of ['anonymous', 'other'] as const) {
        for (const action of ['package_show', 'package_patch', 'package_delete']) {
          const hidden = await send(action, { id }, role);
          const missing = await send(action, { id: 'no-such-dataset' }, role);
          // Anonymous writes are refused before any lookup (403 for every dataset alike).
          assert.equal(hidden.status, role === 'anonymous' && action !== 'package_show' ? 403 : 404, `${action} as ${role}`);
          assert.equal(missing.status, hidden.status, `${action} as ${role}`);
          assert.equal(hidden.body.error!.message.replace(id, 'X'), missing.body.error!.message.replace('no-such-dataset', 'X'), `${action} as ${role}`);
        }
      }
      const uuid = ((await send('package_show', { id }, 'sysadmin')).body.result as { id: string }).id;
      const resourceId = (await t.call('resource_create', { package_id: id, name: 'r.csv' }, { token: f.tokens.sysadmin })).body.result as { id: string };
      for (const [action, input] of [['package_show', { id: uuid }], ['package_patch', { id: uuid, notes: 'x' }], ['resource_show', { id: resourceId.id }], ['resource_patch', { id: resourceId.id, description: 'x' }]] as const) {
        const byId = await send(action, input, 'anonymous');
        assert.equal(byId.status, action.endsWith('_show') ? 404 : 403, action);
        assert.equal(byId.body.error!.message.includes(id), false, `${action} by id must not reveal the name: ${byId.body.error!.message}`);
      }
    });

    it('only members and sysadmins see who belongs to an organisation, and only the user and sysadmins see an email', async () => {
      const expectMembers: Record<Role, boolean> = { anonymous: false, member: true, editor: true, admin: true, other: false, sysadmin: true, revoked: false, expired: false };
      const expectEmail: Record<Role, boolean> = { anonymous: false, member: false, editor: true, admin: false, other: false, sysadmin: true, revoked: false, expired: false };
      for (const role of ROLES.filter((r) => r !== 'revoked' && r !== 'expired')) {
        const org = (await send('organization_show', { id: 'lab' }, role)).body.result as { users?: Array<{ name: string; capacity: string }> };
        assert.equal(org.users !== undefined, expectMembers[role], `organization_show as ${role}`);
        if (org.users) assert.deepEqual(org.users.filter((u) => u.name.endsWith('-user')).map((u) => `${u.name}:${u.capacity}`), ['admin-user:admin', 'editor-user:editor', 'member-user:member']);
        const user = (await send('user_show', { id: 'editor-user' }, role)).body.result as { email?: string };
        assert.equal(user.email !== undefined, expectEmail[role], `user_show as ${role}`);
      }
    });

    it('revoked and expired tokens say why, on every action', async () => {
      for (const action of ['status_show', 'package_search', 'package_create']) {
        assert.match((await send(action, {}, 'revoked')).body.error!.message, /revoked/);
        assert.match((await send(action, {}, 'expired')).body.error!.message, /expired/);
      }
    });

    it('a policy denies what core allows, even to sysadmins, and names itself', async () => {
      const id = await dataset(context());
      const denied = await t.call('package_patch', { id, notes: 'frozen' }, { token: f.tokens.sysadmin });
      assert.equal(denied.status, 403);
      assert.match(denied.body.error!.message, /denied by policy "frozen-datasets" of plugin test-policy: this dataset is frozen/);
      const shown = await t.call('package_show', { id }, { token: f.tokens.sysadmin, method: 'GET' });
      assert.equal((shown.body.result as { notes: string }).notes, '', 'the denied change was not made');
    });

    it('a policy cannot allow what core denies', async () => {
      const id = await dataset(context());
      assert.equal((await t.call('package_patch', { id, notes: 'frozen' }, { token: f.tokens.member })).status, 403);
      assert.equal((await t.call('package_patch', { id, notes: 'fine' }, { token: f.tokens.member })).status, 403);
    });

    it('a policy is consulted on every action, reads included, and sees the target', async () => {
      const failures: string[] = [];
      policy.denyUser = 'admin-user';
      try {
        for (const testCase of CASES) {
          const input = await testCase.input(context());
          const core = testCase.expect.admin;
          const expected = core !== 200 ? core : SHOW_ACTIONS.has(testCase.action) ? 404 : 403;
          const { status, body } = await send(testCase.action, input, 'admin');
          if (status !== expected) failures.push(`${testCase.action}${testCase.label ? ` (${testCase.label})` : ''}: expected ${expected}, got ${status} ${JSON.stringify(body.error ?? '')}`);
          if (status === 403 && core === 200) assert.match(body.error!.message, /denied by policy "switchable" of plugin test-policy: admin-user is suspended/);
        }
      } finally {
        policy.denyUser = undefined;
      }
      assert.deepEqual(failures, []);
      const id = await dataset(context());
      policy.seen.length = 0;
      assert.equal((await send('package_patch', { id, notes: 'seen' }, 'editor')).status, 200);
      const request = policy.seen.find((r) => r.action === 'package_patch');
      assert.ok(request, 'the policy was asked about package_patch');
      assert.equal(request.target.organizationId, f.orgs.lab);
      assert.equal(typeof request.target.datasetId, 'string');
      assert.equal(request.input.notes, 'seen');
    });

    it('a policy is not bypassed by cached public answers', async () => {
      const id = await dataset(context());
      assert.equal((await send('package_show', { id }, 'sysadmin')).status, 200);
      assert.equal((await send('package_show', { id }, 'admin')).status, 200);
      assert.equal((await send('package_search', { q: id }, 'anonymous')).status, 200);
      policy.denyUser = 'admin-user';
      try {
        assert.equal((await send('package_show', { id }, 'admin')).status, 404, 'a cached package_show still asks the policy');
        assert.equal((await send('package_search', { q: id }, 'admin')).status, 403);
      } finally {
        policy.denyUser = undefined;
      }
    });

    it('user_create shows policies the new user but never the password', async () => {
      policy.seen.length = 0;
      const created = await send('user_create', { name: 'policy-sees', email: 'p@example.org', password: 'never-shown-password' }, 'sysadmin');
      assert.equal(created.status, 200);
      const request = policy.seen.find((r) => r.action === 'user_create');
      assert.equal(request?.input.name, 'policy-sees');
      assert.equal(JSON.stringify(policy.seen).includes('never-shown-password'), false);
    });
  });
}
