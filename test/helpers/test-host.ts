// Starts a real host for a test: a fresh database (SQLite or PostgreSQL), a scratch data
// directory, generated secrets, and optionally inline plugins; plus helpers to call actions.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Hono } from 'hono';
import { PlatformHost } from '../../core/host/platform-host.js';
import type { PluginDefinition } from '../../core/plugins/define-plugin.js';
import type { AppEnv } from '../../core/http/app-env.js';
import type { LogRecord } from '../../core/logger.js';
import { createTestDatabase, type TestDatabase } from './test-databases.js';

/** A started host with its app and scratch database. */
export interface TestHost {
  host: PlatformHost;
  app: Hono<AppEnv>;
  db: TestDatabase;
  configFile: string;
  logs: LogRecord[];
  /** Calls an action over HTTP; returns status and parsed body. */
  call(action: string, input?: Record<string, unknown>, options?: { token?: string; method?: 'GET' | 'POST'; headers?: Record<string, string> }): Promise<{ status: number; body: ActionBody }>;
  close(): Promise<void>;
}

/** The CKAN envelope. */
export interface ActionBody {
  success: boolean;
  result?: unknown;
  error?: Record<string, unknown> & { __type: string; message: string };
  help?: string;
}

/** Writes platform.ini for a test database; `extra` is appended verbatim. */
export function writeTestConfig(db: TestDatabase, plugins: string[] = [], extra = ''): string {
  const file = join(db.dir, 'platform.ini');
  writeFileSync(
    file,
    [
      '[platform]',
      `plugins = ${plugins.join(' ')}`,
      'data_dir = ./data',
      'secret_key_file = ./data/secrets/secret-key',
      '[db]',
      `url = ${db.url}`,
      ...(db.schema ? [`schema = ${db.schema}`] : []),
      '[logging]',
      'level = warn',
      extra,
    ].join('\n'),
  );
  return file;
}

/** Starts a host on a fresh database of the given kind. */
export async function startTestHost(kind: 'sqlite' | 'postgres', options: { plugins?: PluginDefinition[]; pluginNames?: string[]; extraConfig?: string; env?: NodeJS.ProcessEnv } = {}): Promise<TestHost> {
  const db = await createTestDatabase(kind);
  const inline = new Map((options.plugins ?? []).map((p) => [p.name, p]));
  const configFile = writeTestConfig(db, [...(options.pluginNames ?? []), ...inline.keys()], options.extraConfig ?? '');
  const logs: LogRecord[] = [];
  let host: PlatformHost;
  try {
    host = await PlatformHost.start({ configFile, inlinePlugins: inline, env: options.env ?? {}, logSink: (r) => logs.push(r), logLevel: 'debug' });
  } catch (error) {
    await db.cleanup();
    throw error;
  }
  const app = host.app();
  return {
    host,
    app,
    db,
    configFile,
    logs,
    async call(action, input = {}, opts = {}) {
      const method = opts.method ?? 'POST';
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      if (opts.token) headers.authorization = opts.token;
      let url = `/api/3/action/${action}`;
      let body: string | undefined;
      if (method === 'GET') {
        const params = new URLSearchParams(Object.entries(input).map(([k, v]): [string, string] => [k, String(v)]));
        if ([...params].length) url += `?${params}`;
      } else {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(input);
      }
      const response = await app.request(url, { method, headers, ...(body === undefined ? {} : { body }) });
      return { status: response.status, body: (await response.json()) as ActionBody };
    },
    async close() {
      await host.stop();
      await db.cleanup();
    },
  };
}
