// Following a delivery in a real browser (Debian's Chromium through playwright-core): a site
// administrator signs in, opens Distribution from the navigation, finds a file by name, reads
// its life line (sent, archived, acknowledged by whom), and sends a failed delivery again.
// The trail is written through the plugin's store, as intake and delivery write it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { databaseKinds } from '../../helpers/test-databases.js';
import { runCli } from '../../helpers/run-cli.js';
import { createApiFixtures } from '../../helpers/api-fixtures.js';
import { chromiumMissing, launchChromium, serveOnPort } from '../../helpers/chromium.js';
import { startDistributionHost, type DistributionHost } from './distribution-fixture.js';
import { JobQueueId, UserServiceId } from '../../../core/services/service-ids.js';

const results = fileURLToPath(new URL('../../../../test-results/', import.meta.url));

for (const kind of databaseKinds()) {
  describe(`following a delivery in Chromium (${kind})`, { skip: chromiumMissing() }, () => {
    let d: DistributionHost;
    let server: Awaited<ReturnType<typeof serveOnPort>>;
    let browser: Awaited<ReturnType<typeof launchChromium>>;
    let page: Page;

    before(async () => {
      d = await startDistributionHost(kind, { rules: () => ({ destinations: { local: { kind: 'folder', path: 'remote-local' } }, rules: [{ label: 'bhs', pattern: '^(?<site>[A-Z]{3})\\d+', capture: 'site' }] }) });
      await createApiFixtures(d.t);
      await d.t.host.services.get(UserServiceId).setPassword('sysadmin-user', 'sysadmin password 1');
      const make = async (name: string) => {
        const got = await d.store.receive({ name, source: 'drop', size: 1234 }, { kind: 'received', actor: 'drop folder' });
        assert.ok('file' in got);
        return got.file;
      };
      const sent = await make('BHS0042_result.pdf');
      await d.store.update(sent.id, { state: 'sent', label: 'bhs', folder: 'bhs', destination: 'local', sentAt: new Date() }, { kind: 'sent', detail: 'to local:bhs' });
      await d.store.update(sent.id, { state: 'archived', archivedAt: new Date() }, { kind: 'archived' });
      await d.store.acknowledge((await d.store.get(sent.id))!, { actor: 'ward-7', at: new Date(), address: '192.0.2.9', via: 'webdav log' });
      const failed = await make('BHS0043_result.pdf');
      await d.store.update(failed.id, { state: 'failed', label: 'bhs', destination: 'local', reason: 'the folder was not writable' }, { kind: 'failed', detail: 'the folder was not writable' });
      const routed = await make('BHS0044_result.pdf');
      await d.store.update(routed.id, { state: 'routed', label: 'bhs', folder: 'bhs', destination: 'local' }, { kind: 'routed', detail: 'rule bhs, tag BHS' });
      server = await serveOnPort(d.t.app);
      browser = await launchChromium();
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await d?.close();
    });

    it('finds a delivered file, reads who acknowledged it, and sends a failed one again', async () => {
      mkdirSync(results, { recursive: true });
      await page.goto(`${server.base}/user/login?next=/`);
      await page.getByLabel('User name').fill('sysadmin-user');
      await page.getByLabel('Password').fill('sysadmin password 1');
      await Promise.all([page.waitForURL(`${server.base}/`), page.getByRole('button', { name: 'Sign in' }).click()]);
      await page.getByRole('link', { name: 'Distribution' }).click();
      await page.getByLabel('File name (part of it)').fill('0042');
      await page.getByRole('button', { name: 'Show' }).click();
      await page.waitForURL(/name=0042/);
      assert.match(await page.getByRole('status').innerText(), /^1 file/);
      await page.screenshot({ path: join(results, `web-${kind}-distribution.png`), fullPage: true });
      await page.getByRole('link', { name: 'BHS0042_result.pdf' }).click();
      const life = await page.locator('ol.life-line').innerText();
      assert.match(life, /received[\s\S]*sent[\s\S]*archived[\s\S]*acknowledged .* by ward-7 from 192\.0\.2\.9/);
      assert.match(await page.locator('main dl').innerText(), /sent, then archived, acknowledged/);
      await page.screenshot({ path: join(results, `web-${kind}-distribution-file.png`), fullPage: true });

      await page.goto(`${server.base}/distribution?view=pending`);
      assert.match(await page.locator('main table').innerText(), /BHS0043_result\.pdf\s+failed\s+the folder was not writable/);
      await page.getByRole('link', { name: 'BHS0043_result.pdf' }).click();
      const before = (await d.t.host.services.get(JobQueueId).list({ limit: 1000 })).length;
      await Promise.all([page.waitForURL(/\/distribution\/file\//), page.getByRole('button', { name: 'Send again' }).click()]);
      assert.ok((await d.t.host.services.get(JobQueueId).list({ limit: 1000 })).length > before, 'a delivery job was queued');
    });

    it('holds a routed file with a reason, shown in its life line, and releases it', async () => {
      await page.goto(`${server.base}/distribution?view=pending&name=0044`);
      await page.getByRole('link', { name: 'BHS0044_result.pdf' }).click();
      await page.getByLabel('Why it is held (optional)').fill('ward to be confirmed');
      await Promise.all([page.waitForURL(/\/distribution\/file\//), page.getByRole('button', { name: 'Hold' }).click()]);
      assert.match(await page.locator('main dl').innerText(), /held \(held by sysadmin-user: ward to be confirmed\)/);
      assert.match(await page.locator('ol.life-line').innerText(), /held .* by sysadmin-user from .*: ward to be confirmed/);
      assert.equal((await d.file('BHS0044_result.pdf'))?.state, 'held');
      await page.screenshot({ path: join(results, `web-${kind}-distribution-held.png`), fullPage: true });
      await Promise.all([page.waitForURL(/\/distribution\/file\//), page.getByRole('button', { name: 'Release' }).click()]);
      assert.match(await page.locator('ol.life-line').innerText(), /released .* by sysadmin-user.*: queued for delivery to local:bhs/);
      assert.equal((await d.file('BHS0044_result.pdf'))?.state, 'routed');
    });

    it('lets lab staff follow deliveries without the administrators\' buttons', async () => {
      await d.t.host.services.get(UserServiceId).setPassword('member-user', 'member password 1');
      assert.equal((await runCli(['--config', d.t.configFile, 'distribution', 'staff', 'add', 'member-user'])).status, 0);
      // Signed out of the administrator's session: the member's own.
      await browser.context.clearCookies();
      const staffPage = page;
      await staffPage.goto(`${server.base}/user/login?next=/`);
      await staffPage.getByLabel('User name').fill('member-user');
      await staffPage.getByLabel('Password').fill('member password 1');
      await Promise.all([staffPage.waitForURL(`${server.base}/`), staffPage.getByRole('button', { name: 'Sign in' }).click()]);
      await staffPage.getByRole('link', { name: 'Distribution' }).click();
      await staffPage.getByRole('link', { name: 'Sent, not acknowledged' }).click();
      await staffPage.goto(`${server.base}/distribution?name=0042`);
      await staffPage.getByRole('link', { name: 'BHS0042_result.pdf' }).click();
      assert.match(await staffPage.locator('ol.life-line').innerText(), /acknowledged .* by ward-7 from 192\.0\.2\.9/);
      assert.equal(await staffPage.getByRole('link', { name: 'Download the archived file' }).count(), 0);
      await staffPage.goto(`${server.base}/distribution?view=pending&name=0043`);
      await staffPage.getByRole('link', { name: 'BHS0043_result.pdf' }).click();
      await staffPage.locator('ol.life-line').waitFor();
      assert.equal(await staffPage.getByRole('button', { name: 'Hold' }).count(), 0, 'holding stays with administrators');
      assert.equal(await staffPage.getByRole('button', { name: 'Send again' }).count(), 0);
      await staffPage.screenshot({ path: join(results, `web-${kind}-distribution-staff.png`), fullPage: true });
    });
  });
}
