// platform upload: uploads files to a dataset with an encrypted access token, over tus,
// trusting only the token's certificate; resumes from the server's offset when run again,
// compares the server's sha256 with its own, and can activate the dataset at the end.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { CommandDefinition, CommandContext } from '../../plugins/hooks/commands.js';
import { UsageError, describeError } from '../../errors.js';
import { certificateNames, readAccessTokenFile } from '../../auth/access-token-file.js';
import type { PlatformClient } from '../../client/platform-client.js';
import { UploadState, uploadKey, uploadStatePath } from '../../client/upload-state.js';
import { createReporter, type UploadReporter } from '../../client/upload-progress.js';
import { stringOption } from './command-support.js';

const DEFAULT_CHUNK_MB = 64;
const RETRIES = 5;

interface DatasetDict {
  id: string;
  name: string;
  state: string;
  resources: Array<{ name: string; sha256: string | null; size: number | null }>;
}

async function sha256OfRange(file: string, end: number): Promise<ReturnType<typeof createHash>> {
  const hash = createHash('sha256');
  if (end > 0) for await (const chunk of createReadStream(file, { start: 0, end: end - 1 })) hash.update(chunk as Buffer);
  return hash;
}

/** The upload command. */
export function uploadCommands(): CommandDefinition[] {
  return [
    {
      name: 'upload',
      usage: 'FILES...',
      summary: 'upload files to a dataset with an encrypted access token (resumable)',
      description: 'Opens the .dcor-access token, trusts only its certificate and talks to the host it names (or --server). Run it again after an interruption: each file continues from the server\'s offset.',
      needs: 'none',
      options: {
        'access-token': { type: 'string', value: 'FILE', description: 'the .dcor-access file (required)' },
        'password-file': { type: 'string', value: 'FILE', description: 'its password, from the first line of FILE (otherwise asked on the terminal)' },
        dataset: { type: 'string', value: 'NAME', description: 'upload to this existing draft dataset' },
        'create-dataset': { type: 'boolean', description: 'create a draft dataset (with --org, --title, optionally --name)' },
        org: { type: 'string', value: 'ORG', description: 'organization of the new dataset' },
        title: { type: 'string', value: 'TEXT', description: 'title of the new dataset' },
        name: { type: 'string', value: 'NAME', description: 'name of the new dataset (default: from the title)' },
        server: { type: 'string', value: 'URL', description: 'server URL (default: https:// and the host named in the certificate)' },
        'chunk-size': { type: 'string', value: 'MB', description: `bytes per request, in MiB (default ${DEFAULT_CHUNK_MB})` },
        activate: { type: 'boolean', description: 'set the dataset active once every file arrived intact' },
        json: { type: 'boolean', description: 'print machine-readable events on stdout' },
      },
      async run(args, ctx) {
        const tokenFile = stringOption(args, 'access-token');
        if (!tokenFile) throw new UsageError('--access-token FILE is required; see platform upload --help');
        if (!args.positionals.length) throw new UsageError('name at least one file to upload');
        const files = args.positionals.map((f) => resolve(f));
        for (const file of files) {
          let info;
          try {
            info = statSync(file);
          } catch {
            throw new UsageError(`cannot read ${file}`);
          }
          if (!info.isFile()) throw new UsageError(`${file} is not a file`);
        }
        if (new Set(files.map((f) => basename(f))).size !== files.length) throw new UsageError('two files have the same name; resource names must be unique in a dataset');
        const chunkMb = Number(stringOption(args, 'chunk-size') ?? DEFAULT_CHUNK_MB);
        if (!Number.isFinite(chunkMb) || chunkMb <= 0) throw new UsageError('--chunk-size must be a positive number of MiB');
        const passwordFile = stringOption(args, 'password-file');
        const password = passwordFile ? readFileSync(passwordFile, 'utf8').split(/\r?\n/)[0] ?? '' : await ctx.promptSecret('Password of the access token: ');
        const token = await readAccessTokenFile(readFileSync(tokenFile), password);
        const { commonName, altNames } = certificateNames(token.certificate);
        const server = stringOption(args, 'server') ?? `https://${commonName ?? altNames[0]}`;
        // Loaded here, not at start: every CLI run (serve too) loads the command table.
        const { PlatformClient } = await import('../../client/platform-client.js');
        const client = new PlatformClient(server, token.apiKey, server.startsWith('https:') ? token.certificatePem : undefined);
        try {
          const dataset = await resolveDataset(client, args.options, ctx);
          return await uploadAll(client, dataset, files, { chunkBytes: Math.round(chunkMb * 1024 * 1024), activate: args.options.activate === true, json: args.options.json === true }, ctx);
        } finally {
          await client.close();
        }
      },
    },
  ];
}

async function resolveDataset(client: PlatformClient, options: Record<string, unknown>, ctx: CommandContext): Promise<DatasetDict> {
  if (options['create-dataset'] === true) {
    const org = options.org as string | undefined;
    const title = options.title as string | undefined;
    if (!org || !title) throw new UsageError('--create-dataset needs --org and --title');
    const name = (options.name as string | undefined) ?? title.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80);
    const dataset = await client.action<DatasetDict>('package_create', { name, title, owner_org: org, state: 'draft' });
    ctx.stderr.write(`created draft dataset ${dataset.name}\n`);
    return dataset;
  }
  const name = options.dataset as string | undefined;
  if (!name) throw new UsageError('give --dataset NAME, or --create-dataset with --org and --title');
  return client.action<DatasetDict>('package_show', { id: name });
}

async function uploadAll(client: PlatformClient, dataset: DatasetDict, files: string[], options: { chunkBytes: number; activate: boolean; json: boolean }, ctx: CommandContext): Promise<number> {
  const state = new UploadState(uploadStatePath(ctx.env));
  const total = files.reduce((sum, f) => sum + statSync(f).size, 0);
  const reporter = createReporter(ctx.stdout, ctx.stderr as NodeJS.WritableStream & { isTTY?: boolean }, options.json, total);
  const mismatches: string[] = [];
  const failures: string[] = [];
  for (const file of files) {
    const name = basename(file);
    try {
      const local = await uploadOne(client, dataset, file, options.chunkBytes, state, reporter);
      const current = await client.action<DatasetDict>('package_show', { id: dataset.id });
      const remote = current.resources.find((r) => r.name === name);
      if (!remote || remote.sha256 !== local) {
        mismatches.push(`${name}: the server has sha256 ${remote?.sha256 ?? '(no such resource)'}, the local file ${local}`);
        reporter.failed(name, 'checksum differs from the server\'s');
      } else reporter.done(name, local);
    } catch (error) {
      failures.push(`${name}: ${describeError(error)}`);
      reporter.failed(name, describeError(error));
    }
  }
  reporter.finish();
  for (const line of [...mismatches, ...failures]) ctx.stderr.write(`error: ${line}\n`);
  if (mismatches.length || failures.length) return 1;
  if (options.activate) {
    await client.action('package_patch', { id: dataset.id, state: 'active' });
    ctx.stderr.write(`dataset ${dataset.name} is active\n`);
  }
  return 0;
}

/** Uploads one file, resuming when the state remembers it; @returns its local sha256. */
async function uploadOne(client: PlatformClient, dataset: DatasetDict, file: string, chunkBytes: number, state: UploadState, reporter: UploadReporter): Promise<string> {
  const { ServerError } = await import('../../client/platform-client.js');
  const info = statSync(file);
  const name = basename(file);
  const key = uploadKey({ server: client.server, dataset: dataset.id, path: file, size: info.size, mtimeMs: info.mtimeMs });
  let path = state.get(key);
  let offset = path ? await client.offset(path) : undefined;
  if (path && offset === undefined) {
    state.delete(key);
    path = undefined;
  }
  if (!path) {
    path = await client.createUpload(info.size, { package_id: dataset.id, filename: name });
    state.set(key, path);
    offset = 0;
  }
  reporter.start(name, info.size, offset!);
  // The hash covers what the server already has (read locally once), then each chunk as it is sent.
  let hash = await sha256OfRange(file, offset!);
  let position = offset!;
  let attempt = 0;
  while (position < info.size) {
    const end = Math.min(info.size, position + chunkBytes);
    try {
      const next = await client.patch(path, file, position, end, (chunk) => {
        hash.update(chunk);
        reporter.bytes(name, chunk.length);
      });
      if (next !== end) throw new ServerError(500, `the server reports offset ${next} after a chunk that ended at ${end}`);
      position = end;
      attempt = 0;
    } catch (error) {
      if (error instanceof ServerError && error.httpStatus >= 400 && error.httpStatus < 500 && error.httpStatus !== 409 && error.httpStatus !== 423) throw error;
      if (++attempt > RETRIES) throw error;
      await new Promise((done) => setTimeout(done, Math.min(30_000, 500 * 2 ** attempt)));
      const serverOffset = await client.offset(path);
      if (serverOffset === undefined) throw new ServerError(410, 'the server no longer knows this upload; run the command again to start the file afresh');
      // The failed chunk was hashed as it was read: rebuild the hash up to what the server has.
      hash = await sha256OfRange(file, serverOffset);
      position = serverOffset;
    }
  }
  state.delete(key);
  return hash.digest('hex');
}
