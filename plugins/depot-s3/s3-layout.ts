// Where things live in the store: one bucket per organisation, objects in DCOR's layout
// (`resource/<rid[0:3]>/<rid[3:6]>/<rid[6:]>`), partial uploads in an `incoming` bucket and
// quarantined objects under `quarantine/`. A location, as recorded on a resource, is
// `<bucket>/<object key>`.
import { createHash } from 'node:crypto';
import { ValidationError } from '../../core/api.js';

/** S3's smallest part (except the last one of an upload). */
export const MIN_PART = 5 * 1024 * 1024;

const KEY = /^[A-Za-z0-9_-]{7,128}$/;
const BUCKET = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** The object key of a resource id, in DCOR's layout. @throws ValidationError for a key that is no resource id. */
export function objectKeyOf(key: string): string {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new ValidationError(`depot key ${JSON.stringify(String(key).slice(0, 80))} is not a resource id: 7 to 128 letters, digits, "-" or "_" (a UUID such as 3f2b8c1e-5d4a-4e7f-9a0b-1c2d3e4f5a6b)`, { key: ['is not a resource id'] });
  }
  return `resource/${key.slice(0, 3)}/${key.slice(3, 6)}/${key.slice(6)}`;
}

/**
 * The bucket of an organisation: `<prefix><name>` when that is a valid bucket name (3 to 63
 * lowercase letters, digits and "-"), else `<prefix>h<first 24 hex digits of sha256(name)>`
 * (organisation names may hold "_" and run to 100 characters; bucket names may not).
 */
export function bucketOf(prefix: string, organisation: string): string {
  const plain = `${prefix}${organisation}`;
  if (BUCKET.test(plain) && !plain.includes('--')) return plain;
  return `${prefix}h${createHash('sha256').update(organisation).digest('hex').slice(0, 24)}`;
}

/** A location split into bucket and object key. @throws ValidationError for one this depot never made. */
export function parseLocation(prefix: string, location: string): { bucket: string; key: string } {
  const slash = typeof location === 'string' ? location.indexOf('/') : -1;
  const bucket = slash > 0 ? location.slice(0, slash) : '';
  const key = slash > 0 ? location.slice(slash + 1) : '';
  if (!bucket.startsWith(prefix) || !BUCKET.test(bucket) || !/^(resource|quarantine)\/[A-Za-z0-9_/-]+$/.test(key) || key.includes('//')) {
    throw new ValidationError(`S3 depot location ${JSON.stringify(String(location).slice(0, 120))} is not <bucket>/resource/...`, { location: ['is not an S3 depot location'] });
  }
  return { bucket, key };
}

/** Validates a bucket prefix from the configuration. */
export function checkBucketPrefix(prefix: string): void {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(prefix)) throw new ValidationError(`[plugin:depot-s3] bucket_prefix ${JSON.stringify(prefix)} must be 1 to 40 lowercase letters, digits or "-", starting with a letter or digit`);
}
