// Password hashing on threads of its own (`[auth] hash_threads`), with a bounded queue
// (`[auth] hash_queue`) and a lower CPU priority (`[auth] hash_nice`). Node's async scrypt
// runs on libuv's four shared threads, which also serve file reads and SQLite: a flood of
// sign-ins would queue every download and query behind password hashes. Here hashing can
// use at most its own threads, and a full queue is refused at once (503 with Retry-After)
// instead of growing without bound.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ServiceBusyError } from '../errors.js';
import { parseScryptHash, scryptHashString, SCRYPT_DEFAULT, type ScryptParameters } from './password-hasher.js';

/** Hashes and checks passwords. */
export interface PasswordHasher {
  /** A self-describing hash of `password` with a fresh salt. */
  hash(password: string): Promise<string>;
  /** True when `password` matches `stored` (compared in constant time); false for malformed hashes. */
  verify(password: string, stored: string): Promise<boolean>;
  /** True when a hash asked for now would be refused (queue full), so callers can refuse before any other work. */
  saturated?(): boolean;
  /** Frees what the hasher holds (threads); called once at shutdown. */
  close?(): Promise<void>;
}

/** Size and limits of the pool. */
export interface PasswordHashPoolOptions {
  /** Threads hashing at once. */
  threads: number;
  /** Hashes that may wait for a thread; more are refused with ServiceBusyError. */
  maxQueued: number;
  /** Niceness added to the hashing threads (0 to 19; Linux only). */
  nice: number;
}

/** Counters, for tests and diagnostics. */
export interface PasswordHashPoolStats {
  /** Hashes computed (or failed) since the pool was made. */
  computed: number;
  /** Hashes refused because the queue was full. */
  refused: number;
}

interface Job {
  id: number;
  password: string;
  salt: Uint8Array;
  params: ScryptParameters;
  length: number;
  resolve: (key: Buffer) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
}

const MAXMEM = 256 * 1024 * 1024;

/** A bounded pool of hashing threads; threads start on first use and are ended by `close()`. */
export class PasswordHashPool implements PasswordHasher {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  readonly stats: PasswordHashPoolStats = { computed: 0, refused: 0 };

  constructor(private readonly options: PasswordHashPoolOptions) {}

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.scrypt(password, salt, SCRYPT_DEFAULT, 32);
    return scryptHashString(SCRYPT_DEFAULT, salt, key);
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const parsed = parseScryptHash(stored);
    if (!parsed) return false;
    const actual = await this.scrypt(password, parsed.salt, parsed.params, parsed.key.length);
    return actual.length === parsed.key.length && timingSafeEqual(actual, parsed.key);
  }

  saturated(): boolean {
    const busy = this.slots.filter((slot) => slot.job).length;
    return busy >= this.options.threads && this.queue.length >= this.options.maxQueued;
  }

  /** Ends the threads; queued hashes fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new ServiceBusyError('the server is shutting down', 5));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private scrypt(password: string, salt: Uint8Array, params: ScryptParameters, length: number): Promise<Buffer> {
    if (this.closed) return Promise.reject(new ServiceBusyError('the server is shutting down', 5));
    if (this.saturated()) {
      this.stats.refused++;
      return Promise.reject(new ServiceBusyError('too many sign-ins are being checked at once; try again in a moment', 1));
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, password, salt, params, length, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.options.threads) slot = this.startThread();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage({ id: job.id, password: job.password, salt: job.salt, N: job.params.N, r: job.params.r, p: job.params.p, length: job.length, maxmem: MAXMEM });
    }
  }

  private startThread(): Slot {
    const worker = new Worker(new URL('./password-hash-thread.js', import.meta.url), { workerData: { nice: this.options.nice } });
    const slot: Slot = { worker, job: undefined };
    worker.on('message', (message: { id: number; key?: Uint8Array; error?: string }) => {
      const job = slot.job;
      if (!job || job.id !== message.id) return;
      slot.job = undefined;
      this.stats.computed++;
      // An idle thread must not keep a CLI process alive.
      worker.unref();
      if (message.key) job.resolve(Buffer.from(message.key));
      else job.reject(new Error(`password hashing failed: ${message.error ?? 'unknown error'}`));
      this.pump();
    });
    worker.on('error', (error) => this.lose(slot, error));
    worker.on('exit', () => this.lose(slot, new Error('password-hashing thread ended')));
    this.slots.push(slot);
    return slot;
  }

  /** A thread died: fail its job, forget it, and let the next job start a new one. */
  private lose(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    const job = slot.job;
    slot.job = undefined;
    job?.reject(error);
    if (!this.closed) this.pump();
  }
}
