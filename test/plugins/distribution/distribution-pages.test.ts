// The distribution pages: history with states in words (sent, then archived), the files that
// wait and why, the unacknowledged ones, a file's life line with who acknowledged it, sending a
// failed delivery again; sysadmins only, as the distribution actions. The trail is written
// through the plugin's store, as intake and delivery write it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { runCli } from '../../helpers/run-cli.js';
import { WebClient } from '../../helpers/web-client.js';
import { JobQueueId, UserServiceId } from '../../../core/services/service-ids.js';
import type { DistributedFile } from '../../../plugins/distribution/distribution-store.js';
import { distributionPages } from '../../../plugins/distribution/distribution-pages.js';
import { runWebPageContract } from '../../contracts/web-pages.js';

for (const kind of databaseKinds()) {
  describe(`distribution pages (${kind})`, () => {
    let d: DistributionHost;
    let admin: WebClient;
    let failed: DistributedFile;
    let acked: DistributedFile;
    let f: ApiFixtures;

    before(async () => {
      d = await startDistributionHost(kind, { rules: () => ({ destinations: { local: { kind: 'folder', path: 'remote-local' } }, rules: [{ label: 'bhs', pattern: '^(?<site>[A-Z]{3})\\d+', capture: 'site' }] }) });
      f = await createApiFixtures(d.t);
      const users = d.t.host.services.get(UserServiceId);
      await users.setPassword('sysadmin-user', 'sysadmin password 1');
      await users.setPassword('member-user', 'member password 1');
      const make = async (name: string): Promise<DistributedFile> => {
        const got = await d.store.receive({ name, source: 'cli', size: 10, sha256: name.padEnd(64, '0').slice(0, 64).replace(/[^0-9a-f]/g, 'a') }, { kind: 'received', actor: 'cli' });
        assert.ok('file' in got);
        return got.file;
      };
      acked = await make('BHS0001.pdf');
      await d.store.update(acked.id, { state: 'sent', label: 'bhs', folder: 'bhs', destination: 'local', sentAt: new Date() }, { kind: 'sent', detail: 'to local:bhs' });
      await d.store.update(acked.id, { state: 'archived', archivedAt: new Date() }, { kind: 'archived' });
      await d.store.acknowledge((await d.store.get(acked.id))!, { actor: 'dr-who', at: new Date(), address: '192.0.2.7', via: 'webdav log', user: 'dr-who', userAgent: 'Mozilla/5.0 ward-3' });
      const unacked = await make('BHS0002.pdf');
      await d.store.update(unacked.id, { state: 'sent', label: 'bhs', folder: 'bhs', destination: 'local', sentAt: new Date() }, { kind: 'sent' });
      failed = await make('BHS0003.pdf');
      await d.store.update(failed.id, { state: 'failed', label: 'bhs', destination: 'local', reason: 'the WebDAV server answered 507' }, { kind: 'failed', detail: 'the WebDAV server answered 507' });
      admin = new WebClient(d.t.app);
      assert.equal((await admin.signIn('sysadmin-user', 'sysadmin password 1')).status, 303);
    });
    after(async () => d?.close());

    it('lists every file with its state in words, label, folder and who acknowledged it', async () => {
      const page = await admin.request('/distribution');
      assert.equal(page.status, 200);
      assert.match(page.text, /3 files/);
      assert.match(page.text, /BHS0001\.pdf<\/a><\/td><td>sent, then archived, acknowledged<\/td>/);
      assert.match(page.text, /by dr-who/);
      const searched = await admin.request('/distribution?name=0002');
      assert.match(searched.text, /1 file</);
      assert.match(searched.text, /BHS0002\.pdf/);
    });

    it('shows the files that wait with the reason, and those sent but never acknowledged', async () => {
      const pending = await admin.request('/distribution?view=pending');
      assert.match(pending.text, /BHS0003\.pdf/);
      assert.match(pending.text, /the WebDAV server answered 507/);
      assert.doesNotMatch(pending.text, /BHS0001\.pdf/);
      const unacked = await admin.request('/distribution?view=unacknowledged');
      assert.match(unacked.text, /BHS0002\.pdf/);
      assert.doesNotMatch(unacked.text, /BHS0001\.pdf/);
    });

    it("shows a file's life line, and sends a failed one again", async () => {
      const life = await admin.request(`/distribution/file/${acked.id}`);
      assert.equal(life.status, 200);
      const kinds = [...life.text.matchAll(/<li><strong>([a-z]+)<\/strong>/g)].map((m) => m[1]);
      assert.deepEqual(kinds, ['received', 'sent', 'archived', 'acknowledged']);
      assert.match(life.text, /acknowledged<\/strong> [^<]* by dr-who from 192\.0\.2\.7 \(user dr-who, with Mozilla\/5\.0 ward-3\)/, 'the user agent and the authenticated user tell recipients behind one address apart');
      const page = await admin.request(`/distribution/file/${failed.id}`);
      assert.match(page.text, /Send again/);
      const queue = d.t.host.services.get(JobQueueId);
      const before = (await queue.list({ limit: 1000 })).length;
      const sent = await admin.request(`/distribution/file/${failed.id}/resend`, { form: { _csrf: WebClient.csrfOf(page.text) } });
      assert.equal(sent.status, 303);
      assert.ok((await queue.list({ limit: 1000 })).length > before, 'a delivery job is queued');
      const refused = await admin.request(`/distribution/file/${acked.id}/resend`, { form: { _csrf: WebClient.csrfOf(page.text) } });
      assert.equal(refused.status, 400);
    });

    it('is for site administrators only, as the distribution actions', async () => {
      const member = new WebClient(d.t.app);
      await member.signIn('member-user', 'member password 1');
      assert.equal((await member.request('/distribution')).status, 403);
      assert.equal((await member.request(`/distribution/file/${acked.id}`)).status, 403);
      assert.doesNotMatch((await member.request('/')).text, /href="\/distribution"/, 'the navigation links it for site administrators only');
      assert.match((await admin.request('/')).text, /href="\/distribution"/);
      const anonymous = await new WebClient(d.t.app).request('/distribution');
      assert.equal(anonymous.status, 303, 'anonymous visitors are sent to sign in');
      assert.equal(anonymous.headers.get('location'), '/user/login?next=%2Fdistribution');
    });

    it('lets lab staff granted from the CLI read the trail, but not hold, re-send or fetch the archive', async () => {
      const staff = (...args: string[]) => runCli(['--config', d.t.configFile, 'distribution', 'staff', ...args]);
      const granted = await staff('add', 'member-user');
      assert.equal(granted.status, 0, granted.stderr);
      assert.match((await staff('list')).stdout, /member-user/);
      const member = new WebClient(d.t.app);
      await member.signIn('member-user', 'member password 1');
      assert.match((await member.request('/')).text, /href="\/distribution"/, 'the navigation links it for lab staff');
      const list = await member.request('/distribution?view=unacknowledged');
      assert.equal(list.status, 200);
      assert.match(list.text, /BHS0002\.pdf/);
      const life = await member.request(`/distribution/file/${acked.id}`);
      assert.equal(life.status, 200);
      assert.match(life.text, /acknowledged<\/strong> [^<]* by dr-who from 192\.0\.2\.7/);
      assert.doesNotMatch(life.text, /Download the archived file/);
      const failedPage = await member.request(`/distribution/file/${failed.id}`);
      assert.doesNotMatch(failedPage.text, /Send again|>Hold</);
      assert.equal((await member.request(`/distribution/file/${failed.id}/resend`, { form: { _csrf: WebClient.csrfOf(failedPage.text) } })).status, 403);
      assert.equal((await member.request(`/distribution/file/${failed.id}/hold`, { form: { _csrf: WebClient.csrfOf(failedPage.text) } })).status, 403);
      assert.equal((await d.t.call('distribution_history', {}, { token: f.tokens.member, method: 'GET' })).status, 200);
      assert.equal((await d.t.call('distribution_acknowledgements', {}, { token: f.tokens.member, method: 'GET' })).status, 200);
      assert.equal((await d.t.call('distribution_hold', { id: failed.id }, { token: f.tokens.member })).status, 403);
      assert.equal((await d.t.call('distribution_history', {}, { token: f.tokens.editor, method: 'GET' })).status, 403, 'others are still refused');
      assert.equal((await staff('remove', 'member-user')).status, 0);
      assert.equal((await d.t.call('distribution_history', {}, { token: f.tokens.member, method: 'GET' })).status, 403, 'taken back');
      assert.notEqual((await staff('add', 'nobody-here')).status, 0);
    });
  });
}

for (const kind of databaseKinds()) {
  describe(`distribution pages keep the WebPage contract (${kind})`, () => {
    runWebPageContract({
      name: `distribution (${kind})`,
      page: distributionPages(() => { throw new Error('not used'); }),
      paths: ['/distribution', '/distribution?view=pending', '/distribution?view=unacknowledged'],
      async start() {
        const d = await startDistributionHost(kind, { rules: () => ({ destinations: { local: { kind: 'folder', path: 'remote-local' } }, rules: [{ label: 'bhs', pattern: '^(?<site>[A-Z]{3})\\d+', capture: 'site' }] }) });
        await createApiFixtures(d.t);
        const users = d.t.host.services.get(UserServiceId);
        await users.setPassword('sysadmin-user', 'sysadmin password 1');
        await users.setPassword('member-user', 'member password 1');
        const allowed = new WebClient(d.t.app);
        await allowed.signIn('sysadmin-user', 'sysadmin password 1');
        const refused = new WebClient(d.t.app);
        await refused.signIn('member-user', 'member password 1');
        return { app: d.t.app, allowed, refused, close: () => d.close() };
      },
    });
  });
}
