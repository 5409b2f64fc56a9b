// Requests built the way ckanapi builds them, so the compatibility suite tests CKAN's
// protocol rather than our own encoder.
//
// From ckanapi's ckanapi/common.py, prepare_action():
//   data_dict = json.dumps(data_dict).encode('ascii')
//   headers['Content-Type'] = 'application/json'
//   headers['X-CKAN-API-Key'] = apikey; headers['Authorization'] = apikey
//   url = 'api/action/' + action
// and, with files, "all parameters must be strings and no nesting is allowed because request
// is sent as multipart": None values are left out, numbers become strings, and the request
// goes out through python-requests (`requests.post(url, data=data_dict, files=files)`),
// whose multipart body urllib3's filepost.encode_multipart_formdata writes. That body is made
// here by Debian's python3-requests itself (see multipartFromRequests), not by our code.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestHost, ActionBody } from '../../helpers/test-host.js';

const run = promisify(execFile);

/** Python's json.dumps with its defaults: ", " and ": " separators, non-ASCII as \uXXXX. */
export function pythonJsonDumps(value: unknown): string {
  const ascii = (text: string): string => JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return ascii(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value === true ? 'true' : value === false ? 'false' : String(value);
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${ascii(k)}: ${pythonJsonDumps(v)}`).join(', ')}}`;
}

/** What the server answered. */
export interface CkanAnswer {
  status: number;
  body: ActionBody;
}

async function answer(response: Response): Promise<CkanAnswer> {
  return { status: response.status, body: JSON.parse(await response.text()) as ActionBody };
}

function keyHeaders(apikey: string | undefined): Record<string, string> {
  return apikey ? { 'X-CKAN-API-Key': apikey, Authorization: apikey } : {};
}

/** RemoteCKAN.call_action without files: a JSON POST to /api/action/NAME. */
export async function ckanapiPost(t: TestHost, action: string, dataDict: Record<string, unknown>, apikey?: string): Promise<CkanAnswer> {
  const headers = { 'Content-Type': 'application/json', 'User-Agent': 'ckanapi/4.7 (+https://github.com/open-data/ckanapi)', ...keyHeaders(apikey) };
  return answer(await t.app.request(`/api/action/${action}`, { method: 'POST', headers, body: Buffer.from(pythonJsonDumps(dataDict), 'ascii') }));
}

/** A read with the parameters in the query string, as ckanapi's get-only calls and browsers send it. */
export async function ckanapiGet(t: TestHost, action: string, params: Record<string, string>, apikey?: string): Promise<CkanAnswer> {
  const query = new URLSearchParams(params).toString();
  return answer(await t.app.request(`/api/action/${action}${query ? `?${query}` : ''}`, { method: 'GET', headers: keyHeaders(apikey) }));
}

/** Debian's Python, which has python3-requests (the `python3` on PATH may not). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

const PREPARE = `
import json, sys, requests
spec = json.load(open(sys.argv[1]))
# ckanapi/common.py prepare_action with files: strings only, None left out
data = {k: (str(v) if isinstance(v, (int, float)) else v) for k, v in spec['data'].items() if v is not None}
files = {spec['field']: (spec['filename'], open(spec['path'], 'rb'))}
prepared = requests.Request('POST', 'http://ckan.invalid/api/action/' + spec['action'], data=data, files=files, headers=spec['headers']).prepare()
open(sys.argv[2], 'wb').write(prepared.body)
json.dump(dict(prepared.headers), open(sys.argv[3], 'w'))
`;

/** A multipart request exactly as python-requests prepares it for ckanapi. */
export interface PreparedMultipart {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * The multipart request ckanapi sends for `demo.action.resource_create(package_id=..., upload=open(path))`,
 * prepared by python-requests itself.
 */
export async function multipartFromRequests(action: string, data: Record<string, unknown>, file: { path: string; filename: string; field?: string }, apikey?: string): Promise<PreparedMultipart> {
  const dir = await mkdtemp(join(tmpdir(), 'ckanapi-'));
  try {
    const spec = join(dir, 'spec.json');
    await writeFile(spec, JSON.stringify({ action, data, field: file.field ?? 'upload', filename: file.filename, path: file.path, headers: keyHeaders(apikey) }));
    await run(DEBIAN_PYTHON, ['-c', PREPARE, spec, join(dir, 'body'), join(dir, 'headers.json')]);
    return { headers: JSON.parse(await readFile(join(dir, 'headers.json'), 'utf8')) as Record<string, string>, body: await readFile(join(dir, 'body')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sends a prepared multipart request through the app. */
export async function sendMultipart(t: TestHost, action: string, prepared: PreparedMultipart): Promise<CkanAnswer> {
  return answer(await t.app.request(`/api/action/${action}`, { method: 'POST', headers: prepared.headers, body: prepared.body }));
}
