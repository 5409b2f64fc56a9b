// API tokens and password logins: Bearer and bare tokens, last use recorded, secrets
// stored only as hashes and never in audit events or logs, lockout after repeated failed
// logins, and an audit event for every change.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { ApiTokenServiceId, DatabaseId, UserServiceId } from '../../../core/services/service-ids.js';

const basic = (name: string, password: string): string => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

for (const kind of databaseKinds()) {
  describe(`tokens, logins and audit (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind, { extraConfig: '[auth]\nmax_failed_logins = 3\nlockout_minutes = 10\n' });
      await t.host.services.get(UserServiceId).create({ name: 'carol', email: 'c@example.org', password: 'carols-password' });
    });
    after(async () => t.close());

    it('issues a token once, stores only its hash, and accepts it bare or as Bearer', async () => {
      const created = await t.call('api_token_create', { user: 'carol', name: 'laptop' }, { token: basic('carol', 'carols-password') });
      assert.equal(created.status, 200);
      const { token, prefix } = created.body.result as { token: string; prefix: string };
      assert.match(token, /^plat_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
      const db = t.host.services.get(DatabaseId);
      const row = (await db.models.ApiToken.findOne({ where: { prefix } }))!.get({ plain: true });
      assert.notEqual(row.hash, token);
      assert.equal(JSON.stringify(row).includes(token.slice(`plat_${prefix}_`.length)), false, 'the secret part is stored nowhere');
      assert.equal((await t.call('user_show', { id: 'carol' }, { token, method: 'GET' })).status, 200);
      assert.equal((await t.call('user_show', { id: 'carol' }, { token: `Bearer ${token}`, method: 'GET' })).status, 200);
      const listed = (await t.call('api_token_list', { user: 'carol' }, { token, method: 'GET' })).body.result as Array<Record<string, unknown>>;
      assert.ok(listed[0]!.last_access, 'last use is recorded');
      assert.equal(JSON.stringify(listed).includes(token), false, 'lists never show the token');
    });

    it('refuses tampered tokens and revoked ones at once', async () => {
      const { token, prefix } = (await t.call('api_token_create', { user: 'carol', name: 'phone' }, { token: basic('carol', 'carols-password') })).body.result as { token: string; prefix: string };
      const tampered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      assert.equal((await t.call('user_show', { id: 'carol' }, { token: tampered, method: 'GET' })).status, 403);
      assert.equal((await t.call('api_token_revoke', { id: prefix }, { token })).status, 200);
      const after = await t.call('user_show', { id: 'carol' }, { token, method: 'GET' });
      assert.equal(after.status, 403);
      assert.match(after.body.error!.message, /revoked/);
    });

    it('locks an account after repeated failed logins, even against the right password', async () => {
      for (let i = 0; i < 2; i++) assert.equal((await t.call('user_show', { id: 'carol' }, { token: basic('carol', 'wrong'), method: 'GET' })).status, 403);
      const third = await t.call('user_show', { id: 'carol' }, { token: basic('carol', 'wrong'), method: 'GET' });
      assert.match(third.body.error!.message, /locked for 10 minutes/);
      const right = await t.call('user_show', { id: 'carol' }, { token: basic('carol', 'carols-password'), method: 'GET' });
      assert.equal(right.status, 403);
      assert.match(right.body.error!.message, /locked/);
      await t.host.services.get(UserServiceId).setPassword('carol', 'carols-new-password');
      assert.equal((await t.call('user_show', { id: 'carol' }, { token: basic('carol', 'carols-new-password'), method: 'GET' })).status, 200);
    });

    it('gives unknown users and wrong passwords the same answer', async () => {
      const unknown = await t.call('user_show', { id: 'carol' }, { token: basic('nobody', 'whatever'), method: 'GET' });
      const wrong = await t.call('user_show', { id: 'carol' }, { token: basic('carol', 'whatever-else'), method: 'GET' });
      assert.equal(unknown.body.error!.message, wrong.body.error!.message);
    });

    it('records who did what, from where, without secrets', async () => {
      const user = await t.host.services.get(UserServiceId).get('carol');
      const { token } = await t.host.services.get(ApiTokenServiceId).create(user, 'audit');
      const response = await t.app.request('/api/3/action/api_token_create', { method: 'POST', headers: { authorization: token, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'carol', name: 'audited' }) });
      const created = ((await response.json()) as { result: { token: string } }).result.token;
      const events = (await t.host.services.get(DatabaseId).models.AuditEvent.findAll({ where: { action: 'api_token_create' } })).map((e) => e.get({ plain: true }));
      const last = events.at(-1)!;
      assert.equal(last.actor, 'carol');
      assert.equal(last.objectType, 'api_token');
      assert.ok(last.at instanceof Date || typeof last.at === 'string');
      const everything = JSON.stringify(events) + JSON.stringify(t.logs);
      assert.equal(everything.includes(created), false);
      assert.equal(everything.includes(token), false);
      assert.equal(everything.includes('carols-password'), false);
    });
  });
}
