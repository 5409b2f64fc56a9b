// What the platform takes from the address a request was sent to: browsers' writes with a
// password or session cookie must come from this site's own pages (`Origin`, against CSRF),
// and the `help` link of every answer names the host the client used unless site_url is set.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { basicAuth, tableCounts } from '../../helpers/api-fixtures.js';
import { ApiTokenServiceId, OrganizationServiceId, PasswordHasherId, UserServiceId } from '../../../core/services/service-ids.js';
import type { PasswordHashPool } from '../../../core/auth/password-hash-pool.js';
import type { ActionBody } from '../../helpers/test-host.js';

const PASSWORD = 'a-long-password';

for (const kind of databaseKinds()) {
  describe(`writes from other sites' pages (${kind})`, () => {
    let t: TestHost;
    let token: string;

    before(async () => {
      t = await startTestHost(kind, { env: { PLATFORM__PLATFORM__SITE_URL: 'https://data.example.org' } });
      const users = t.host.services.get(UserServiceId);
      const admin = await users.create({ name: 'admin', email: 'a@example.org', password: PASSWORD, sysadmin: true });
      await t.host.services.get(OrganizationServiceId).create({ name: 'lab' });
      token = (await t.host.services.get(ApiTokenServiceId).create(admin, 'test')).token;
    });
    after(async () => t.close());

    const create = async (name: string, headers: Record<string, string>, url = 'http://localhost') => {
      const response = await t.app.request(`${url}/api/3/action/package_create`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ name, owner_org: 'lab' }) });
      return { status: response.status, body: (await response.json()) as ActionBody };
    };

    it('refuses a write with Basic credentials from another Origin, before checking the password', async () => {
      const before = await tableCounts(t);
      const hashes = (t.host.services.get(PasswordHasherId) as PasswordHashPool).stats.computed;
      for (const origin of ['https://evil.example', 'null', 'http://data.example.org', 'https://data.example.org.evil.example']) {
        const answer = await create('from-elsewhere', { authorization: basicAuth('admin', PASSWORD), origin });
        assert.equal(answer.status, 403, `${origin}: ${JSON.stringify(answer.body)}`);
        assert.match(answer.body.error!.message, /only come from this site/);
      }
      assert.equal((t.host.services.get(PasswordHasherId) as PasswordHashPool).stats.computed, hashes, 'no password was checked');
      assert.deepEqual(await tableCounts(t), before);
    });

    it('refuses a write with cookies from another Origin', async () => {
      const answer = await create('cookie-from-elsewhere', { cookie: 'platform_session=x', origin: 'https://evil.example' });
      assert.equal(answer.status, 403);
    });

    it("accepts writes from the site's origin, from the host the request was sent to, without Origin, and with API tokens from anywhere", async () => {
      assert.equal((await create('from-site-url', { authorization: basicAuth('admin', PASSWORD), origin: 'https://data.example.org' })).status, 200);
      assert.equal((await create('from-request-host', { authorization: basicAuth('admin', PASSWORD), origin: 'http://127.0.0.1:5000' }, 'http://127.0.0.1:5000')).status, 200);
      assert.equal((await create('no-origin', { authorization: basicAuth('admin', PASSWORD) })).status, 200);
      assert.equal((await create('token-elsewhere', { authorization: token, origin: 'https://evil.example' })).status, 200);
    });

    it('links help under site_url when it is set', async () => {
      const answer = await t.app.request('http://127.0.0.1:5000/api/3/action/status_show');
      assert.equal(((await answer.json()) as ActionBody).help, 'https://data.example.org/api/3/action/help_show?name=status_show');
    });
  });

  describe(`help links without site_url (${kind})`, () => {
    let t: TestHost;
    before(async () => {
      t = await startTestHost(kind, { extraConfig: '[http]\ntrust_proxy = true\n' });
    });
    after(async () => t.close());

    const help = async (url: string, headers: Record<string, string> = {}) => ((await (await t.app.request(url, { headers })).json()) as ActionBody).help;

    it('names the scheme and host the request was sent to, on success and on failure', async () => {
      assert.equal(await help('http://127.0.0.1:5000/api/3/action/status_show'), 'http://127.0.0.1:5000/api/3/action/help_show?name=status_show');
      assert.equal(await help('http://localhost:8081/api/3/action/package_show?id=nothing'), 'http://localhost:8081/api/3/action/help_show?name=package_show');
    });

    it("takes the trusted proxy's X-Forwarded-Proto and X-Forwarded-Host", async () => {
      const link = await help('http://127.0.0.1:5000/api/3/action/status_show', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'data.example.org' });
      assert.equal(link, 'https://data.example.org/api/3/action/help_show?name=status_show');
      const odd = await help('http://127.0.0.1:5000/api/3/action/status_show', { 'x-forwarded-host': 'evil.example/path?x=' });
      assert.equal(odd, 'http://127.0.0.1:5000/api/3/action/help_show?name=status_show', 'a forwarded host that is not a host name is ignored');
    });
  });
}
