// A host with the distribution plugin for tests: scratch folders (drop, work root, a local
// destination), a rules file, a fast job worker, and helpers to wait for files' states.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHost, type TestHost } from '../../helpers/test-host.js';
import type { JobWorker } from '../../../core/jobs/job-worker.js';
import { createDistributionPlugin } from '../../../plugins/distribution/index.js';
import type { RuntimeOptions } from '../../../plugins/distribution/distribution-runtime.js';
import { DistributionStore, type DistributedFile, type FileState } from '../../../plugins/distribution/distribution-store.js';
import { DatabaseId } from '../../../core/services/service-ids.js';
import type { PluginDefinition } from '../../../core/plugins/define-plugin.js';

/** A started host with the plugin, and its folders. */
export interface DistributionHost {
  t: TestHost;
  store: DistributionStore;
  drop: string;
  root: string;
  localDestination: string;
  /** The scratch folder of this host. */
  dir: string;
  worker: JobWorker | undefined;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Waits until the named file (the live one of that name, else the newest) satisfies `done`. */
  waitFor(name: string, done: (f: DistributedFile) => boolean, what?: string, timeoutMs?: number): Promise<DistributedFile>;
  waitForState(name: string, state: FileState, timeoutMs?: number): Promise<DistributedFile>;
  file(name: string): Promise<DistributedFile | undefined>;
  close(): Promise<void>;
}

/** Options of the fixture. */
export interface FixtureOptions {
  rules: (folders: { localDestination: string; dir: string }) => object;
  /** `[plugin:distribution]` keys; `{dir}` in a value stands for the host's scratch folder. */
  settings?: Record<string, string | number>;
  /** `[plugin:distribution-folders]` keys (default: the drop folder, `stable_ms = 200`); `{dir}` as above. */
  folderSettings?: Record<string, string | number>;
  /** Inline plugins besides distribution (e.g. an anonymiser), enabled after it. */
  extraPlugins?: PluginDefinition[];
  runtime?: RuntimeOptions;
  pluginNames?: string[];
}

/** Starts a host with the distribution plugin on a database kind. */
export async function startDistributionHost(kind: 'sqlite' | 'postgres', options: FixtureOptions): Promise<DistributionHost> {
  const dir = mkdtempSync(join(tmpdir(), 'dist-test-'));
  const folders = { drop: join(dir, 'drop'), root: join(dir, 'distribution'), localDestination: join(dir, 'remote-local') };
  for (const d of Object.values(folders)) mkdirSync(d, { recursive: true });
  const rulesFile = join(dir, 'rules.json');
  writeFileSync(rulesFile, JSON.stringify(options.rules({ localDestination: folders.localDestination, dir })));
  const values: Record<string, string | number> = { root: folders.root, rules_file: rulesFile, file_checks: 'none', log_read_seconds: 0, ...options.settings };
  const folderValues: Record<string, string | number> = { watch: folders.drop, stable_ms: 200, ...options.folderSettings };
  const section = (name: string, v: Record<string, string | number>): string => `[plugin:${name}]\n${Object.entries(v).map(([k, x]) => `${k} = ${String(x).replaceAll('{dir}', dir)}`).join('\n')}\n`;
  const extraConfig = `[jobs]\npoll_ms = 20\nlease_seconds = 5\n${section('distribution', values)}${section('distribution-folders', folderValues)}`;
  let t: TestHost;
  try {
    t = await startTestHost(kind, { plugins: [createDistributionPlugin(options.runtime), ...(options.extraPlugins ?? [])], pluginNames: options.pluginNames ?? ['depot-fs', 'distribution-folders'], extraConfig });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const store = new DistributionStore(() => t.host.services.get(DatabaseId));
  const fixture: DistributionHost = {
    t,
    store,
    dir,
    ...folders,
    worker: undefined,
    async startWorker() {
      fixture.worker = t.host.jobWorker({ concurrency: 2 });
      await fixture.worker.start();
    },
    async stopWorker() {
      await fixture.worker?.stop(2000);
      fixture.worker = undefined;
    },
    async file(name) {
      const all = (await store.list({ name, limit: 50 })).filter((f) => f.name === name);
      return all.find((f) => f.state !== 'rejected') ?? all[0];
    },
    async waitFor(name, done, what = 'the expected state', timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last: DistributedFile | undefined;
      while (Date.now() < until) {
        last = await fixture.file(name);
        if (last && done(last)) return last;
        await new Promise((r) => setTimeout(r, 25));
      }
      const problems = t.logs.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => `${l.name} ${l.msg} ${JSON.stringify(l.fields)}`);
      throw new Error(`${name} did not reach ${what}; last: ${JSON.stringify(last)}; warnings: ${problems.join(' | ') || 'none'}`);
    },
    waitForState(name, state, timeoutMs) {
      return fixture.waitFor(name, (f) => f.state === state, `state ${state}`, timeoutMs);
    },
    async close() {
      await fixture.stopWorker();
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}
