// Benchmark: time from spawning `platform serve` to its first answered request
// (`status_show` answering 200), with every plugin of the repository enabled (whatever
// `plugins/*/index.ts` exist at run time), on a fresh SQLite data directory (first start:
// secrets created, migrations applied) and again on the same directory (warm start).
// Baseline, measured in the same run: the bare hono server process, spawned and polled
// the same way. Reports the median of several runs.
// Usage: node dist/scripts/bench/startup-time.js [--runs 5] [--plugins a,b]
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { createInstallation, describeMachine, flags, freePort, machine, median, platformBin, repoRoot, stopChild } from './bench-support.js';

const usage = `usage: node dist/scripts/bench/startup-time.js [--runs 5] [--plugins a,b]
  --runs R        starts of each kind; figures are the median (default 5)
  --plugins LIST  plugins to enable (default: every plugins/*/index.ts of the repository)`;
const options = flags({ runs: 5, plugins: '' }, usage);
const POLL_MS = 5;
const TIMEOUT_MS = 120_000;

/** Plugins of the repository: folders of plugins/ with an index.ts (compiled to dist/). */
function repositoryPlugins(): string[] {
  const names = readdirSync(join(repoRoot, 'plugins'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(repoRoot, 'plugins', entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
  const uncompiled = names.filter((name) => !existsSync(join(repoRoot, 'dist', 'plugins', name, 'index.js')));
  if (uncompiled.length) throw new Error(`plugins not compiled: ${uncompiled.join(', ')}; run npx tsc -p . first`);
  return names;
}

/** Milliseconds from spawn to the first 200 of `path`, polling every few milliseconds. */
async function timeToFirstAnswer(args: string[], env: NodeJS.ProcessEnv, port: number, path: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-2000)));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${stderr}`);
      if (performance.now() - started > TIMEOUT_MS) throw new Error(`no answer on port ${port} after ${TIMEOUT_MS / 1000} s: ${stderr}`);
      try {
        const response = await request(`http://127.0.0.1:${port}${path}`, { reset: true });
        await response.body.dump();
        if (response.statusCode === 200) return performance.now() - started;
      } catch {
        // Not listening yet.
      }
      await sleep(POLL_MS);
    }
  } finally {
    await stopChild(child);
  }
}

const plugins = options.plugins ? options.plugins.split(',').map((p) => p.trim()).filter(Boolean) : repositoryPlugins();
const host = machine();
process.stderr.write(`machine: ${describeMachine(host)}\nplugins: ${plugins.join(' ') || '(none)'}\n`);

const bare: number[] = [];
const first: number[] = [];
const warm: number[] = [];
const warmNoPlugins: number[] = [];
const statusPath = '/api/3/action/status_show';
for (let i = 0; i < options.runs; i++) {
  let port = await freePort();
  bare.push(await timeToFirstAnswer([join(repoRoot, 'dist', 'scripts', 'bench', 'bare-server.js')], { PORT: String(port) }, port, '/bare'));
  const install = await createInstallation('sqlite', { plugins });
  const bareInstall = await createInstallation('sqlite');
  try {
    const serve = (configFile: string): string[] => [platformBin, '--config', configFile, 'serve'];
    port = await freePort();
    first.push(await timeToFirstAnswer(serve(install.configFile), { PLATFORM__HTTP__PORT: String(port) }, port, statusPath));
    port = await freePort();
    warm.push(await timeToFirstAnswer(serve(install.configFile), { PLATFORM__HTTP__PORT: String(port) }, port, statusPath));
    port = await freePort();
    // Core alone, on an installation that has been started once (its migrations applied).
    await timeToFirstAnswer(serve(bareInstall.configFile), { PLATFORM__HTTP__PORT: String(port) }, port, statusPath);
    port = await freePort();
    warmNoPlugins.push(await timeToFirstAnswer(serve(bareInstall.configFile), { PLATFORM__HTTP__PORT: String(port) }, port, statusPath));
  } finally {
    await install.dispose();
    await bareInstall.dispose();
  }
  process.stderr.write(`run ${i + 1}/${options.runs}: bare ${bare.at(-1)!.toFixed(0)} ms, first ${first.at(-1)!.toFixed(0)} ms, warm ${warm.at(-1)!.toFixed(0)} ms, warm without plugins ${warmNoPlugins.at(-1)!.toFixed(0)} ms\n`);
}

const baseline = median(bare);
const row = (label: string, values: number[]): string => `| ${label} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} | ${(median(values) / baseline).toFixed(1)}x |`;
process.stdout.write(
  [
    '',
    `platform serve, spawn to first 200 of status_show, fresh SQLite installation; ${options.runs} runs, median`,
    `plugins: ${plugins.join(' ') || '(none)'}`,
    `machine: ${describeMachine(host)}`,
    '',
    '| start | median ms | min ms | max ms | vs bare server |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('bare hono server process (baseline)', bare),
    row('first start, all plugins (secrets created, migrations applied)', first),
    row('warm start, all plugins', warm),
    row('warm start, no plugins', warmNoPlugins),
    '',
  ].join('\n'),
);
