// Runs untrusted-input work (a file checker) in a contained child process: Node's permission
// model lets it read only its own code, its environment is empty, the one file it works on is
// handed in as an open descriptor (fd 3) so it needs no read permission on any data path,
// its memory is capped by the kernel (RLIMIT_DATA through prlimit, which also bounds
// WebAssembly memory) and by V8's heap limit, and it is killed with SIGKILL at its time
// limit, always. Containment is by construction: what the child cannot name it cannot open.
import { spawn, spawnSync } from 'node:child_process';
import { constants, openSync, closeSync, fstatSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What one contained run does and may use. */
export interface ContainedTask {
  /** The task's module (a file URL); its default export is called as `(input, { fd })`. */
  module: URL;
  /** JSON input handed to the task. */
  input: unknown;
  /**
   * Files and directories the task's code needs to load (its own module's folder, packages
   * it imports). Nothing else on the host is readable; never put data paths here.
   */
  codePaths: readonly string[];
  /** A regular file handed to the task as fd 3 (opened here, read-only, never followed if a FIFO). */
  file?: string;
  /** The process is killed with SIGKILL after this long. */
  timeoutMs: number;
  /** Memory cap of the whole process (V8 heap, WebAssembly memory, native allocations), in MiB. */
  memoryMb: number;
  /** Kills the process when aborted. */
  signal?: AbortSignal;
  /** Largest answer accepted, in bytes (default 64 MiB); a larger one kills the process. */
  maxAnswerBytes?: number;
}

/** Why a contained run ended without an answer. */
export type ContainedFailure = 'timeout' | 'aborted' | 'out-of-memory' | 'crashed' | 'failed' | 'answer-too-large' | 'not-a-file';

/** A contained run that ended without an answer; `reason` says how, `message` says it for people. */
export class ContainedProcessError extends Error {
  constructor(message: string, readonly reason: ContainedFailure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContainedProcessError';
  }
}

/** The entry script the child starts with (compiled beside this file). */
const ENTRY = fileURLToPath(new URL('./contained-entry.js', import.meta.url));
/** Packages.json files Node reads to learn a module's type, and the entry's own folder. */
function packageJsonFiles(paths: readonly string[]): string[] {
  const found = new Set<string>();
  for (const path of paths) {
    for (let dir = path; ; dir = dirname(dir)) {
      found.add(`${dir.replace(/\/$/, '')}/package.json`);
      if (dirname(dir) === dir) break;
    }
  }
  return [...found];
}

let prlimitAvailable: boolean | undefined;
/** Whether `prlimit` (util-linux) can cap the child's memory; looked up once. */
function hasPrlimit(): boolean {
  prlimitAvailable ??= spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
  return prlimitAvailable;
}

/**
 * Opens `path` for the child without ever blocking (O_NONBLOCK: a FIFO would otherwise wait
 * for a writer) and insists on a regular file.
 */
function openRegularFile(path: string): number {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new ContainedProcessError('the file to check is not a regular file', 'not-a-file');
  }
  return fd;
}

/** Resident memory of a process in MiB from /proc (Linux); undefined when unknown. */
function residentMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `task` in a contained child process and returns its answer.
 * @param task - the module, its input, the code it may read, the file (fd 3) and the limits
 * @returns whatever the task's default export returned (JSON round-tripped)
 * @throws ContainedProcessError with reason `timeout`, `aborted`, `out-of-memory`, `crashed`
 *   (the process died), `failed` (the task threw; its message is kept), `answer-too-large`
 *   or `not-a-file`
 */
export function runContained<T>(task: ContainedTask): Promise<T> {
  const { signal } = task;
  if (signal?.aborted) return Promise.reject(new ContainedProcessError('the check was cancelled', 'aborted', { cause: signal.reason }));
  let fd: number | undefined;
  try {
    if (task.file !== undefined) fd = openRegularFile(task.file);
  } catch (error) {
    if (error instanceof ContainedProcessError) return Promise.reject(error);
    return Promise.reject(new ContainedProcessError(`the file to check cannot be opened: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'not-a-file', { cause: error }));
  }
  const codePaths = [ENTRY, ...task.codePaths];
  const heapMb = Math.max(16, Math.floor(task.memoryMb / 2));
  const nodeArgs = [
    '--experimental-permission',
    ...[...codePaths, ...packageJsonFiles(codePaths)].map((path) => `--allow-fs-read=${path}`),
    `--max-old-space-size=${heapMb}`,
    '--no-warnings',
    ENTRY,
  ];
  const usePrlimit = hasPrlimit();
  const command = usePrlimit ? 'prlimit' : process.execPath;
  // RLIMIT_DATA bounds every private writable mapping, WebAssembly memory included; RLIMIT_CPU
  // ends a busy child even if this process dies before its timer fires.
  const args = usePrlimit
    ? [`--data=${task.memoryMb * 2 ** 20}`, `--cpu=${Math.ceil(task.timeoutMs / 1000) + 1}`, '--', process.execPath, ...nodeArgs]
    : nodeArgs;
  const maxAnswer = task.maxAnswerBytes ?? 64 * 2 ** 20;
  return new Promise<T>((resolve, reject) => {
    const child = spawn(command, args, {
      env: {},
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe', fd ?? 'ignore'],
    });
    if (fd !== undefined) closeSync(fd);
    // Piped by the stdio option above, so never null.
    const stdin = child.stdin!;
    const stdout = child.stdout!;
    const stderr = child.stderr!;
    const chunks: Buffer[] = [];
    let answerBytes = 0;
    let settled = false;
    let failure: ContainedProcessError | undefined;
    const kill = (error: ContainedProcessError): void => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill(new ContainedProcessError(`the check exceeded its time limit of ${task.timeoutMs / 1000} s`, 'timeout')), task.timeoutMs);
    // Without prlimit, resident memory is watched instead (coarser, but always enforced).
    const watch = usePrlimit ? undefined : setInterval(() => {
      const rss = child.pid === undefined ? undefined : residentMb(child.pid);
      if (rss !== undefined && rss > task.memoryMb) kill(new ContainedProcessError(`the check needed more than ${task.memoryMb} MiB of memory`, 'out-of-memory'));
    }, 50);
    const onAbort = (): void => kill(new ContainedProcessError('the check was cancelled', 'aborted', { cause: signal!.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    stdout.on('data', (chunk: Buffer) => {
      answerBytes += chunk.length;
      if (answerBytes > maxAnswer) kill(new ContainedProcessError(`the check's answer exceeded ${maxAnswer} bytes`, 'answer-too-large'));
      else chunks.push(chunk);
    });
    // HDF5 and Node print diagnostics for damaged input: that is not the server's log. The
    // tail is kept to tell an exhausted heap from other deaths.
    let stderrTail = '';
    stderr.on('data', (chunk: Buffer) => {
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4096);
    });
    stdin.on('error', () => undefined);
    stdin.end(JSON.stringify({ module: task.module.href, input: task.input }));
    const finish = (outcome: { value: T } | { error: ContainedProcessError }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (watch) clearInterval(watch);
      signal?.removeEventListener('abort', onAbort);
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.value);
    };
    child.once('error', (error) => finish({ error: new ContainedProcessError(`the check could not start: ${error.message}`, 'crashed', { cause: error }) }));
    child.once('close', (code, killedBy) => {
      if (failure) return finish({ error: failure });
      const text = Buffer.concat(chunks).toString('utf8');
      let reply: { ok: true; result: T } | { ok: false; error: string } | undefined;
      try {
        reply = text ? (JSON.parse(text) as typeof reply) : undefined;
      } catch {
        reply = undefined;
      }
      if (reply?.ok === true) return finish({ value: reply.result });
      if (reply?.ok === false) return finish({ error: new ContainedProcessError(reply.error, 'failed') });
      if (/heap out of memory|Cannot allocate memory|Out of memory|OutOfMemory|Aborted\(OOM\)/i.test(stderrTail)) {
        return finish({ error: new ContainedProcessError(`the check needed more than ${task.memoryMb} MiB of memory`, 'out-of-memory') });
      }
      if (killedBy === 'SIGXCPU' || killedBy === 'SIGKILL') {
        return finish({ error: new ContainedProcessError(`the check exceeded its time limit of ${task.timeoutMs / 1000} s`, 'timeout') });
      }
      finish({ error: new ContainedProcessError(`the check stopped without an answer (${killedBy ? `signal ${killedBy}` : `exit code ${code}`})`, 'crashed') });
    });
  });
}
