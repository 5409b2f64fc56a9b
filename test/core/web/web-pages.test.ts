// The web pages through app.request(): sign-in with sessions and CSRF, the permission rules
// of the API (a private dataset is a 404 to an outsider), search, the dataset page, API
// tokens on the account page, and the admin page; on SQLite and PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { auditEvents, basicAuth, createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { WebClient } from '../../helpers/web-client.js';
import { markupProblems } from '../../contracts/web-pages.js';
import { runCli } from '../../helpers/run-cli.js';
import { fileURLToPath } from 'node:url';
import { readAccessTokenFile } from '../../../core/auth/access-token-file.js';

const serverCert = fileURLToPath(new URL('../../../../test/fixtures/tls/server.cert', import.meta.url));
import { QueryTypes } from 'sequelize';
import { DatabaseId, UserServiceId } from '../../../core/services/service-ids.js';

for (const kind of databaseKinds()) {
  describe(`web pages (${kind})`, () => {
    let t: TestHost;
    let f: ApiFixtures;
    before(async () => {
      t = await startTestHost(kind, { extraConfig: `[inspect]\ntls_certificate = ${serverCert}\n` });
      f = await createApiFixtures(t);
      const users = t.host.services.get(UserServiceId);
      await users.setPassword('member-user', 'member password 1');
      await users.setPassword('editor-user', 'editor password 1');
      await users.setPassword('other-user', 'other password 1');
      await users.setPassword('sysadmin-user', 'sysadmin password 1');
      for (const [name, priv] of [['open-data', false], ['secret-data', true]] as const) {
        const { status, body } = await t.call('package_create', { name, title: `Title of ${name}`, notes: `About ${name}`, owner_org: 'lab', private: priv, license_id: 'CC-BY-4.0', tags: [{ name: 'cells' }] }, { token: f.tokens.editor });
        assert.equal(status, 200, JSON.stringify(body));
      }
    });
    after(async () => t.close());

    it('serves the search page with lang, a strict CSP and no inline script', async () => {
      const page = await new WebClient(t.app).request('/');
      assert.equal(page.status, 200);
      assert.match(page.text, /^<!doctype html><html lang="en">/);
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline/);
      assert.doesNotMatch(page.text, /<script(?![^>]*\ssrc=)[^>]*>/, 'every script comes from a file');
      assert.doesNotMatch(page.text, /\sstyle="/, 'no inline styles');
      assert.match(page.text, /Title of open-data/);
      assert.doesNotMatch(page.text, /secret-data/, 'anonymous visitors do not see private datasets');
      assert.match(page.text, /1 dataset found/);
    });

    it('refuses a form without its CSRF token, and a token of another visitor', async () => {
      const client = new WebClient(t.app);
      await client.request('/user/login');
      const missing = await client.request('/user/login', { form: { name: 'member-user', password: 'member password 1' } });
      assert.equal(missing.status, 403);
      assert.match(missing.text, /CSRF/);
      const stranger = new WebClient(t.app);
      const foreign = WebClient.csrfOf((await stranger.request('/user/login')).text);
      const wrong = await client.request('/user/login', { form: { _csrf: foreign, name: 'member-user', password: 'member password 1' } });
      assert.equal(wrong.status, 403);
      assert.equal([...client.cookies.keys()].some((k) => k.includes('session')), false);
    });

    it('signs in with name and password into an HttpOnly SameSite=Lax session stored hashed, and signs out', async () => {
      const client = new WebClient(t.app);
      const bad = await client.signIn('member-user', 'wrong');
      assert.equal(bad.status, 400);
      assert.match(bad.text, /wrong user name or password/);
      const login = await client.signIn('member-user', 'member password 1');
      assert.equal(login.status, 303);
      assert.equal(login.headers.get('location'), '/account');
      const cookie = login.headers.getSetCookie().find((c) => c.startsWith('platform_session='))!;
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      const secret = client.cookies.get('platform_session')!;
      const rows = await t.host.services.get(DatabaseId).sequelize.query<{ hash: string }>('SELECT hash FROM web_sessions', { type: QueryTypes.SELECT });
      assert.ok(rows.length >= 1);
      assert.ok(rows.every((r) => r.hash !== secret && !r.hash.includes(secret)), 'only a hash of the secret is stored');
      const account = await client.request('/account');
      assert.equal(account.status, 200);
      assert.match(account.text, /Signed in as <strong>member-user<\/strong>/);
      const out = await client.request('/user/logout', { form: { _csrf: WebClient.csrfOf(account.text) } });
      assert.equal(out.status, 303);
      const after = await client.request('/account');
      assert.equal(after.status, 303);
      assert.match(after.headers.get('location') ?? '', /^\/user\/login\?next=%2Faccount/);
      // The old cookie is dead in the database too, not only forgotten by this browser.
      const replay = new WebClient(t.app);
      replay.cookies.set('platform_session', secret);
      assert.equal((await replay.request('/account')).status, 303);
    });

    it('marks cookies Secure with the __Host- prefix behind TLS', async () => {
      const client = new WebClient(t.app);
      const page = await client.request('https://data.example.org/user/login');
      const csrf = page.headers.getSetCookie().find((c) => c.startsWith('__Host-csrf='));
      assert.ok(csrf, page.headers.getSetCookie().join(' | '));
      assert.match(csrf, /Secure/);
      const login = await client.request('https://data.example.org/user/login', { form: { _csrf: WebClient.csrfOf(page.text), name: 'member-user', password: 'member password 1' } });
      assert.equal(login.status, 303);
      assert.match(login.headers.getSetCookie().find((c) => c.startsWith('__Host-session=')) ?? '', /Secure; SameSite=Lax/);
    });

    it('shows a private dataset to a member and answers 404 to an outsider, as the API does', async () => {
      const member = new WebClient(t.app);
      await member.signIn('member-user', 'member password 1');
      const seen = await member.request('/dataset/secret-data');
      assert.equal(seen.status, 200);
      assert.match(seen.text, /About secret-data/);
      const outsider = new WebClient(t.app);
      await outsider.signIn('other-user', 'other password 1');
      const refused = await outsider.request('/dataset/secret-data');
      assert.equal(refused.status, 404);
      assert.doesNotMatch(refused.text, /About secret-data/);
      assert.equal((await new WebClient(t.app).request('/dataset/secret-data')).status, 404);
      const search = await member.request('/dataset?q=secret');
      assert.match(search.text, /Title of secret-data/);
    });

    it('does not let a session cookie alone write through the API: the page token must come with it', async () => {
      const client = new WebClient(t.app);
      const login = await client.signIn('member-user', 'member password 1');
      assert.equal(login.status, 303);
      const page = await client.request('/account');
      const body = JSON.stringify({ user: 'member-user', name: 'forged' });
      const forged = await client.request('/api/3/action/api_token_create', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(forged.status, 403, forged.text);
      const allowed = await client.request('/api/3/action/api_token_create', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': WebClient.csrfOf(page.text) }, body });
      assert.equal(allowed.status, 200, allowed.text);
    });

    it('lists API tokens newest first, shows a new one once, and revokes', async () => {
      const client = new WebClient(t.app);
      await client.signIn('member-user', 'member password 1');
      let page = await client.request('/account');
      const created = await client.request('/account/tokens', { form: { _csrf: WebClient.csrfOf(page.text), name: 'laptop', expires_days: '30' } });
      assert.equal(created.status, 200);
      const secret = /<p class="secret" id="new-token">([^<]+)<\/p>/.exec(created.text)?.[1];
      assert.match(secret ?? '', /^plat_/);
      page = await client.request('/account');
      assert.doesNotMatch(page.text, new RegExp(secret!), 'the secret is shown once');
      const names = [...page.text.matchAll(/<tr><td>([^<]+)<\/td><td><code>/g)].map((m) => m[1]);
      assert.equal(names[0], 'laptop', 'the newest token comes first');
      const id = /action="\/account\/tokens\/([^/]+)\/revoke"/.exec(page.text)![1]!;
      const revoked = await client.request(`/account/tokens/${id}/revoke`, { form: { _csrf: WebClient.csrfOf(page.text) } });
      assert.equal(revoked.status, 303);
      const { status } = await t.call('package_search', {}, { token: secret! });
      assert.equal(status, 403);
    });

    it('opens the admin page to site administrators only', async () => {
      const member = new WebClient(t.app);
      await member.signIn('member-user', 'member password 1');
      assert.equal((await member.request('/admin')).status, 403);
      const admin = new WebClient(t.app);
      await admin.signIn('sysadmin-user', 'sysadmin password 1');
      const page = await admin.request('/admin');
      assert.equal(page.status, 200);
      assert.match(page.text, /member-user/);
      assert.match(page.text, /The Lab/);
    });

    it('creates a draft dataset from the form as an editor (a member is refused, as in the API) and opens its upload page', async () => {
      const member = new WebClient(t.app);
      await member.signIn('member-user', 'member password 1');
      const form = await member.request('/dataset/new');
      assert.equal(form.status, 200);
      const refused = await member.request('/dataset/new', { form: { _csrf: WebClient.csrfOf(form.text), name: 'from-the-web', owner_org: 'lab' } });
      assert.equal(refused.status, 403);
      const editor = new WebClient(t.app);
      await editor.signIn('editor-user', 'editor password 1');
      let page = await editor.request('/dataset/new');
      const bad = await editor.request('/dataset/new', { form: { _csrf: WebClient.csrfOf(page.text), name: 'Not A Slug!', owner_org: 'lab' } });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /role="alert"/);
      page = await editor.request('/dataset/new');
      const made = await editor.request('/dataset/new', { form: { _csrf: WebClient.csrfOf(page.text), name: 'from-the-web', title: 'From the web', owner_org: 'lab', tags: 'a, b' } });
      assert.equal(made.status, 303, made.text);
      assert.equal(made.headers.get('location'), '/dataset/from-the-web/upload');
      const upload = await editor.request('/dataset/from-the-web/upload');
      assert.equal(upload.status, 200);
      assert.match(upload.text, /src="\/assets\/core\/tus.min.js"/);
      const script = await editor.request('/assets/core/upload.js');
      assert.equal(script.status, 200);
      assert.match(script.headers.get('content-type') ?? '', /javascript/);
      const { body } = await t.call('package_show', { id: 'from-the-web' }, { token: f.tokens.editor });
      assert.equal((body.result as { state: string }).state, 'draft');
    });

    it("keeps core's own pages to the markup rules plugins are held to (CSP, labels, CSRF fields)", async () => {
      const admin = new WebClient(t.app);
      await admin.signIn('sysadmin-user', 'sysadmin password 1');
      for (const path of ['/', '/dataset?q=data', '/dataset/open-data', '/dataset/new', '/account', '/admin', '/user/login', '/dataset/from-the-web/upload']) {
        const page = await admin.request(path);
        assert.equal(page.status, 200, path);
        assert.deepEqual(markupProblems(page.text), [], path);
      }
    });

    it('makes an access-token file for a user on the admin page: the password shown once, the file handed over in the answer', async () => {
      const admin = new WebClient(t.app);
      await admin.signIn('sysadmin-user', 'sysadmin password 1');
      const page = await admin.request('/admin');
      const answer = await admin.request('/admin/access-token', { form: { _csrf: WebClient.csrfOf(page.text), user: 'member-user', expires_days: '7' } });
      assert.equal(answer.status, 200, answer.text.slice(0, 500));
      const password = /<p class="secret" id="access-token-password">([^<]+)<\/p>/.exec(answer.text)?.[1];
      const data = /href="data:application\/octet-stream;base64,([^"]+)"/.exec(answer.text)?.[1];
      assert.ok(password && data);
      assert.match(answer.text, /download="member-user.dcor-access"/);
      const contents = await readAccessTokenFile(Buffer.from(data, 'base64'), password);
      const { status } = await t.call('package_search', {}, { token: contents.apiKey });
      assert.equal(status, 200, 'the key in the file works');
      assert.equal((await admin.request('/admin')).text.includes(password), false, 'the password is not shown again');
      const member = new WebClient(t.app);
      await member.signIn('member-user', 'member password 1');
      const own = await member.request('/account');
      const refused = await member.request('/admin/access-token', { form: { _csrf: WebClient.csrfOf(own.text), user: 'member-user' } });
      assert.equal(refused.status, 403);
    });

    it('shows the last report of platform inspect on the admin page', async () => {
      const admin = new WebClient(t.app);
      await admin.signIn('sysadmin-user', 'sysadmin password 1');
      assert.match((await admin.request('/admin')).text, /No report yet/);
      const run = await runCli(['--config', t.configFile, 'inspect', '--json', '--only', 'config,database,auth']);
      const report = JSON.parse(run.stdout) as { summary: { checks: number } };
      const page = await admin.request('/admin');
      assert.doesNotMatch(page.text, /No report yet/);
      assert.match(page.text, new RegExp(`\\(${report.summary.checks} checks, `));
    });

    it('ends a session after its idle time, and sweeps expired sessions at the next sign-in', async () => {
      const client = new WebClient(t.app);
      await client.signIn('member-user', 'member password 1');
      assert.equal((await client.request('/account')).status, 200);
      const db = t.host.services.get(DatabaseId).sequelize;
      await db.query('UPDATE web_sessions SET expires_at = $1', { bind: [new Date(Date.now() - 1000)], type: QueryTypes.UPDATE });
      assert.equal((await client.request('/account')).status, 303, 'an expired session signs nobody in');
      await db.query('UPDATE web_sessions SET expires_at = $1', { bind: [new Date(Date.now() - 1000)], type: QueryTypes.UPDATE });
      await new WebClient(t.app).signIn('member-user', 'member password 1');
      const rows = await db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM web_sessions', { type: QueryTypes.SELECT });
      assert.equal(Number(rows[0]!.n), 1, 'only the new session is left');
    });

    it('answers a browser a 404 page for a path with no page, and API clients CKAN\'s JSON', async () => {
      const page = await new WebClient(t.app).request('/no-such-page');
      assert.equal(page.status, 404);
      assert.match(page.text, /<html lang="en">/);
      const api = await t.app.request('/no-such-page');
      assert.equal(api.status, 404);
      assert.equal(((await api.json()) as { success: boolean }).success, false);
    });

    it('lets a site administrator add users, organisations and members, and manage another user\'s tokens', async () => {
      const admin = new WebClient(t.app);
      await admin.signIn('sysadmin-user', 'sysadmin password 1');
      const post = async (path: string, form: Record<string, string>) => {
        const page = await admin.request('/admin');
        return admin.request(path, { form: { _csrf: WebClient.csrfOf(page.text), ...form } });
      };
      let answer = await post('/admin/users', { name: 'new-person', email: 'new@example.org', password: 'a long enough password' });
      assert.equal(answer.status, 200);
      assert.match(answer.text, /User new-person added/);
      answer = await post('/admin/users', { name: 'new-person', email: 'new@example.org', password: 'a long enough password' });
      assert.ok(answer.status === 409 || answer.status === 400, String(answer.status));
      assert.match(answer.text, /role="alert"/);
      answer = await post('/admin/organizations', { name: 'web-org', title: 'Made on the web' });
      assert.match(answer.text, /Organisation web-org created/);
      answer = await post('/admin/members', { organization: 'web-org', user: 'new-person', role: 'editor' });
      assert.match(answer.text, /new-person is now editor of web-org/);
      assert.match(answer.text, /new-person \(editor\)/);
      answer = await post('/admin/members/remove', { organization: 'web-org', user: 'new-person' });
      assert.match(answer.text, /new-person removed from web-org/);
      assert.doesNotMatch(answer.text, /new-person \(editor\)/);
      const tokens = await admin.request('/admin/users/new-person');
      assert.equal(tokens.status, 200);
      const created = await admin.request('/admin/users/new-person/tokens', { form: { _csrf: WebClient.csrfOf(tokens.text), name: 'for the lab pc' } });
      const secret = /<p class="secret" id="new-token">([^<]+)<\/p>/.exec(created.text)?.[1];
      const { status, body } = await t.call('user_show', { id: 'new-person' }, { token: secret!, method: 'GET' });
      assert.equal(status, 200);
      assert.equal((body.result as { name: string }).name, 'new-person', 'the token acts as that user');
      assert.equal((await admin.request('/admin/users/nobody-here')).status, 404);
    });

    it('refuses a form body over [http] max_body_bytes before reading it', async () => {
      const client = new WebClient(t.app);
      const page = await client.request('/user/login');
      const big = await client.request('/user/login', { form: { _csrf: WebClient.csrfOf(page.text), name: 'x'.repeat(1_100_000), password: 'y' } });
      assert.equal(big.status, 413);
    });

    it('locks an account after repeated failed sign-ins, as the API\'s password login does, and audits the lockout', async () => {
      await t.host.services.get(UserServiceId).setPassword('admin-user', 'admin password 1');
      const client = new WebClient(t.app);
      const first = await client.signIn('admin-user', 'wrong 0');
      let last = first;
      for (let i = 1; i < 5; i++) last = await client.signIn('admin-user', `wrong ${i}`);
      assert.equal(last.status, 400);
      // The page says no more than the API does: every refusal alike, the lock in the audit trail.
      assert.match(last.text, /wrong user name or password/);
      const right = await client.signIn('admin-user', 'admin password 1');
      assert.equal(right.status, 400, 'the right password does not open a locked account');
      assert.match(right.text, /wrong user name or password/);
      assert.doesNotMatch(right.text, /locked/);
      const api = await t.call('status_show', {}, { headers: { authorization: basicAuth('admin-user', 'admin password 1') } });
      assert.equal(api.status, 403, 'the API sees the same lock');
      assert.equal((await auditEvents(t, 'user.lockout')).length, 1);
    });
  });
}
