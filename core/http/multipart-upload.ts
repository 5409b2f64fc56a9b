// File uploads the CKAN way: `multipart/form-data` to resource_create, resource_update or
// resource_patch with the file in an `upload` part (ckanapi, CKAN's own web form). The
// other parts are the action's fields. The file streams through a byte counter straight
// into the active depot, hashed on the way (resource intake), never held in memory; bodies
// larger than `[upload] max_size` are refused before they are read, or as soon as they pass
// it; the stored file gets the same `resource.inspect` job as a tus upload.
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Busboy, type BusboyFileStream } from '@fastify/busboy';
import type { ActionCall, ActionRunner } from '../actions/action-runner.js';
import type { ResourceIntake } from '../datasets/resource-intake.js';
import type { ResourceRecord } from '../datasets/dataset-types.js';
import { resourceDict } from '../datasets/dataset-view.js';
import { PayloadTooLargeError, ValidationError } from '../errors.js';

/** Actions that take a file in an `upload` part. */
export const MULTIPART_ACTIONS: ReadonlySet<string> = new Set(['resource_create', 'resource_update', 'resource_patch']);

/** Limits of a multipart action request. */
export interface MultipartLimits {
  /** `[upload] max_size`: the largest file. */
  maxFileBytes: number;
  /** `[http] max_body_bytes`: the most all other parts may hold together. */
  maxFieldBytes: number;
}

/** Whether a request's body is multipart/form-data. */
export function isMultipart(request: Request): boolean {
  return /^multipart\/form-data\s*;/i.test(request.headers.get('content-type') ?? '');
}

/** Counts bytes and fails the stream once they pass `limit`. */
class ByteLimit extends Transform {
  bytes = 0;
  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) callback(new PayloadTooLargeError(this.limit));
    else callback(null, chunk);
  }
}

/** An action's answer to a multipart request: the resource dict CKAN gives. */
type Answer = Record<string, unknown>;

/**
 * Runs a resource action from a multipart body. The fields (every part before the file)
 * become the action's input; with an `upload` part the action runs first (a new resource
 * waits in state `uploading`), then the file streams into the depot and is recorded. If the
 * file fails (too large, cut off, a depot error), a resource this request created is
 * deleted again, so nothing half-made stays; resource_update keeps its previous file.
 * @throws PayloadTooLargeError, ValidationError for malformed bodies
 */
export async function runMultipartAction(name: string, request: Request, call: ActionCall, actions: ActionRunner, intake: ResourceIntake, limits: MultipartLimits): Promise<Answer> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  // The whole body counts: one over max_size is refused unread, whatever its parts.
  if (Number.isFinite(declared) && declared > limits.maxFileBytes) throw new PayloadTooLargeError(limits.maxFileBytes);
  if (!request.body) throw new ValidationError('the multipart body is empty; send the fields and the file in an "upload" part');
  const fields: Record<string, string> = {};
  let fieldBytes = 0;
  let filePart: Promise<Answer> | undefined;
  let fileSeen = false;
  const headers = Object.fromEntries(request.headers) as { 'content-type': string };
  let parser: InstanceType<typeof Busboy>;
  try {
    parser = new Busboy({ headers, limits: { files: 1, fields: 200, fieldSize: limits.maxFieldBytes, parts: 201, headerPairs: 20 } });
  } catch (error) {
    throw new ValidationError(`cannot read the multipart body: ${(error as Error).message}`);
  }
  const failures: unknown[] = [];
  const source = Readable.fromWeb(request.body as import('node:stream/web').ReadableStream<Uint8Array>);
  parser.on('field', (key: string, value: string, _keyTruncated: boolean, valueTruncated: boolean) => {
    fieldBytes += key.length + value.length;
    if (valueTruncated || fieldBytes > limits.maxFieldBytes) failures.push(new PayloadTooLargeError(limits.maxFieldBytes));
    else if (fileSeen) failures.push(new ValidationError(`field "${key.slice(0, 100)}" comes after the file; send every field before the "upload" part`, { [key.slice(0, 100)]: ['must come before the file'] }));
    else if (key === '__proto__' || key === 'constructor' || key === 'prototype') failures.push(new ValidationError(`"${key}" cannot be a field name`));
    else fields[key] = value;
  });
  parser.on('file', (field: string, stream: BusboyFileStream, filename: string) => {
    fileSeen = true;
    if (field !== 'upload') {
      stream.resume();
      failures.push(new ValidationError(`the file part is named "${field.slice(0, 100)}"; CKAN's name for it is "upload"`, { [field.slice(0, 100)]: ['send the file as "upload"'] }));
      return;
    }
    filePart = storeUpload(name, fields, stream, filename, call, actions, intake, limits.maxFileBytes);
    // A file refused (too large, say) stops the reading of the body at once.
    filePart.catch((error: unknown) => source.destroy(error instanceof Error ? error : new Error(String(error))));
  });
  parser.on('partsLimit', () => failures.push(new ValidationError('the multipart body has too many parts')));
  parser.on('fieldsLimit', () => failures.push(new ValidationError('the multipart body has too many fields')));
  parser.on('filesLimit', () => failures.push(new ValidationError('send one file per request, in the "upload" part')));
  try {
    await pipeline(source, parser);
  } catch (error) {
    // A body cut off or malformed: the file stream ends in error too, which storeUpload
    // turns into a clean-up; report the parser's reason unless the file's is better.
    if (!filePart) throw new ValidationError(`cannot read the multipart body: ${(error as Error).message}`);
    failures.push(error);
  }
  if (filePart) {
    const answer = await filePart; // its own errors win: they say what happened to the file
    if (failures.length) throw failures[0];
    return answer;
  }
  if (failures.length) throw failures[0];
  return (await actions.run(name, fields, call)) as Answer;
}

async function storeUpload(name: string, fields: Record<string, string>, stream: BusboyFileStream, filename: string, call: ActionCall, actions: ActionRunner, intake: ResourceIntake, maxBytes: number): Promise<Answer> {
  // The file decides the URL (ours, once stored); a name defaults to the file's.
  const { url: _url, ...input } = fields;
  if (name === 'resource_create' && !input.name && filename) input.name = filename.split(/[\\/]/).at(-1)!;
  let created: ResourceRecord | undefined;
  try {
    const answer = (await actions.run(name, input, call)) as { id: string };
    if (name === 'resource_create') created = { id: answer.id } as ResourceRecord;
    const counter = new ByteLimit(maxBytes);
    stream.on('error', (error) => counter.destroy(error));
    // The depot reads the counter, and learns of its failure from its errored state, even
    // when the limit is passed before the depot starts reading.
    counter.on('error', () => undefined);
    const stored = await intake.storeStream(answer.id, stream.pipe(counter), {}, { actor: call.actor, ...(call.address ? { address: call.address } : {}), protocol: 'ckan-multipart' });
    return resourceDict(stored);
  } catch (error) {
    stream.resume();
    if (created) await actions.run('resource_delete', { id: created.id }, call).catch(() => undefined);
    throw error;
  }
}
