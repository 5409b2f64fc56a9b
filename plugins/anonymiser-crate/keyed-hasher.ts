// Keyed hashes: research IDs from patient IDs, MRIDs from master IDs, change-detection hashes
// of rows and scrubbers, and hash= alter methods. HMAC-SHA256 by default; HMAC-MD5 and
// HMAC-SHA512 for compatibility with existing CRATE outputs.
import { createHmac } from 'node:crypto';

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
    const hmac = createHmac(this.algorithm, this.key);
    if (Buffer.isBuffer(value)) hmac.update(value);
    else hmac.update(String(value), 'utf8');
    return hmac.digest('hex');
  }

  /** Length of the hex digest, for destination column types. */
  get hexLength(): number {
    return this.method === 'HMAC_MD5' ? 32 : this.method === 'HMAC_SHA256' ? 64 : 128;
  }
}
