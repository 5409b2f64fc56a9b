// Debian's Chromium for browser tests, started as these tests must start it: headless, no
// network chatter, a fresh profile each time; and a server on a port for it to talk to.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { chromium, type BrowserContext } from 'playwright-core';
import type { AppEnv } from '../../core/http/app-env.js';

/** Where Chromium is (`PLATFORM_TEST_CHROMIUM` to use another). */
export const CHROMIUM = process.env.PLATFORM_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** A reason to skip browser tests, or false when Chromium is there. */
export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM}`;
}

/** Starts Chromium with a fresh user-data-dir; `close` removes it. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'platform-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return { context, close: async () => { await context.close(); rmSync(profile, { recursive: true, force: true }); } };
}

/** Serves an app on a free port of 127.0.0.1. */
export async function serveOnPort(app: Hono<AppEnv>): Promise<{ base: string; close(): Promise<void> }> {
  const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
