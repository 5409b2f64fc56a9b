// The web front in a real browser: Debian's Chromium driven by playwright-core, against a
// real server on a port (pages, tus uploads, the job worker that checks files). Real clicks,
// real keyboard, real uploads; screenshots of each page land in test-results/.
// The RT-DC file is dclab's own test data (DC-analysis/dclab, tests/data/calibration_beads.rtdc).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium, serveOnPort } from '../../helpers/chromium.js';
import { databaseKinds } from '../../helpers/test-databases.js';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import { createApiFixtures, type ApiFixtures } from '../../helpers/api-fixtures.js';
import { UserServiceId } from '../../../core/services/service-ids.js';
import type { JobWorker } from '../../../core/jobs/job-worker.js';
import { rtdcSamplesDir } from '../../helpers/rtdc-samples.js';

const samples = rtdcSamplesDir;
const beads = join(samples, 'calibration_beads.rtdc');
const results = fileURLToPath(new URL('../../../../test-results/', import.meta.url));
const skip = chromiumMissing() || (existsSync(beads) ? false : 'the shared RT-DC samples are not beside the repository');

for (const kind of databaseKinds()) {
  describe(`web front in Chromium (${kind})`, { skip }, () => {
    let t: TestHost;
    let f: ApiFixtures;
    let worker: JobWorker;
    let server: Awaited<ReturnType<typeof serveOnPort>>;
    let base: string;
    let browser: Awaited<ReturnType<typeof launchChromium>>;
    let page: Page;
    const shot = async (name: string): Promise<void> => {
      mkdirSync(results, { recursive: true });
      await page.screenshot({ path: join(results, `web-${kind}-${name}.png`), fullPage: true });
    };
    const signIn = async (name: string, password: string): Promise<void> => {
      await page.goto(`${base}/user/login`);
      await page.getByLabel('User name').fill(name);
      await page.getByLabel('Password').fill(password);
      await Promise.all([page.waitForURL((url) => url.pathname !== '/user/login'), page.getByRole('button', { name: 'Sign in' }).click()]);
    };

    before(async () => {
      t = await startTestHost(kind, { pluginNames: ['depot-fs', 'upload-tus', 'schema-rtdc'], extraConfig: '[jobs]\npoll_ms = 50\n[search]\nfacet_resource_keys = dc:setup:channel width\n[web]\nupload_chunk_kb = 64\nfacets = organization, tags, res_format, license_id, res_extras_dc:setup:channel width\n' });
      f = await createApiFixtures(t);
      const users = t.host.services.get(UserServiceId);
      await users.setPassword('editor-user', 'editor password 1');
      await users.setPassword('other-user', 'other password 1');
      for (const [name, priv] of [['open-cells', false], ['secret-cells', true]] as const) {
        await t.call('package_create', { name, title: `Title of ${name}`, notes: `About ${name}`, owner_org: 'lab', private: priv, tags: [{ name: 'cells' }] }, { token: f.tokens.editor });
      }
      await t.call('package_create', { name: 'elsewhere', title: 'Elsewhere data', owner_org: 'other' }, { token: f.tokens.other });
      worker = t.host.jobWorker();
      await worker.start();
      server = await serveOnPort(t.app);
      base = server.base;
      browser = await launchChromium();
      page = browser.context.pages()[0] ?? (await browser.context.newPage());
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await worker?.stop(1000);
      await t?.close();
    });

    it('signs in with the keyboard alone: skip link first, then to the form and through it', async () => {
      await page.goto(`${base}/`);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate<string>("document.activeElement?.textContent ?? ''"), 'Skip to content');
      let label = '';
      for (let i = 0; i < 20 && label !== 'Sign in'; i++) {
        await page.keyboard.press('Tab');
        label = (await page.evaluate<string>("document.activeElement?.textContent ?? ''")) ?? '';
      }
      assert.equal(label, 'Sign in');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/user\/login/);
      assert.equal(await page.evaluate<string>("document.activeElement?.id ?? ''"), 'login-name', 'the name field has the focus');
      await page.keyboard.type('editor-user');
      await page.keyboard.press('Tab');
      await page.keyboard.type('editor password 1');
      await shot('sign-in');
      await Promise.all([page.waitForURL(`${base}/`), page.keyboard.press('Enter')]);
      assert.match(await page.locator('header.site').innerText(), /Signed in as editor-user/);
    });

    it('searches, narrows by a facet, and opens a dataset', async () => {
      await page.goto(`${base}/dataset`);
      await page.getByLabel('Search datasets').fill('cells');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/q=cells/);
      assert.match(await page.getByRole('status').first().innerText(), /2 datasets found/);
      await page.goto(`${base}/dataset`);
      assert.match(await page.getByRole('status').first().innerText(), /3 datasets found/);
      await page.getByRole('link', { name: /The Lab \(2\)/ }).click();
      await page.waitForURL(/organization=lab/);
      assert.match(await page.getByRole('status').first().innerText(), /2 datasets found/);
      await shot('search');
      await page.getByRole('link', { name: 'Title of secret-cells' }).click();
      await page.waitForURL(/\/dataset\/secret-cells$/);
      assert.match(await page.locator('main').innerText(), /About secret-cells/);
      await shot('dataset');
    });

    it('uploads an RT-DC file, resumes it after a reload half-way, sees it checked, activates, and sees the plot drawn', async () => {
      await t.call('package_create', { name: 'beads', title: 'Beads', owner_org: 'lab', state: 'draft' }, { token: f.tokens.editor });
      await page.goto(`${base}/dataset/beads/upload`);
      // The first piece goes through; every later one fails as on a dropped connection (and
      // tus-js-client's retries with it), so nothing is left in flight when the page reloads.
      let patches = 0;
      const firstHeld = new Promise<void>((resolve) => {
        void page.route('**/upload/tus/**', async (route) => {
          if (route.request().method() !== 'PATCH') return route.continue();
          patches++;
          if (patches === 1) return route.continue();
          await route.abort('connectionreset');
          resolve();
        });
      });
      await page.getByLabel('Files').setInputFiles(beads);
      await page.getByRole('button', { name: 'Upload' }).click();
      await firstHeld;
      const before = Number(await page.locator('#upload-list progress').getAttribute('value'));
      assert.ok(before > 0 && before < 100, `half-way: ${before}%`);
      await page.reload();
      await page.unrouteAll({ behavior: 'ignoreErrors' });
      const offsets: number[] = [];
      page.on('request', (request) => {
        if (request.method() === 'PATCH') offsets.push(Number(request.headers()['upload-offset']));
      });
      await page.getByLabel('Files').setInputFiles(beads);
      await page.getByRole('button', { name: 'Upload' }).click();
      await page.locator('#upload-list li[data-resumed="true"]').waitFor();
      await page.locator('#upload-list li[data-done="true"]').waitFor({ timeout: 60_000 });
      assert.ok(offsets[0]! > 0, `the upload went on from ${offsets[0]} bytes, not from the start`);
      await page.locator('#activate:not([disabled])').waitFor({ timeout: 120_000 });
      assert.match(await page.locator('#verdict').innerText(), /Every file passed its checks/);
      assert.match(await page.locator('#upload-list li').innerText(), /checked and valid/);
      await shot('upload');
      await Promise.all([page.waitForURL(/\/dataset\/beads$/), page.getByRole('button', { name: 'Activate dataset' }).click()]);
      const canvas = page.locator('figure.rtdc-view canvas.plot');
      await page.locator('figure.rtdc-view canvas[data-drawn]').waitFor({ timeout: 30_000 });
      assert.ok(Number(await canvas.getAttribute('data-drawn')) > 0);
      // Pixels of the points' blue, read back from the canvas (the page's own drawing, not ours).
      const inked = await page.evaluate<number>(`(() => {
        const c = document.querySelector('figure.rtdc-view canvas.plot');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let blue = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i + 2] > data[i] + 40) blue++;
        return blue;
      })()`);
      assert.ok(inked > 20, `the plot has ${inked} point pixels`);
      assert.match(await page.locator('figure.rtdc-view table').innerText(), /deform/);
      await shot('rtdc-view');
      const { body } = await t.call('package_show', { id: 'beads' }, { token: f.tokens.editor });
      const resource = (body.result as { state: string; resources: Array<{ state: string; sha256: string; size: number }> });
      assert.equal(resource.state, 'active');
      assert.equal(resource.resources[0]!.size, 209119);
    });

    it('narrows a search by RT-DC metadata the check extracted (channel width)', async () => {
      await page.goto(`${base}/dataset`);
      const facet = page.locator('aside.facets section', { has: page.getByRole('heading', { name: 'channel width' }) });
      const item = facet.getByRole('link').first();
      const label = await item.innerText();
      await item.click();
      await page.waitForURL(/res_extras_dc%3Asetup%3Achannel\+width=/);
      assert.match(await page.getByRole('status').first().innerText(), /^1 dataset found/, label);
      assert.match(await page.locator('.results').innerText(), /Beads/);
    });

    it('fits a phone screen: no page scrolls sideways at 375 pixels', async () => {
      await page.setViewportSize({ width: 375, height: 740 });
      try {
        for (const [path, name] of [['/dataset', 'search-phone'], ['/dataset/beads', 'rtdc-view-phone'], ['/account', 'account-phone']] as const) {
          await page.goto(`${base}${path}`);
          const width = await page.evaluate<number>('document.scrollingElement.scrollWidth');
          assert.ok(width <= 376, `${path} is ${width} pixels wide`);
          await shot(name);
        }
      } finally {
        await page.setViewportSize({ width: 1280, height: 720 });
      }
    });

    it('refuses a form sent without its CSRF token', async () => {
      await page.goto(`${base}/account`);
      await page.evaluate(`document.querySelector('form[action="/account/tokens"] input[name="_csrf"]').remove()`);
      await page.getByLabel('Name of a new token').fill('no token');
      const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/account/tokens')), page.getByRole('button', { name: 'Create token' }).click()]);
      assert.equal(response.status(), 403);
      await shot('csrf-refused');
      const tokens = (await t.call('api_token_list', { user: 'editor-user' }, { token: f.tokens.editor })).body.result as Array<{ name: string }>;
      assert.equal(tokens.some((x) => x.name === 'no token'), false);
    });

    it('answers 404 for a private dataset to a signed-in outsider', async () => {
      await browser.context.clearCookies();
      await signIn('other-user', 'other password 1');
      const response = await page.goto(`${base}/dataset/secret-cells`);
      assert.equal(response?.status(), 404);
      assert.doesNotMatch(await page.locator('main').innerText(), /About secret-cells/);
      await shot('private-refused');
    });
  });
}
