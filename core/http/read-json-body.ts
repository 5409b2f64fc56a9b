// Reads a JSON object body with a size limit, streaming, so an oversized body is refused
// (413) without being held in memory, and malformed JSON gets a precise 400.
import { PayloadTooLargeError, ValidationError } from '../errors.js';

/**
 * The body as a JSON object (an empty body is `{}`).
 * @throws PayloadTooLargeError past `limit` bytes; ValidationError for malformed JSON or a non-object.
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
  if (type && !/json/i.test(type) && !/^\s*[{[]/.test(text)) {
    throw new ValidationError(`request body must be JSON (Content-Type: application/json), not ${type.split(';')[0]}`);
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
