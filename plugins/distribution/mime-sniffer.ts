// MIME types from a file's first bytes (its signature), never from its extension.

const SIGNATURES: Array<{ type: string; bytes: number[]; offset?: number }> = [
  { type: 'application/pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/gif', bytes: [0x47, 0x49, 0x46, 0x38] },
  { type: 'image/tiff', bytes: [0x49, 0x49, 0x2a, 0x00] },
  { type: 'image/tiff', bytes: [0x4d, 0x4d, 0x00, 0x2a] },
  { type: 'application/zip', bytes: [0x50, 0x4b, 0x03, 0x04] },
  { type: 'application/gzip', bytes: [0x1f, 0x8b] },
  { type: 'application/x-hdf5', bytes: [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a] },
];

/** The MIME type of some leading bytes: a known signature, `text/plain` for UTF-8 text, else `application/octet-stream`. */
export function sniffMimeType(head: Buffer): string {
  for (const s of SIGNATURES) {
    const at = s.offset ?? 0;
    if (head.length >= at + s.bytes.length && s.bytes.every((b, i) => head[at + i] === b)) return s.type;
  }
  if (head.length === 0) return 'application/x-empty';
  if (head.includes(0)) return 'application/octet-stream';
  // A cut multi-byte character at the end of the sample is not a reason to call it binary.
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  const bad = (text.match(/\uFFFD/g) ?? []).length;
  return bad <= 1 ? 'text/plain' : 'application/octet-stream';
}
