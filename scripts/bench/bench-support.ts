// Shared pieces of the benchmark scripts: a description of the machine, flag parsing, free
// ports, child server processes, and scratch installations on SQLite (a temp directory) or
// PostgreSQL (a schema of their own), optionally kept for reuse by a later run.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The repository root (scripts run from dist/scripts/bench/). */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The `platform` command of this checkout. */
export const platformBin = join(repoRoot, 'bin', 'platform.js');
/** PostgreSQL used when PLATFORM_BENCH_PG_URL is not set. */
export const defaultPgUrl = 'postgresql://postgres@127.0.0.1:5432/test';

/** What the results were measured on. */
export interface MachineInfo {
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  /** 1-minute load average when the run started: other work on the machine skews figures. */
  load: number;
}

/** Describes this machine (CPU model from /proc/cpuinfo where there is one). */
export function machine(): MachineInfo {
  let cpuModel = cpus()[0]?.model.trim() ?? 'unknown CPU';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: keep what os.cpus() says.
  }
  return { nproc: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), cpuModel, node: process.version, load: loadavg()[0]! };
}

/** One line for a results header. */
export function describeMachine(m: MachineInfo = machine()): string {
  return `${m.nproc} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, load average ${m.load.toFixed(1)} at start`;
}

/**
 * Reads `--name value` flags (and bare `--name` for booleans) with defaults; `--help`
 * prints the usage and exits.
 * @throws Error for an unknown flag or a number that does not parse.
 */
export function flags<T extends Record<string, string | number | boolean>>(defaults: T, usage: string): T {
  const out: Record<string, string | number | boolean> = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    const [rawKey, inline] = arg.replace(/^--/, '').split('=', 2) as [string, string | undefined];
    const key = rawKey.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (!arg.startsWith('--') || !(key in defaults)) throw new Error(`unknown argument ${arg}\n${usage}`);
    const d = defaults[key];
    if (typeof d === 'boolean') {
      out[key] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${rawKey} needs a value\n${usage}`);
    if (typeof d === 'number') {
      const n = Number(value.replace(/_/g, ''));
      if (!Number.isFinite(n) || n < 0) throw new Error(`--${rawKey} must be a non-negative number, not "${value}"`);
      out[key] = n;
    } else out[key] = value;
  }
  return out as T;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A server child process and the URL it printed. */
export interface ChildServer {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

/**
 * Spawns `node ARGS` and waits until it prints an `http://host:port` URL on stdout
 * (`platform serve` prints `platform listening on URL` once its socket is bound).
 * @throws Error with the end of its stderr when it exits first.
 */
export function startServer(args: string[], env: NodeJS.ProcessEnv = {}, nodeOptions: string[] = []): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeOptions, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString()).slice(-4000);
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /(http:\/\/[0-9.]+:\d+)/.exec(output);
      if (match) resolve({ url: match[1]!, child, stop: () => stopChild(child) });
    });
    child.once('exit', (code, signal) => reject(new Error(`${args.join(' ')} exited (${signal ?? code}) before listening: ${errors.slice(-1500)}`)));
  });
}

/** Ends a child process: SIGTERM, then SIGKILL after 5 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A scratch installation: a directory with platform.ini, and its database. */
export interface Installation {
  kind: 'sqlite' | 'postgres';
  dir: string;
  configFile: string;
  /** Where the data lives, without credentials: a file, or a PostgreSQL schema. */
  where: string;
  /** True when an earlier `--reuse` run left it here (its datasets may already be seeded). */
  reused: boolean;
  /** Removes the directory and drops the schema, unless the installation is kept. */
  dispose(): Promise<void>;
}

/** Options of {@link createInstallation}. */
export interface InstallationOptions {
  /** PostgreSQL server (the installation gets a schema of its own there). */
  pgUrl?: string;
  /** Plugins to enable, in order. */
  plugins?: string[];
  /** Keep the installation under this name and reuse it when it exists. */
  keep?: string;
  /** Lines appended to platform.ini. */
  extraConfig?: string;
}

/**
 * Creates an installation on SQLite (a file in a temp directory) or in a new schema of the
 * PostgreSQL database at `pgUrl`. With `keep`, a stable directory and schema are used
 * and left in place, so a later run can reuse the seeded data.
 */
export async function createInstallation(kind: 'sqlite' | 'postgres', options: InstallationOptions = {}): Promise<Installation> {
  const keep = options.keep?.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  const dir = join(tmpdir(), keep ? `platform-bench-${kind}-${keep}` : `platform-bench-${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const reused = Boolean(keep) && existsSync(join(dir, 'platform.ini'));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let db = `url = sqlite:./platform.sqlite\n`;
  let where = 'SQLite file in a temp directory';
  let drop = async (): Promise<void> => undefined;
  if (kind === 'postgres') {
    if (!options.pgUrl) throw new Error('a PostgreSQL installation needs pgUrl');
    const schema = keep ? `platform_bench_${keep}` : `platform_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
    const pgUrl = options.pgUrl;
    db = `url = ${pgUrl}\nschema = ${schema}\n`;
    where = `schema ${schema} of ${new URL(pgUrl).host}${new URL(pgUrl).pathname}`;
    drop = async () => {
      const client = new pg.Client({ connectionString: pgUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    };
  }
  const configFile = join(dir, 'platform.ini');
  if (!reused) {
    writeFileSync(
      configFile,
      `[platform]\nplugins = ${(options.plugins ?? []).join(' ')}\ndata_dir = ./data\n[http]\nport = 0\n[db]\n${db}pool_max = 10\n[logging]\nlevel = warn\n${options.extraConfig ?? ''}`,
      { mode: 0o600 },
    );
  }
  return {
    kind,
    dir,
    configFile,
    where,
    reused,
    dispose: async () => {
      if (keep) return;
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Undefined when PostgreSQL answers at the URL, else why not. */
export async function postgresProblem(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.name : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The median of numbers (NaN for none). */
export function median(values: number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
