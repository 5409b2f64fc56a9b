// The `platform anonymise ...` commands: run (in this process on core's thread pool, or as a
// job), validate, draft-dd, scrub (stdin to stdout) and reidentify. Secrets come only from files or the environment:
// a URL with a password is refused on the command line. `--config` after the command names
// the anonymiser's config (anon.ini); platform.ini is named before it, or by PLATFORM_INI.
import { userInfo } from 'node:os';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuditLogId, JobSchedulerId, ThreadPoolId, UsageError, type CommandDefinition } from '../../core/api.js';
import { loadAnonConfig } from './anon-config.js';
import { loadDictionary, runAnonymisation, type RunProgress } from './anonymisation-run.js';
import { openDatabase, dialectOf } from './database-connection.js';
import { draftDictionary } from './draft-dictionary.js';
import { SecretMapStore } from './secret-map-store.js';
import { scrubOnDemand, validateScrubRequest } from './scrub-on-demand.js';

/** Text the scrub command reads from stdin at most. */
const MAX_STDIN_BYTES = 64 * 1024 * 1024;

/** The job type of anonymisation runs. */
export const ANONYMISE_JOB = 'anonymise.run';

function required(value: unknown, option: string, example: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${option} is required, e.g. --${option} ${example}`);
  return value;
}

function workersOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--workers must be a whole number from 1 to 64, not "${String(value)}"`);
  return n;
}

/** A progress line on a terminal (nothing when stderr is not one). */
function progressBar(out: NodeJS.WritableStream): ((p: RunProgress) => void) | undefined {
  if (!(out as NodeJS.WriteStream).isTTY) return undefined;
  const started = Date.now();
  return (p) => {
    const width = 30;
    const filled = p.patientsTotal ? Math.round((p.patientsDone / p.patientsTotal) * width) : width;
    const mb = p.bytesRead / 1e6;
    const rate = mb / Math.max((Date.now() - started) / 1000, 0.001);
    out.write(`\r${p.phase.padEnd(8)} [${'#'.repeat(filled).padEnd(width)}] ${p.patientsDone}/${p.patientsTotal} patients, ${p.rowsWritten} rows, ${mb.toFixed(1)} MB (${rate.toFixed(1)} MB/s)   `);
    if (p.phase === 'done') out.write('\n');
  };
}

/** The anonymiser's commands. */
export function anonymiseCommands(): CommandDefinition[] {
  return [
    {
      name: 'anonymise run',
      summary: 'de-identify a source database into a destination, as anon.ini and its data dictionary say',
      needs: 'database',
      options: {
        config: { type: 'string', value: 'FILE', description: 'the anonymiser config (anon.ini); name platform.ini before the command: platform --config platform.ini anonymise ...' },
        incremental: { type: 'boolean', description: 'only redo what changed; also finishes an interrupted run' },
        workers: { type: 'string', value: 'N', description: 'pool threads to use (default: [anonymise] workers)' },
        job: { type: 'boolean', description: 'queue the run as a job instead (see platform jobs show)' },
      },
      async run(args, ctx) {
        const configFile = resolve(required(args.options.config, 'config', 'anon.ini'));
        const workers = workersOption(args.options.workers);
        const incremental = args.options.incremental === true;
        if (args.options.job) {
          const config = loadAnonConfig(configFile, ctx.env);
          loadDictionary(config);
          const job = await ctx.services.get(JobSchedulerId).enqueue(ANONYMISE_JOB, { config: configFile, incremental, ...(workers ? { workers } : {}) }, { dedupeKey: `anonymise:${configFile}`, maxAttempts: 3 });
          ctx.stdout.write(`${job.id}\n`);
          ctx.stderr.write(`queued anonymisation job ${job.id}; follow it with: platform jobs show ${job.id}\n`);
          return 0;
        }
        const onProgress = progressBar(ctx.stderr);
        const summary = await runAnonymisation({ configFile, env: ctx.env, incremental, ...(workers ? { workers } : {}), pool: ctx.services.get(ThreadPoolId), services: ctx.services, ...(onProgress ? { onProgress } : {}) });
        ctx.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        return 0;
      },
    },
    {
      name: 'anonymise validate',
      summary: 'check anon.ini and the whole data dictionary, reporting every problem by line and column',
      needs: 'none',
      options: { config: { type: 'string', value: 'FILE', description: 'the anonymiser config (anon.ini)' } },
      async run(args, ctx) {
        const config = loadAnonConfig(required(args.options.config, 'config', 'anon.ini'), ctx.env);
        const plan = loadDictionary(config);
        ctx.stdout.write(`the data dictionary is valid: ${plan.tables.length} table(s), ${plan.tables.filter((t) => t.included.length).length} written\n`);
        return 0;
      },
    },
    {
      name: 'anonymise draft-dd',
      summary: "write a draft data dictionary from a source database's schema, for a human to review",
      needs: 'none',
      options: {
        source: { type: 'string', value: 'URL', description: 'the source database (no password: use --source-env or --source-file for one)' },
        'source-env': { type: 'string', value: 'VAR', description: 'an environment variable holding the URL' },
        'source-file': { type: 'string', value: 'FILE', description: 'a file holding the URL' },
        name: { type: 'string', value: 'NAME', description: 'the source name for src_db (default: main)' },
      },
      async run(args, ctx) {
        const given = ['source', 'source-env', 'source-file'].filter((k) => args.options[k] !== undefined);
        if (given.length !== 1) throw new UsageError('give exactly one of --source URL, --source-env VAR and --source-file FILE');
        let url: string;
        if (args.options.source !== undefined) {
          url = String(args.options.source);
          if (/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(url)) throw new UsageError('--source holds a password; pass the URL with --source-env VAR or --source-file FILE instead');
        } else if (args.options['source-env'] !== undefined) {
          const name = String(args.options['source-env']);
          url = ctx.env[name] ?? '';
          if (!url) throw new UsageError(`the environment variable ${name} is not set`);
        } else url = readFileSync(String(args.options['source-file']), 'utf8').trim();
        if (!dialectOf(url)) throw new UsageError('the source URL must start with sqlite:, postgresql://, mysql://, mariadb:// or mssql://');
        const name = typeof args.options.name === 'string' ? args.options.name : 'main';
        const db = await openDatabase(url, 'source');
        try {
          ctx.stdout.write(await draftDictionary(db.sequelize, db.dialect, name));
        } finally {
          await db.close();
        }
        return 0;
      },
    },
    {
      name: 'anonymise scrub',
      summary: 'scrub the text on stdin of the identifiers in a JSON file, as anonymise_scrub does, and print it',
      needs: 'none',
      options: {
        identifiers: { type: 'string', value: 'FILE', description: 'JSON: {"patient": {"words": [...], "dates": ["YYYY-MM-DD"], ...}, "third_party": {...}, and any other anonymise_scrub setting}' },
      },
      async run(args, ctx) {
        const file = required(args.options.identifiers, 'identifiers', 'ids.json');
        let request: Record<string, unknown>;
        try {
          request = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        } catch (error) {
          throw new UsageError(`--identifiers ${file}: cannot read it as JSON (${(error as NodeJS.ErrnoException).code ?? (error as Error).message.split('\n')[0]})`);
        }
        if (request === null || typeof request !== 'object' || Array.isArray(request) || 'text' in request) throw new UsageError('--identifiers must hold a JSON object of identifiers and settings; the text comes on stdin');
        if (!ctx.stdin || ctx.interactive) throw new UsageError('give the text on stdin: platform anonymise scrub --identifiers ids.json < note.txt');
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of ctx.stdin) {
          const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
          size += bytes.length;
          if (size > MAX_STDIN_BYTES) throw new UsageError(`the text on stdin is larger than ${MAX_STDIN_BYTES / 1048576} MB; split it`);
          chunks.push(bytes);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        const validated = validateScrubRequest({ ...request, text: { stdin: text.slice(0, 1) || ' ' } });
        ctx.stdout.write(scrubOnDemand({ ...validated, text: { stdin: text } }).anonymised.stdin!);
        return 0;
      },
    },
    {
      name: 'anonymise reidentify',
      usage: 'RID',
      summary: 'look up the patient behind a research ID (trusted admins only; every lookup is audited)',
      needs: 'database',
      options: {
        config: { type: 'string', value: 'FILE', description: 'the anonymiser config naming the secret-map database' },
        reason: { type: 'string', value: 'TEXT', description: 'why (recorded in the audit trail)' },
      },
      async run(args, ctx) {
        const rid = args.positionals[0];
        if (!rid || !/^[0-9a-f]{32,128}$/i.test(rid)) throw new UsageError('give the research ID (hexadecimal) to look up: platform anonymise reidentify RID --config anon.ini');
        const config = loadAnonConfig(required(args.options.config, 'config', 'anon.ini'), ctx.env);
        const reason = typeof args.options.reason === 'string' ? args.options.reason : undefined;
        const db = await openDatabase(config.secretMapUrl, 'secret map');
        const actor = userInfo().username;
        try {
          const store = new SecretMapStore(db.sequelize, db.dialect);
          await store.ensureSchema();
          const found = await store.reidentify(rid.toLowerCase(), actor, reason);
          await ctx.services.get(AuditLogId).record({ actor: { kind: 'system', name: `cli:${actor}` }, action: 'anonymise.reidentify', objectType: 'research_id', objectId: rid.toLowerCase(), details: { found: Boolean(found), ...(reason ? { reason } : {}) } });
          if (!found) {
            ctx.stderr.write('no patient has this research ID in the secret map\n');
            return 1;
          }
          ctx.stdout.write(`${JSON.stringify({ pid: found.pid, mpid: found.mpid ?? null, rid: found.rid, trid: found.trid, mrid: found.mrid ?? null }, null, 2)}\n`);
          return 0;
        } finally {
          await db.close();
        }
      },
    },
  ];
}
