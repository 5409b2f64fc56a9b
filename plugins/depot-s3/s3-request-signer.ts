// SigV4 signing of the S3 client's requests, by the maintained `aws4` signer: the Authorization
// header of a request, and presigned URLs (the signature in the query string). This file only
// adapts our URL and header shapes to aws4's; the signing itself is aws4's.
import aws4 from 'aws4';

/** The access key pair a request is signed with. */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** The hash of an empty payload, and the marker for a payload that is not hashed (streamed bodies). */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

/** A request to sign. Every header given is signed (`range` excepted, as AWS's SDKs do). */
export interface S3RequestToSign {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Hex SHA-256 of the body, {@link EMPTY_SHA256} or {@link UNSIGNED_PAYLOAD}; sent as `x-amz-content-sha256`. */
  payloadHash: string;
}

/** A signed request: the headers to send and the URL to send them to (its query re-encoded exactly as signed). */
export interface SignedS3Request {
  url: URL;
  headers: Record<string, string>;
}

/** `20150830T123600Z` for a date. */
function amzDate(date: Date): string {
  return date.toISOString().replace(/[-:]|\.\d{3}/g, '');
}

/** RFC 3986 percent-encoding of one URL path segment (or a whole key with `keepSlash`), as S3 keys are written in paths. */
export function encodeS3Path(value: string, keepSlash = false): string {
  const encoded = encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}

function stringHeaders(headers: aws4.Request['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) out[name.toLowerCase()] = String(value);
  return out;
}

/**
 * Signs an S3 request in its headers.
 * @returns the headers to send (the given ones plus `x-amz-date`, `x-amz-content-sha256` and `authorization`) and the URL.
 */
export function signS3Request(request: S3RequestToSign, credentials: Credentials, region: string, date = new Date()): SignedS3Request {
  const signed = aws4.sign(
    {
      service: 's3',
      region,
      method: request.method,
      host: request.url.host,
      path: `${request.url.pathname}${request.url.search}`,
      headers: { ...request.headers, host: request.url.host, 'x-amz-date': amzDate(date), 'x-amz-content-sha256': request.payloadHash },
    },
    { accessKeyId: credentials.accessKey, secretAccessKey: credentials.secretKey },
  );
  return { url: new URL(signed.path ?? '/', request.url.origin), headers: stringHeaders(signed.headers) };
}

/**
 * A presigned URL: anyone holding it may make this one request until it expires.
 * @param expiresSeconds 1 to 604800 (seven days), as S3 allows.
 * @throws RangeError for an expiry S3 would refuse.
 */
export function presignS3Url(method: string, url: URL, credentials: Credentials, region: string, expiresSeconds: number, date = new Date()): URL {
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 604800) throw new RangeError(`presigned URLs expire after 1 to 604800 seconds, not ${expiresSeconds}`);
  const query = new URLSearchParams(url.search);
  query.set('X-Amz-Date', amzDate(date));
  query.set('X-Amz-Expires', String(expiresSeconds));
  const signed = aws4.sign(
    { service: 's3', region, method, host: url.host, path: `${url.pathname}?${query.toString()}`, headers: { host: url.host }, signQuery: true },
    { accessKeyId: credentials.accessKey, secretAccessKey: credentials.secretKey },
  );
  return new URL(signed.path ?? '/', url.origin);
}
