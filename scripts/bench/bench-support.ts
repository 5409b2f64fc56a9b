// Shared pieces of the benchmark scripts: machine description, child servers that print
// their URL, scratch installations on SQLite or PostgreSQL, and argument parsing.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const platformBin = join(repoRoot, 'bin', 'platform.js');

/** One line describing this machine. */
export function machine(): string {
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Reads `--name value` flags with defaults. */
export function flags<T extends Record<string, string | number | boolean>>(defaults: T): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!.replace(/^--/, '');
    if (!(key in defaults)) throw new Error(`unknown flag --${key}; known: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    const d = defaults[key];
    if (typeof d === 'boolean') out[key] = true;
    else out[key] = typeof d === 'number' ? Number(argv[++i]) : String(argv[++i]);
  }
  return out as T;
}

/** A server child process and the URL it printed. */
export interface ChildServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Spawns a process and waits for a `http://...` URL on its stdout. */
export function startServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(http:\/\/[0-9.]+:\d+)/.exec(output);
      if (match) resolve({ url: match[1]!, child, stop: () => stopChild(child) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${errors.slice(-500)}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** A scratch installation: a directory with platform.ini and a database. */
export interface Installation {
  kind: 'sqlite' | 'postgres';
  dir: string;
  configFile: string;
  dispose(): Promise<void>;
}

/** Creates an installation on SQLite, or on a fresh PostgreSQL database at `pgUrl`. */
export async function createInstallation(kind: 'sqlite' | 'postgres', pgUrl: string, plugins: string[] = []): Promise<Installation> {
  const dir = mkdtempSync(join(tmpdir(), `platform-bench-${kind}-`));
  let url = `sqlite:${join(dir, 'platform.sqlite')}`;
  let drop = async (): Promise<void> => undefined;
  if (kind === 'postgres') {
    const name = `platform_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    const own = new URL(pgUrl);
    own.pathname = `/${name}`;
    url = own.toString();
    drop = async () => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    };
  }
  const configFile = join(dir, 'platform.ini');
  writeFileSync(configFile, `[platform]\nplugins = ${plugins.join(' ')}\ndata_dir = ./data\n[http]\nport = 0\n[db]\nurl = ${url}\npool_max = 20\n[logging]\nlevel = warn\n`, { mode: 0o600 });
  return { kind, dir, configFile, dispose: async () => { await drop(); rmSync(dir, { recursive: true, force: true }); } };
}

/** True when PostgreSQL answers at the URL. */
export async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
