// Keyed hashes: research IDs from patient IDs, MRIDs from master IDs, change-detection hashes
// of rows and scrubbers, and hash= alter methods. HMAC-SHA256 by default; HMAC-MD5 and
// HMAC-SHA512 for compatibility with existing CRATE outputs.
import * as crypto from 'node:crypto';

/** Node's one-shot digest (20.12 and later); older versions take createHmac. */
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: Buffer | string, encoding: string) => Buffer | string }).hash;
const BLOCK_BYTES: Record<string, number> = { md5: 64, sha256: 64, sha512: 128 };

/** The hash methods a config may name (CRATE's spellings). */
export const HASH_METHODS = ['HMAC_SHA256', 'HMAC_MD5', 'HMAC_SHA512'] as const;
export type HashMethod = (typeof HASH_METHODS)[number];

const ALGORITHM: Record<HashMethod, string> = { HMAC_SHA256: 'sha256', HMAC_MD5: 'md5', HMAC_SHA512: 'sha512' };

/** Hashes values with one method and key; the same value and key always give the same hash. */
export class KeyedHasher {
  private readonly algorithm: string;

  /**
   * @param method - HMAC_SHA256, HMAC_MD5 or HMAC_SHA512
   * @param key - the secret (never logged)
   * @throws RangeError for an empty key
   */
  constructor(readonly method: HashMethod, private readonly key: string) {
    if (!key) throw new RangeError('a hash key must not be empty');
    this.algorithm = ALGORITHM[method];
  }

  /** Lower-case hex digest of `value` (numbers and strings hash alike: 42 and "42" agree). */
  hash(value: string | number | bigint | Buffer): string {
    // HMAC as RFC 2104 defines it, H((K ^ opad) || H((K ^ ipad) || m)), from two one-shot
    // digests: incremental runs hash every source row, and a Hmac object per call costs more
    // than the hashing itself. The inner pad goes in as text, which one-shot digests take
    // fastest; that needs every pad byte below 0x80 (keys of ASCII characters, as hex keys
    // are); other keys take createHmac. Equal to createHmac's output (tested).
    if (oneShot && !Buffer.isBuffer(value)) {
      const pads = (this.pads ??= this.makePads());
      if (pads) {
        // The inner digest comes out as hex and is decoded into the outer pad in place: a
        // digest as a new Buffer costs twice as much as one as text.
        const inner = oneShot(this.algorithm, pads.inner + String(value), 'hex') as string;
        pads.outer.write(inner, pads.outer.length - inner.length / 2, 'hex');
        return oneShot(this.algorithm, pads.outer, 'hex') as string;
      }
    }
    const hmac = crypto.createHmac(this.algorithm, this.key);
    if (Buffer.isBuffer(value)) hmac.update(value);
    else hmac.update(String(value), 'utf8');
    return hmac.digest('hex');
  }

  /** The inner pad as text and the outer pad with room for the inner digest; null when the key's pads are not ASCII. */
  private pads: { inner: string; outer: Buffer } | null | undefined;

  private makePads(): { inner: string; outer: Buffer } | null {
    const block = BLOCK_BYTES[this.algorithm]!;
    let key = Buffer.from(this.key, 'utf8');
    if (key.length > block) key = crypto.createHash(this.algorithm).update(key).digest();
    const inner = Buffer.alloc(block, 0x36);
    const outer = Buffer.alloc(block + crypto.createHash(this.algorithm).digest().length, 0x5c);
    for (let i = 0; i < key.length; i++) {
      inner[i]! ^= key[i]!;
      outer[i]! ^= key[i]!;
    }
    return inner.every((b) => b < 0x80) ? { inner: inner.toString('latin1'), outer } : null;
  }

  /** Length of the hex digest, for destination column types. */
  get hexLength(): number {
    return this.method === 'HMAC_MD5' ? 32 : this.method === 'HMAC_SHA256' ? 64 : 128;
  }
}
