// Size, sha256 and first bytes of a local file, in one streaming pass.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The size and sha256 (hex) of a file, and its first bytes (up to 4 KiB, for sniffing its type). */
export async function hashFile(path: string, signal?: AbortSignal): Promise<{ size: number; sha256: string; head: Buffer }> {
  const hash = createHash('sha256');
  let size = 0;
  let head: Buffer | undefined;
  for await (const chunk of createReadStream(path, signal ? { signal } : {})) {
    head ??= (chunk as Buffer).subarray(0, 4096);
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  return { size, sha256: hash.digest('hex'), head: head ?? Buffer.alloc(0) };
}
