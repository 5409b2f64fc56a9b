// Password sign-in under attack: hashing runs on threads of its own, so a flood of failed
// logins cannot hold up file reads (libuv's shared threads); failed attempts are limited per
// client address and per name with a refusal that hashes nothing and says when to retry;
// unknown names are hashed like known ones; a full hashing queue answers 503 at once.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { basicAuth, rawAction } from '../../helpers/api-fixtures.js';
import { auditEvents } from '../../helpers/api-fixtures.js';
import { ApiTokenServiceId, OrganizationServiceId, PasswordHasherId, ResourceIntakeId, UserServiceId } from '../../../core/services/service-ids.js';
import type { PasswordHashPool } from '../../../core/auth/password-hash-pool.js';

const PASSWORD = 'a-long-password';

function hashesComputed(t: TestHost): number {
  return (t.host.services.get(PasswordHasherId) as PasswordHashPool).stats.computed;
}

for (const kind of databaseKinds()) {
  describe(`sign-in flood keeps downloads moving (${kind})`, () => {
    let t: TestHost;
    let url: string;
    const content = randomBytes(4 * 1024 * 1024);

    before(async () => {
      t = await startTestHost(kind, {
        pluginNames: ['depot-fs'],
        extraConfig: '[auth]\nlogin_failures_per_address = 0\nlogin_failures_per_name = 0\nhash_threads = 1\nhash_queue = 1000\n',
      });
      const users = t.host.services.get(UserServiceId);
      const orgs = t.host.services.get(OrganizationServiceId);
      const editor = await users.create({ name: 'editor', email: 'e@example.org' });
      const org = await orgs.create({ name: 'lab' });
      await orgs.setMember(org.id, editor.id, 'editor');
      const token = (await t.host.services.get(ApiTokenServiceId).create(editor, 'test')).token;
      assert.equal((await t.call('package_create', { name: 'cells', owner_org: 'lab' }, { token })).status, 200);
      const resource = await t.call('resource_create', { package_id: 'cells', name: 'cells.bin' }, { token });
      const id = (resource.body.result as { id: string }).id;
      await t.host.services.get(ResourceIntakeId).storeStream(id, Readable.from([content]), { size: content.length }, { actor: { kind: 'user', user: { id: editor.id, name: editor.name, sysadmin: false } }, protocol: 'test' });
      url = `/dataset/cells/resource/${id}/download/cells.bin`;
    });
    after(async () => t.close());

    it('a download started during 24 failed sign-ins finishes before most of them', async () => {
      // Async scrypt would run on libuv's 4 threads, ahead of the download's file reads:
      // the download would finish after nearly every hash. On threads of their own, the
      // hashes wait for each other, not the download. (Ordering, not time: the machine may be slow.)
      let finished = 0;
      const flood = Array.from({ length: 24 }, (_, i) =>
        rawAction(t, 'status_show', { method: 'GET', auth: basicAuth(`made-up-${i}`, 'guess'), address: `192.0.2.${i + 1}` }).then((answer) => {
          finished++;
          return answer;
        }),
      );
      const response = await t.app.request(url);
      assert.equal(response.status, 200);
      assert.equal(Buffer.from(await response.arrayBuffer()).length, content.length);
      const finishedAtDownload = finished;
      const answers = await Promise.all(flood);
      assert.ok(answers.every((a) => a.status === 403), JSON.stringify(answers.map((a) => a.status)));
      assert.ok(finishedAtDownload < 12, `the download waited for ${finishedAtDownload} of 24 password hashes`);
    });
  });

  describe(`sign-in limits (${kind})`, () => {
    let t: TestHost;

    before(async () => {
      t = await startTestHost(kind, {
        extraConfig: '[http]\ntrust_proxy = true\n[auth]\nmax_failed_logins = 100\nlogin_failures_per_address = 3\nlogin_failures_per_name = 4\nlogin_window_seconds = 3600\nhash_threads = 1\nhash_queue = 0\n',
      });
      const users = t.host.services.get(UserServiceId);
      await users.create({ name: 'carol', email: 'c@example.org', password: PASSWORD });
      await users.create({ name: 'dave', email: 'd@example.org', password: PASSWORD });
    });
    after(async () => t.close());

    const login = (name: string, password: string, address: string) =>
      rawAction(t, 'status_show', { method: 'GET', auth: basicAuth(name, password), headers: { 'x-forwarded-for': address } });

    it('refuses an address after its failures with 429 and Retry-After, without hashing', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await login(`nobody-${i}`, 'guess', '198.51.100.1')).status, 403);
      const before = hashesComputed(t);
      const refused = await login('nobody-x', 'guess', '198.51.100.1');
      assert.equal(refused.status, 429, JSON.stringify(refused.body));
      assert.equal(refused.body.error!.__type, 'Too Many Requests');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After: ${refused.headers.get('retry-after')}`);
      // Even the right password waits: the limit is on the address, checked before anything else.
      assert.equal((await login('carol', PASSWORD, '198.51.100.1')).status, 429);
      assert.equal(hashesComputed(t), before, 'a refused attempt hashes nothing');
      // Another address is not affected.
      assert.equal((await login('carol', PASSWORD, '198.51.100.2')).status, 200);
    });

    it('limits failures for one name from many addresses, and counts an IPv6 /64 as one address', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await login('dave', `guess-${i}`, `203.0.113.${i + 1}`)).status, 403);
      const refused = await login('dave', PASSWORD, '203.0.113.50');
      assert.equal(refused.status, 429);
      assert.match(refused.body.error!.message, /user name/);
      for (let i = 0; i < 3; i++) assert.equal((await login(`v6-${i}`, 'guess', `2001:db8:1:2::${i + 1}`)).status, 403);
      assert.equal((await login('v6-x', 'guess', '2001:db8:1:2:ffff::9')).status, 429);
    });

    it('successful sign-ins never use up the allowance', async () => {
      for (let i = 0; i < 10; i++) assert.equal((await login('carol', PASSWORD, '198.51.100.7')).status, 200);
    });

    it('hashes unknown names as known ones, and answers all refusals alike', async () => {
      const before = hashesComputed(t);
      const unknown = await login('no-such-user', 'guess', '198.51.100.20');
      assert.equal(hashesComputed(t), before + 1, 'an unknown name costs one hash, as a known one does');
      const wrong = await login('carol', 'guess', '198.51.100.21');
      assert.equal(hashesComputed(t), before + 2);
      assert.equal(unknown.status, 403);
      assert.equal(unknown.body.error!.message, wrong.body.error!.message);
    });

    it('answers 503 with Retry-After when the hashing queue is full, without counting it as a failure', async () => {
      // One thread, no queue: of six sign-ins at once, at least one finds the thread busy.
      const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => login(`someone-${i}`, 'guess', `198.51.100.${100 + i}`)));
      const statuses = JSON.stringify(answers.map((a) => a.status));
      const busy = answers.filter((a) => a.status === 503);
      assert.ok(busy.length >= 1, statuses);
      assert.ok(busy.every((a) => Number(a.headers.get('retry-after')) >= 1 && a.body.error!.__type === 'Service Unavailable'));
      assert.ok(answers.every((a) => a.status === 403 || a.status === 503), statuses);
      // A busy refusal is not the caller's failure: it leaves the address's allowance alone.
      const address = `198.51.100.${100 + answers.findIndex((a) => a.status === 503)}`;
      for (let i = 0; i < 3; i++) assert.equal((await login(`later-${i}`, 'guess', address)).status, 403);
    });
  });

  describe(`guessing a name from elsewhere does not lock its owner out (${kind})`, () => {
    let t: TestHost;

    before(async () => {
      t = await startTestHost(kind, {
        extraConfig: '[http]\ntrust_proxy = true\n[auth]\nmax_failed_logins = 3\nlockout_minutes = 60\nlogin_failures_per_address = 10\nlogin_failures_per_name = 4\nlogin_window_seconds = 3600\n',
      });
      await t.host.services.get(UserServiceId).create({ name: 'erin', email: 'e@example.org', password: PASSWORD });
    });
    after(async () => t.close());

    const login = (password: string, address: string) =>
      rawAction(t, 'status_show', { method: 'GET', auth: basicAuth('erin', password), headers: { 'x-forwarded-for': address } });

    it('the owner signs in where they signed in before, while the account stays locked for every other address', async () => {
      const home = '198.51.100.30';
      assert.equal((await login(PASSWORD, home)).status, 200);
      const guesses = [];
      for (let i = 0; i < 4; i++) guesses.push(await login(`guess-${i}`, `203.0.113.${i + 1}`));
      assert.ok(guesses.every((g) => g.status === 403), JSON.stringify(guesses.map((g) => g.status)));
      const erinId = (await t.host.services.get(UserServiceId).get('erin')).id;
      assert.equal((await auditEvents(t, 'user.lockout')).filter((e) => e.objectId === erinId).length, 1, 'the lock is told to the owner through the audit trail');
      // A stranger with the right password (or the name's limit) is refused as any wrong password is.
      const stranger = await login(PASSWORD, '192.0.2.77');
      assert.ok(stranger.status === 403 || stranger.status === 429, JSON.stringify(stranger.body));
      assert.ok([403, 429].includes((await login(PASSWORD, '203.0.113.1')).status), 'an attacking address stays locked out');
      // The owner's address is neither name-limited nor locked.
      const home1 = await login(PASSWORD, home);
      assert.equal(home1.status, 200, JSON.stringify(home1.body));
      assert.equal((await login(PASSWORD, home)).status, 200);
      assert.ok([403, 429].includes((await login(PASSWORD, '203.0.113.2')).status), 'the owner signing in does not lift the lock for others');
      // A failure at the known address makes it an address like any other.
      assert.equal((await login('typo', home)).status, 403);
      assert.ok([403, 429].includes((await login(PASSWORD, home)).status));
    });
  });
}
