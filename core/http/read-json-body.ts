// Reads a JSON object body with a size limit, streaming, so an oversized body is refused
// (413) without being held in memory, and malformed JSON gets a precise 400. A body must say
// it is JSON (Content-Type), which a cross-site form or simple request cannot.
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors.js';

/**
 * The body as a JSON object (an empty body is `{}`).
 * @throws PayloadTooLargeError past `limit` bytes; UnsupportedMediaTypeError (415) for a body not declared JSON;
 *   ValidationError for malformed JSON or a non-object.
 */
export async function readJsonBody(request: Request, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new PayloadTooLargeError(limit);
  const type = request.headers.get('content-type') ?? '';
  if (!request.body) return {};
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new PayloadTooLargeError(limit);
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  // Only a JSON type: a browser sends text/plain, form types or (for a Blob) no type at all
  // across origins without asking first, so accepting those would let any web page write
  // with a visitor's Basic credentials (CSRF). application/json needs a CORS preflight.
  if (!/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i.test(type.trim())) {
    throw new UnsupportedMediaTypeError(`request body must be JSON (Content-Type: application/json)${type ? `, not ${type.split(';')[0]}` : ', sent with that header'}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError('request body must be a JSON object, e.g. {"id": "my-dataset"}');
  }
  return parsed as Record<string, unknown>;
}
