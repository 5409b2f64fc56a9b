// scrypt password hashes in a self-describing format: scrypt$N$r$p$salt$hash (base64url).
// The hashing itself runs on the password-hash pool (see password-hash-pool.ts).

/** scrypt's cost parameters. */
export interface ScryptParameters {
  N: number;
  r: number;
  p: number;
}

/** Parameters of new hashes. */
export const SCRYPT_DEFAULT: ScryptParameters = { N: 16384, r: 8, p: 1 };

/** The stored form of a hash. */
export function scryptHashString(params: ScryptParameters, salt: Uint8Array, key: Uint8Array): string {
  return ['scrypt', params.N, params.r, params.p, Buffer.from(salt).toString('base64url'), Buffer.from(key).toString('base64url')].join('$');
}

/** Parameters, salt and key of a stored hash; undefined when it is malformed. */
export function parseScryptHash(stored: string): { params: ScryptParameters; salt: Buffer; key: Buffer } | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (!N || !r || !p || !Number.isInteger(N) || !Number.isInteger(r) || !Number.isInteger(p)) return undefined;
  const key = Buffer.from(parts[5]!, 'base64url');
  if (key.length < 16 || key.length > 64) return undefined;
  return { params: { N, r, p }, salt: Buffer.from(parts[4]!, 'base64url'), key };
}

/**
 * A hash to compare against when the user does not exist (or has no password), with the
 * parameters of new hashes, so an unknown name costs what a known one does.
 */
export const DUMMY_PASSWORD_HASH = scryptHashString(SCRYPT_DEFAULT, Buffer.alloc(16), Buffer.alloc(32));
