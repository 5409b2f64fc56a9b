// Entry of a password-hashing thread: answers `{ id, password, salt, N, r, p, length, maxmem }`
// messages with the scrypt key, computed synchronously on this thread. Hashing here instead of
// with async scrypt keeps it off libuv's shared threads, which serve file reads and SQLite.
import { scryptSync } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

interface HashRequest {
  id: number;
  password: string;
  salt: Uint8Array;
  N: number;
  r: number;
  p: number;
  length: number;
  maxmem: number;
}

const { nice } = workerData as { nice: number };
if (nice > 0) {
  // On Linux a thread has its own id and its own niceness: lower only this thread's priority,
  // so the event loop and the I/O threads win the CPU when hashing and serving compete.
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, nice);
  } catch {
    // Not Linux (no /proc/thread-self): the thread keeps the process's priority.
  }
}

parentPort!.on('message', (request: HashRequest) => {
  try {
    const key = scryptSync(request.password, request.salt, request.length, { N: request.N, r: request.r, p: request.p, maxmem: request.maxmem });
    parentPort!.postMessage({ id: request.id, key });
  } catch (error) {
    parentPort!.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
});
