// A contained task for contained-process.test.ts: does what `input.action` says, so the test
// can see what a contained process may and may not do.
import { readFileSync, readSync } from 'node:fs';

export default function probe(input: { action: string; path?: string }, context: { fd: number }): unknown {
  switch (input.action) {
    case 'env': return { ...process.env };
    case 'read-path': return readFileSync(input.path!, 'utf8');
    case 'read-fd': {
      const buffer = Buffer.alloc(64);
      return buffer.subarray(0, readSync(context.fd, buffer, 0, 64, 0)).toString('utf8');
    }
    case 'spin': for (;;) { /* never answers */ }
    case 'wasm-memory': {
      // WebAssembly memory is outside V8's heap limit: only the process cap stops it.
      const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number }) => { grow(pages: number): number; buffer: ArrayBuffer } } }).WebAssembly;
      const memory = new Memory({ initial: 1, maximum: 65536 });
      for (let i = 0; i < 400; i++) {
        memory.grow(160); // 10 MiB
        new Uint8Array(memory.buffer).fill(1);
      }
      return 'grew';
    }
    case 'heap': {
      const kept: number[][] = [];
      for (;;) kept.push(new Array(1e6).fill(1.5));
    }
    case 'throw': throw new Error('the task failed on purpose');
    default: return input.action;
  }
}
