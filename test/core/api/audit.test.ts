// The audit trail of the action API: every write action records who did what to which
// object, when, and from which address (the socket's peer, or behind a trusted proxy the
// address the proxy saw); reads and refused requests record nothing; lockouts are
// recorded; no secret reaches an event.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { auditCount, auditEvents, basicAuth, createApiFixtures, rawAction, type ApiFixtures, type Role } from '../../helpers/api-fixtures.js';
import { UserServiceId } from '../../../core/services/service-ids.js';

interface WriteCase {
  action: string;
  role: Role;
  objectType: string;
  /** Prepares the target and returns the input. */
  input(c: { t: TestHost; f: ApiFixtures; n: number }): Promise<Record<string, unknown>>;
  /** The id the event must name, from the input and the answer. */
  objectId(input: Record<string, unknown>, result: Record<string, unknown>, c: { t: TestHost; f: ApiFixtures }): Promise<string>;
}

async function makeDataset(t: TestHost, f: ApiFixtures, name: string): Promise<string> {
  const { status, body } = await t.call('package_create', { name, owner_org: 'lab' }, { token: f.tokens.editor });
  assert.equal(status, 200, JSON.stringify(body));
  return (body.result as { id: string }).id;
}

async function makeResource(t: TestHost, f: ApiFixtures, dataset: string): Promise<string> {
  await makeDataset(t, f, dataset);
  const { body } = await t.call('resource_create', { package_id: dataset, name: 'a.csv', url: 'https://example.org/a.csv' }, { token: f.tokens.editor });
  return (body.result as { id: string }).id;
}

const byResultId = async (_input: Record<string, unknown>, result: Record<string, unknown>) => result.id as string;
const byInputId = async (input: Record<string, unknown>) => input.id as string;
const datasetId = async (input: Record<string, unknown>, _result: Record<string, unknown>, c: { t: TestHost; f: ApiFixtures }) =>
  ((await c.t.call('package_show', { id: input.id }, { token: c.f.tokens.editor, method: 'GET' })).body.result as { id: string }).id;
const labId = async (_input: Record<string, unknown>, _result: Record<string, unknown>, c: { t: TestHost; f: ApiFixtures }) => c.f.orgs.lab;

const WRITES: WriteCase[] = [
  { action: 'package_create', role: 'editor', objectType: 'dataset', input: async ({ n }) => ({ name: `audited-${n}`, owner_org: 'lab' }), objectId: byResultId },
  { action: 'package_update', role: 'editor', objectType: 'dataset', input: async ({ t, f, n }) => ({ id: await makeDataset(t, f, `audited-${n}`), title: 'New' }), objectId: byInputId },
  { action: 'package_patch', role: 'editor', objectType: 'dataset', input: async ({ t, f, n }) => ({ id: await makeDataset(t, f, `audited-${n}`), notes: 'New' }), objectId: byInputId },
  { action: 'package_delete', role: 'editor', objectType: 'dataset', input: async ({ t, f, n }) => {
    await makeDataset(t, f, `audited-${n}`);
    return { id: `audited-${n}` };
  }, objectId: datasetId },
  { action: 'resource_create', role: 'editor', objectType: 'resource', input: async ({ t, f, n }) => {
    await makeDataset(t, f, `audited-${n}`);
    return { package_id: `audited-${n}`, name: 'b.csv' };
  }, objectId: byResultId },
  { action: 'resource_update', role: 'editor', objectType: 'resource', input: async ({ t, f, n }) => ({ id: await makeResource(t, f, `audited-${n}`), name: 'c.csv' }), objectId: byInputId },
  { action: 'resource_patch', role: 'editor', objectType: 'resource', input: async ({ t, f, n }) => ({ id: await makeResource(t, f, `audited-${n}`), description: 'd' }), objectId: byInputId },
  { action: 'resource_delete', role: 'editor', objectType: 'resource', input: async ({ t, f, n }) => ({ id: await makeResource(t, f, `audited-${n}`) }), objectId: byInputId },
  { action: 'organization_create', role: 'sysadmin', objectType: 'organization', input: async ({ n }) => ({ name: `org-${n}` }), objectId: byResultId },
  { action: 'organization_member_create', role: 'admin', objectType: 'organization', input: async ({ t, n }) => ({ id: 'lab', username: (await t.host.services.get(UserServiceId).create({ name: `joiner-${n}`, email: 'j@example.org' })).name, role: 'editor' }), objectId: labId },
  { action: 'organization_member_delete', role: 'admin', objectType: 'organization', input: async ({ t, f, n }) => {
    const user = await t.host.services.get(UserServiceId).create({ name: `leaver-${n}`, email: 'l@example.org' });
    assert.equal((await t.call('organization_member_create', { id: 'lab', username: user.name, role: 'member' }, { token: f.tokens.admin })).status, 200);
    return { id: 'lab', username: user.name };
  }, objectId: labId },
  { action: 'user_create', role: 'sysadmin', objectType: 'user', input: async ({ n }) => ({ name: `newcomer-${n}`, email: 'n@example.org', password: 'newcomers-secret-password' }), objectId: byResultId },
  { action: 'api_token_create', role: 'editor', objectType: 'api_token', input: async () => ({ user: 'editor-user', name: 'audited token' }), objectId: byResultId },
  { action: 'api_token_revoke', role: 'editor', objectType: 'api_token', input: async ({ t, f, n }) => {
    const created = await t.call('api_token_create', { user: 'editor-user', name: `to revoke ${n}` }, { token: f.tokens.editor });
    return { id: (created.body.result as { id: string }).id };
  }, objectId: byInputId },
];

for (const kind of databaseKinds()) {
  describe(`audit trail (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let n = 0;

    before(async () => {
      t = await startTestHost(kind, { extraConfig: '[http]\ntrust_proxy = true\n[auth]\nmax_failed_logins = 2\nlockout_minutes = 5\n' });
      f = await createApiFixtures(t);
    });
    after(async () => t.close());

    it('covers every core write action', () => {
      const writes = t.host.registries.actions.names().filter((name) => t.host.registries.actions.entry(name)?.plugin === 'core' && t.host.registries.actions.get(name)?.kind === 'write');
      assert.deepEqual(writes.filter((w) => !WRITES.some((c) => c.action === w)), []);
    });

    for (const write of WRITES) {
      it(`${write.action} records who, what, which object, when and from where`, async () => {
        const input = await write.input({ t, f, n: ++n });
        const before = await auditCount(t);
        const address = `198.51.100.${n}`;
        const { status, body } = await rawAction(t, write.action, { body: input, auth: f.tokens[write.role], address });
        assert.equal(status, 200, JSON.stringify(body));
        const events = (await auditEvents(t)).slice(before);
        assert.equal(events.length, 1, `one event per change: ${JSON.stringify(events)}`);
        const [event] = events;
        assert.equal(event!.action, write.action);
        assert.equal(event!.actor, f.users[write.role as 'editor' | 'admin' | 'sysadmin'].name);
        assert.equal(event!.actorId, f.users[write.role as 'editor' | 'admin' | 'sysadmin'].id);
        assert.equal(event!.objectType, write.objectType);
        assert.equal(event!.objectId, await write.objectId(input, body.result as Record<string, unknown>, { t, f }));
        assert.equal(event!.address, address);
        const at = new Date(event!.at).getTime();
        assert.ok(Number.isFinite(at) && Math.abs(at - Date.now()) < 10 * 60_000, `recorded when: ${String(event!.at)}`);
      });
    }

    it('behind a trusted proxy records the address the proxy saw, not one the client made up', async () => {
      const before = await auditCount(t);
      await rawAction(t, 'package_create', { body: { name: 'proxied-1', owner_org: 'lab' }, auth: f.tokens.editor, address: '10.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9' } });
      await rawAction(t, 'package_create', { body: { name: 'proxied-2', owner_org: 'lab' }, auth: f.tokens.editor, address: '10.0.0.2', headers: { 'x-forwarded-for': '6.6.6.6, 203.0.113.10' } });
      const events = (await auditEvents(t)).slice(before);
      assert.deepEqual(events.map((e) => e.address), ['203.0.113.9', '203.0.113.10']);
    });

    it('reads and refused or invalid writes record nothing', async () => {
      await makeDataset(t, f, 'quiet');
      const before = await auditCount(t);
      await t.call('package_show', { id: 'quiet' }, { method: 'GET', token: f.tokens.member });
      await t.call('package_search', { q: 'quiet' }, { method: 'GET' });
      await t.call('api_token_list', { user: 'editor-user' }, { method: 'GET', token: f.tokens.editor });
      await t.call('package_patch', { id: 'quiet', notes: 'x' }, { token: f.tokens.member });
      await t.call('package_patch', { id: 'quiet', colour: 'red' }, { token: f.tokens.editor });
      await t.call('package_create', { name: 'quiet', owner_org: 'lab' }, { token: f.tokens.editor });
      await t.call('user_create', { name: 'x', email: 'x', password: 'y' }, { token: f.tokens.sysadmin });
      assert.equal(await auditCount(t), before);
    });

    it('records a lockout, with the address the failed logins came from', async () => {
      const gina = await t.host.services.get(UserServiceId).create({ name: 'gina', email: 'g@example.org', password: 'ginas-password' });
      const before = await auditCount(t);
      for (let i = 0; i < 2; i++) await rawAction(t, 'status_show', { method: 'GET', auth: basicAuth('gina', `wrong-${i}`), address: '192.0.2.66' });
      const events = (await auditEvents(t)).slice(before);
      assert.equal(events.length, 1, JSON.stringify(events));
      assert.equal(events[0]!.action, 'user.lockout');
      assert.equal(events[0]!.objectType, 'user');
      assert.equal(events[0]!.objectId, gina.id);
      assert.equal(events[0]!.address, '192.0.2.66');
      assert.equal(JSON.stringify(events).includes('wrong-'), false, 'the passwords tried are not recorded');
    });

    it('never records a secret', async () => {
      const all = JSON.stringify(await auditEvents(t));
      assert.equal(all.includes('newcomers-secret-password'), false);
      assert.equal(all.includes('scrypt$'), false, 'nor a password hash');
      assert.equal(/plat_[a-z0-9]{12}_[A-Za-z0-9_-]{43}/.test(all), false, 'nor a token');
      for (const token of Object.values(f.tokens).filter(Boolean)) assert.equal(all.includes(token), false);
    });
  });
}
