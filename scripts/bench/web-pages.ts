// Web pages in Chromium over a large catalogue (default 100,000 datasets on PostgreSQL): time
// to first contentful paint and to a usable page (painted, and DOMContentLoaded: the HTML
// parsed and every module script run), and the bytes of HTML, CSS and script each page sends, from the
// browser's own Navigation and Resource Timing. Each run opens a fresh browser context (empty
// cache). The baseline, measured in the same runs, is the same search through the JSON API
// (fetch from the page, time to the parsed answer): the page's cost over the data it shows.
//
// Usage: node dist/scripts/bench/web-pages.js [--datasets 100000] [--runs 7] [--reuse]
//   [--database postgres|sqlite] [--pg URL] [--chromium /usr/bin/chromium]
import { chromium, type Browser } from 'playwright-core';
import { PlatformHost } from '../../core/host/platform-host.js';
import { ActionRunnerId, DatabaseId, OrganizationServiceId, UserServiceId } from '../../core/services/service-ids.js';
import { createInstallation, defaultPgUrl, describeMachine, flags, freePort, median, platformBin, startServer } from './bench-support.js';
import { COMMON_WORD, seedDatasets, seededCatalogue } from './seed-datasets.js';

const usage = `usage: node dist/scripts/bench/web-pages.js [--datasets N] [--runs N] [--reuse] [--database postgres|sqlite] [--pg URL] [--chromium PATH]`;
const options = flags({ datasets: 100_000, runs: 7, reuse: false, database: 'postgres', pg: process.env.PLATFORM_BENCH_PG_URL ?? defaultPgUrl, chromium: '/usr/bin/chromium' }, usage);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Sample { fcp: number; usable: number; html: number; css: number; script: number; baseline?: number }

const install = await createInstallation(options.database === 'sqlite' ? 'sqlite' : 'postgres', { pgUrl: options.pg, ...(options.reuse ? { keep: `web${options.datasets}` } : {}) });
log(`${install.kind}: ${install.where}${install.reused ? ' (reused)' : ''}`);
const password = 'bench password 1';
let publicName: string;
const platform = await PlatformHost.start({ configFile: install.configFile, env: {}, logLevel: 'warn' });
try {
  const db = platform.services.get(DatabaseId);
  if ((await db.models.Dataset.count()) === 0) {
    const seeded = await seedDatasets(db, { datasets: options.datasets, progress: (n) => process.stderr.write(`\rseeding ${n}/${options.datasets}`) });
    log(`\rseeded ${seeded.datasets} datasets in ${seeded.seconds.toFixed(1)} s`);
    publicName = seeded.publicNames[Math.floor(seeded.publicNames.length / 2)]!;
  } else {
    const catalogue = await seededCatalogue(db);
    publicName = catalogue.publicNames[Math.floor(catalogue.publicNames.length / 2)]!;
  }
  const users = platform.services.get(UserServiceId);
  if (!(await users.find('web-bench'))) {
    const user = await users.create({ name: 'web-bench', email: 'bench@example.org', password });
    const orgs = platform.services.get(OrganizationServiceId);
    const org = (await orgs.list())[0]!;
    await orgs.setMember(org.id, user.id, 'editor');
    await platform.services.get(ActionRunnerId).run('package_create', { name: 'web-bench-draft', owner_org: org.name, state: 'draft' }, { actor: { kind: 'system', name: 'bench' } });
  }
} finally {
  await platform.stop();
}

const port = await freePort();
const server = await startServer([platformBin, '--config', install.configFile, 'serve'], { PLATFORM__HTTP__PORT: String(port) });
const base = server.url.replace(/\/$/, '');
let browser: Browser | undefined;
try {
  browser = await chromium.launch({ executablePath: options.chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  const pages: Array<{ name: string; path: string; signedIn: boolean; baseline?: string }> = [
    { name: 'search (anonymous)', path: '/dataset', signedIn: false, baseline: '/api/3/action/package_search?rows=20' },
    { name: `search q=${COMMON_WORD} (signed in)`, path: `/dataset?q=${COMMON_WORD}`, signedIn: true, baseline: `/api/3/action/package_search?rows=20&q=${COMMON_WORD}` },
    { name: 'dataset page', path: `/dataset/${publicName}`, signedIn: false, baseline: `/api/3/action/package_show?id=${publicName}` },
    { name: 'sign-in page', path: '/user/login', signedIn: false },
    { name: 'upload page (signed in)', path: '/dataset/web-bench-draft/upload', signedIn: true },
  ];
  const results: Array<{ name: string; samples: Sample[] }> = [];
  for (const spec of pages) {
    const samples: Sample[] = [];
    for (let run = 0; run <= options.runs; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      if (spec.signedIn) {
        await page.goto(`${base}/user/login`);
        await page.fill('#login-name', 'web-bench');
        await page.fill('#login-password', password);
        await Promise.all([page.waitForURL((url) => url.pathname !== '/user/login'), page.click('button[type=submit]')]);
      }
      await page.goto(`${base}${spec.path}`, { waitUntil: 'load' });
      // The paint entry can be recorded after 'load' (a headless frame is painted later): wait for it, for a while.
      const sample = await page.evaluate<Sample>(`(async () => {
        const nav = performance.getEntriesByType('navigation')[0];
        const fcp = performance.getEntriesByName('first-contentful-paint')[0] ?? await new Promise((resolve) => {
          const observer = new PerformanceObserver((list) => {
            const entry = list.getEntriesByName('first-contentful-paint')[0];
            if (entry) { observer.disconnect(); resolve(entry); }
          });
          observer.observe({ type: 'paint', buffered: true });
          setTimeout(() => { observer.disconnect(); resolve(undefined); }, 5000);
        });
        const sum = (test) => performance.getEntriesByType('resource').filter(test).reduce((n, r) => n + r.encodedBodySize, 0);
        return { fcp: fcp ? fcp.startTime : NaN, usable: Math.max(nav.domContentLoadedEventEnd, fcp ? fcp.startTime : 0), html: nav.encodedBodySize,
          css: sum((r) => r.name.endsWith('.css')), script: sum((r) => r.name.endsWith('.js')) };
      })()`);
      if (spec.baseline) {
        sample.baseline = await page.evaluate<number>(`(async () => { const t0 = performance.now(); await (await fetch(${JSON.stringify(spec.baseline)})).json(); return performance.now() - t0; })()`);
      }
      await context.close();
      if (run > 0) samples.push(sample); // the first run warms the server (JIT, connection pool)
    }
    results.push({ name: spec.name, samples });
  }
  const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : 'not measured');
  const kb = (v: number): string => `${(v / 1024).toFixed(1)} KiB`;
  process.stdout.write(`${describeMachine()}\n${install.kind}, ${options.datasets} datasets, median of ${options.runs} runs (fresh browser context each)\n\n`);
  process.stdout.write('| page | first contentful paint | usable (painted and scripts run) | same data through the API | usable / API | HTML | CSS | script |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n');
  for (const { name, samples } of results) {
    const m = (key: keyof Sample): number => median(samples.map((s) => s[key] ?? NaN).filter((v) => Number.isFinite(v)));
    const baseline = samples[0]?.baseline === undefined ? undefined : m('baseline');
    process.stdout.write(`| ${name} | ${ms(m('fcp'))} | ${ms(m('usable'))} | ${baseline === undefined ? '—' : ms(baseline)} | ${baseline === undefined ? '—' : `${(m('usable') / baseline).toFixed(1)}x`} | ${kb(m('html'))} | ${kb(m('css'))} | ${kb(m('script'))} |\n`);
  }
} finally {
  await browser?.close();
  await server.stop();
  await install.dispose();
}
