// Benchmark: time from starting `platform serve` to its first answered request, with
// every plugin of the repository enabled, on a fresh SQLite installation (first start:
// migrations applied) and again (warm start). Reports the median of several runs.
// Usage: node dist/scripts/bench/startup-time.js [--runs R]
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInstallation, flags, machine, platformBin, repoRoot } from './bench-support.js';
import { median } from './load-generator.js';

const options = flags({ runs: 5 });
const plugins = readdirSync(join(repoRoot, 'plugins')).filter((name) => existsSync(join(repoRoot, 'dist', 'plugins', name, 'index.js')));

async function startOnce(configFile: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [platformBin, '--config', configFile, 'serve'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(http:\/\/[0-9.]+:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  for (;;) {
    const response = await fetch(`${url}/api/3/action/status_show`).catch(() => undefined);
    if (response?.ok) break;
  }
  const elapsed = performance.now() - started;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return elapsed;
}

const first: number[] = [];
const warm: number[] = [];
for (let i = 0; i < options.runs; i++) {
  const install = await createInstallation('sqlite', '', plugins);
  try {
    first.push(await startOnce(install.configFile));
    warm.push(await startOnce(install.configFile));
  } finally {
    await install.dispose();
  }
}
process.stdout.write(`plugins: ${plugins.join(' ')}; machine: ${machine()}\n\n| start | median ms | runs |\n| --- | ---: | ---: |\n`);
process.stdout.write(`| first start (migrations applied) | ${median(first).toFixed(0)} | ${options.runs} |\n| warm start | ${median(warm).toFixed(0)} | ${options.runs} |\n`);
