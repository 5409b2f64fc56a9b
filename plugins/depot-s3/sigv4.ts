// AWS Signature Version 4 for S3 requests: the Authorization header of a request, and
// presigned URLs (the signature in the query string). Written from AWS's specification
// ("Signature Version 4 signing process", "Authenticating Requests: Using Query Parameters")
// and checked against AWS's published test vectors (test/plugins/depot-s3/sigv4.test.ts).
import { createHash, createHmac } from 'node:crypto';

/** The access key pair a request is signed with. */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** What a signature is scoped to. */
export interface SigningScope {
  region: string;
  /** `s3` for S3; the published test suite uses `service`. */
  service: string;
}

/** The hash of an empty payload, and the marker for a payload that is not hashed. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

const hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** `20150830T123600Z` for a date. */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/** RFC 3986 percent-encoding as SigV4 wants it: unreserved characters stay, the rest (and `/` unless `keepSlash`) are encoded. */
export function uriEncode(value: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(ch) || (keepSlash && ch === '/')) out += ch;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The canonical query string: parameters sorted by encoded name, then value. */
export function canonicalQuery(params: Iterable<[string, string]>): string {
  return [...params]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

function signingKey(secretKey: string, day: string, scope: SigningScope): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretKey}`, day), scope.region), scope.service), 'aws4_request');
}

interface Canonical {
  signedHeaders: string;
  request: string;
}

/**
 * The canonical request. `path` is the URL's path as sent (already encoded once, as S3 wants:
 * S3 paths are not normalised or encoded a second time).
 */
function canonicalRequest(method: string, path: string, query: string, headers: Record<string, string>, payloadHash: string): Canonical {
  const entries = Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const signedHeaders = entries.map(([k]) => k).join(';');
  const request = [method, path || '/', query, entries.map(([k, v]) => `${k}:${v}\n`).join(''), signedHeaders, payloadHash].join('\n');
  return { signedHeaders, request };
}

function signature(credentials: Credentials, scope: SigningScope, date: Date, canonical: string): { credentialScope: string; signature: string } {
  const stamp = amzDate(date);
  const day = stamp.slice(0, 8);
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, credentialScope, hex(canonical)].join('\n');
  return { credentialScope, signature: hmac(signingKey(credentials.secretKey, day, scope), stringToSign).toString('hex') };
}

/** A request to sign. `headers` must include `host`; every header given is signed. */
export interface RequestToSign {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Hex SHA-256 of the body, {@link EMPTY_SHA256} or {@link UNSIGNED_PAYLOAD}. */
  payloadHash: string;
}

/**
 * Signs a request in its headers. @returns the headers to send: the given ones plus
 * `x-amz-date` and `authorization` (and `x-amz-content-sha256` when `s3Payload` is true, as S3 requires).
 */
export function signHeaders(request: RequestToSign, credentials: Credentials, scope: SigningScope, date = new Date(), s3Payload = scope.service === 's3'): Record<string, string> {
  const headers: Record<string, string> = { ...request.headers, 'x-amz-date': amzDate(date) };
  if (s3Payload) headers['x-amz-content-sha256'] = request.payloadHash;
  const canonical = canonicalRequest(request.method, request.url.pathname, canonicalQuery(request.url.searchParams), headers, request.payloadHash);
  const signed = signature(credentials, scope, date, canonical.request);
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKey}/${signed.credentialScope}, SignedHeaders=${canonical.signedHeaders}, Signature=${signed.signature}`;
  return headers;
}

/**
 * A presigned URL: anyone holding it may make this one request until it expires.
 * @param expiresSeconds 1 to 604800 (seven days), as S3 allows.
 */
export function presignUrl(method: string, url: URL, credentials: Credentials, scope: SigningScope, expiresSeconds: number, date = new Date()): URL {
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 604800) throw new RangeError(`presigned URLs expire after 1 to 604800 seconds, not ${expiresSeconds}`);
  const out = new URL(url);
  const stamp = amzDate(date);
  const credentialScope = `${stamp.slice(0, 8)}/${scope.region}/${scope.service}/aws4_request`;
  out.searchParams.set('X-Amz-Algorithm', 'AWS4-HMAC-SHA256');
  out.searchParams.set('X-Amz-Credential', `${credentials.accessKey}/${credentialScope}`);
  out.searchParams.set('X-Amz-Date', stamp);
  out.searchParams.set('X-Amz-Expires', String(expiresSeconds));
  out.searchParams.set('X-Amz-SignedHeaders', 'host');
  const canonical = canonicalRequest(method, out.pathname, canonicalQuery(out.searchParams), { host: out.host }, UNSIGNED_PAYLOAD);
  const signed = signature(credentials, scope, date, canonical.request);
  // URLSearchParams writes spaces as '+'; rebuild the query with SigV4's encoding so the URL says exactly what was signed.
  out.search = `${canonicalQuery(out.searchParams)}&X-Amz-Signature=${signed.signature}`;
  return out;
}
