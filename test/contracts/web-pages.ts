// The contract of the WebPages and DatasetSections hooks, run by each plugin that contributes
// to them: markup the strict CSP allows (no inline script, style or event handler), every
// field labelled, every form carrying its CSRF token, scripts only from assets the
// contribution declared (and that exist), pages inside the site's frame, unsafe requests
// without the token refused, and a page that is not the viewer's to see refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { Hono } from 'hono';
import type { AppEnv, DatasetSection, DatasetSectionInput, WebKit, WebPage } from '../../core/api.js';
import { WebClient } from '../helpers/web-client.js';

/** Problems of a piece of markup that every page and section must avoid. */
export function markupProblems(html: string): string[] {
  const problems: string[] = [];
  if (/<script(?![^>]*\ssrc=)[^>]*>/i.test(html)) problems.push('an inline <script> (the CSP refuses it)');
  if (/\sstyle=/i.test(html)) problems.push('an inline style attribute (the CSP refuses it)');
  if (/\son[a-z]+=/i.test(html)) problems.push('an inline event handler (the CSP refuses it)');
  const labelled = new Set([...html.matchAll(/<label[^>]*\sfor="([^"]+)"/g)].map((m) => m[1]));
  for (const field of html.matchAll(/<(input|select|textarea)\b([^>]*)>/g)) {
    const attrs = field[2]!;
    if (/type="(hidden|submit|button)"/.test(attrs)) continue;
    const id = /\sid="([^"]+)"/.exec(attrs)?.[1];
    if (!/aria-label=/.test(attrs) && !(id && labelled.has(id))) problems.push(`a ${field[1]} without a label (${attrs.trim().slice(0, 60)})`);
  }
  for (const form of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    if (/method="post"/i.test(form[1]!) && !/name="_csrf"/.test(form[2]!)) problems.push(`a POST form without its CSRF field (${form[1]!.trim().slice(0, 60)})`);
  }
  return problems;
}

/** How a plugin's suite hands the WebPage contract a running host. */
export interface WebPageContractOptions {
  name: string;
  page: WebPage;
  /** Starts a host with the plugin: its app, a client signed in as someone who may see the pages, and one who may not. */
  start(): Promise<{ app: Hono<AppEnv>; allowed: WebClient; refused: WebClient; close(): Promise<void> }>;
  /** Paths under the page (beginning with its path) that render for the allowed viewer. */
  paths: string[];
}

/** Runs the WebPage contract. */
export function runWebPageContract(options: WebPageContractOptions): void {
  describe(`WebPage contract: ${options.name}`, () => {
    let host: Awaited<ReturnType<WebPageContractOptions['start']>>;
    before(async () => {
      host = await options.start();
    });
    after(async () => host?.close());

    it('declares a path of its own, a navigation label when it has one, and assets that exist', () => {
      assert.match(options.page.path, /^\/[a-z0-9/_-]+$/);
      if (options.page.nav) assert.ok(options.page.nav.label.trim().length > 0);
      for (const [name, path] of Object.entries(options.page.assets ?? {})) assert.ok(existsSync(path), `asset ${name} at ${path}`);
    });

    it('renders each page inside the frame, with the CSP and markup it allows', async () => {
      for (const path of options.paths) {
        const page = await host.allowed.request(path);
        assert.equal(page.status, 200, `${path}: ${page.text.slice(0, 300)}`);
        assert.match(page.text, /^<!doctype html><html lang="en">/, path);
        assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/, path);
        assert.deepEqual(markupProblems(page.text), [], path);
      }
    });

    it('refuses each page to a viewer the hook does not serve, without showing its content', async () => {
      for (const path of options.paths) {
        const page = await host.refused.request(path);
        assert.ok([303, 403, 404].includes(page.status), `${path} answered ${page.status} to a viewer who may not see it`);
      }
    });

    it('refuses unsafe requests without the CSRF token, whatever route they reach', async () => {
      for (const path of [...options.paths, `${options.page.path}/anything`]) {
        const answer = await host.allowed.request(path, { method: 'POST', form: { x: '1' } });
        assert.equal(answer.status, 403, `POST ${path} without a token`);
      }
    });
  });
}

/** A kit for rendering a section alone: asset URLs as core makes them, no page around it. */
export function sectionKit(): WebKit {
  const unused = (): never => { throw new Error('a section renders markup; it does not answer requests'); };
  return { page: unused, csrfField: () => '', form: unused, run: unused, assetUrl: (plugin, name) => `/assets/${encodeURIComponent(plugin)}/${encodeURIComponent(name)}` };
}

/** How a plugin's suite hands the DatasetSection contract its section and sample datasets. */
export interface DatasetSectionContractOptions {
  name: string;
  plugin: string;
  section: DatasetSection;
  /** Datasets (as package_show shows them) the section has something to say about. */
  shown: Array<DatasetSectionInput['dataset']>;
  /** Datasets it must leave alone (it returns undefined). */
  ignored: Array<DatasetSectionInput['dataset']>;
}

/** Runs the DatasetSection contract. */
export function runDatasetSectionContract(options: DatasetSectionContractOptions): void {
  describe(`DatasetSection contract: ${options.name}`, () => {
    const kit = sectionKit();
    const render = async (dataset: DatasetSectionInput['dataset']): Promise<string | undefined> => {
      const content = await options.section.render({ c: undefined as never, dataset, kit });
      return content === undefined || content === null ? undefined : String(await content);
    };

    it('has a name, and scripts only from assets it declares, which exist', () => {
      assert.match(options.section.name, /^[a-z0-9-]+$/);
      const declared = new Set(Object.keys(options.section.assets ?? {}).map((name) => kit.assetUrl(options.plugin, name)));
      for (const url of options.section.scripts?.(kit) ?? []) assert.ok(declared.has(url), `script ${url} is not one of the section's assets`);
      for (const [name, path] of Object.entries(options.section.assets ?? {})) assert.ok(existsSync(path), `asset ${name} at ${path}`);
    });

    it('renders markup the CSP allows, with every field labelled, for the datasets it concerns', async () => {
      assert.ok(options.shown.length > 0, 'the suite gives at least one dataset the section shows');
      for (const dataset of options.shown) {
        const html = await render(dataset);
        assert.ok(html, `nothing rendered for ${dataset.name}`);
        assert.deepEqual(markupProblems(html), [], dataset.name);
      }
    });

    it('leaves alone the datasets it does not concern', async () => {
      for (const dataset of options.ignored) assert.equal(await render(dataset), undefined, dataset.name);
    });

    it('escapes what the dataset says (a file name is data, not markup)', async () => {
      const dataset = structuredClone(options.shown[0]!);
      for (const r of dataset.resources) r.name = r.name.replace(/(\.[A-Za-z0-9]+)?$/, '<img src=x onerror=alert(1)>$1');
      const html = await render(dataset);
      if (html) assert.doesNotMatch(html, /<img src=x/);
    });
  });
}
