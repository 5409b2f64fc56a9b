// The files the pages load: core's style sheet, tus-js-client's browser build and the page
// scripts compiled by tsconfig.browser.json, and the assets plugins' pages and sections declare.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HookRegistries } from '../plugins/hook-registries.js';
import { SITE_CSS } from './site-css.js';

/** A served file: bytes and type, read once at start. */
export interface Asset { body: Buffer | string; type: string }

function assetType(name: string): string {
  if (name.endsWith('.js')) return 'text/javascript; charset=utf-8';
  if (name.endsWith('.css')) return 'text/css; charset=utf-8';
  if (name.endsWith('.svg')) return 'image/svg+xml';
  return 'application/octet-stream';
}

/** Core's assets: the style sheet, tus-js-client's browser build and the compiled page scripts. */
export function coreAssets(): Map<string, Asset> {
  const here = dirname(fileURLToPath(import.meta.url));
  const browser = join(here, '..', '..', 'browser', 'core', 'web', 'browser');
  const tusDir = join(dirname(createRequire(import.meta.url).resolve('tus-js-client/package.json')), 'dist');
  return new Map<string, Asset>([
    ['site.css', { body: SITE_CSS, type: assetType('site.css') }],
    ['tus.min.js', { body: readFileSync(join(tusDir, 'tus.min.js')), type: assetType('x.js') }],
    ['upload.js', { body: readFileSync(join(browser, 'upload.js')), type: assetType('x.js') }],
  ]);
}

/** Assets declared by plugins' pages and sections, by `<plugin>/<name>`. */
export function pluginAssets(registries: HookRegistries): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const add = (plugin: string, assets: Readonly<Record<string, string>> | undefined): void => {
    for (const [name, path] of Object.entries(assets ?? {})) out.set(`${plugin}/${name}`, { body: readFileSync(path), type: assetType(name) });
  };
  for (const { plugin, value } of registries.webPages.contributions()) add(plugin, value.assets);
  for (const { plugin, value } of registries.datasetSections.contributions()) add(plugin, value.assets);
  return out;
}

