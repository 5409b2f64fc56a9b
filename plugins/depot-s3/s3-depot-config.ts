// Building the S3 depot from its `[plugin:depot-s3]` section: keys read from their files
// on first use (so commands that never touch S3 need no keys), and the organisation of a
// resource looked up in the database to pick its bucket.
import { readFileSync } from 'node:fs';
import { QueryTypes } from 'sequelize';
import { ConfigError, type Database } from '../../core/api.js';
import { S3Client } from './s3-client.js';
import { S3Depot } from './s3-depot.js';

/** The validated section. */
export interface S3Settings {
  endpoint: string;
  region: string;
  bucket_prefix: string;
  access_key_file: string;
  secret_key_file: string;
  part_size_mb: number;
  upload_concurrency: number;
  downloads: 'redirect' | 'stream';
  presign_seconds: number;
  stale_upload_hours: number;
}

function readKey(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`[plugin:depot-s3] ${what}: cannot read secret file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!text) throw new ConfigError(`[plugin:depot-s3] ${what}: secret file ${path} is empty`);
  return text;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The organisation owning a resource, read from the database (undefined when there is none). */
export function organisationLookup(db: () => Database): (resourceId: string) => Promise<string | undefined> {
  return async (resourceId) => {
    if (!UUID.test(resourceId)) return undefined;
    const rows = await db().sequelize.query<{ name: string }>(
      'SELECT o.name AS name FROM resources r JOIN datasets d ON d.id = r.dataset_id JOIN organizations o ON o.id = d.owner_org_id WHERE r.id = :id',
      { replacements: { id: resourceId }, type: QueryTypes.SELECT },
    );
    return rows[0]?.name;
  };
}

/** The depot of a configuration; its client is made when first used. */
export function s3DepotFromConfig(settings: S3Settings, resolvePath: (path: string) => string, organisationOf: (resourceId: string) => Promise<string | undefined>): S3Depot {
  let client: S3Client | undefined;
  const lazyClient = (): S3Client =>
    (client ??= new S3Client({
      endpoint: settings.endpoint,
      region: settings.region,
      credentials: { accessKey: readKey(resolvePath(settings.access_key_file), 'access_key_file'), secretKey: readKey(resolvePath(settings.secret_key_file), 'secret_key_file') },
    }));
  return new S3Depot(lazyClient, {
    bucketPrefix: settings.bucket_prefix,
    partSize: settings.part_size_mb * 1024 * 1024,
    concurrency: settings.upload_concurrency,
    organisationOf,
    downloads: settings.downloads,
    presignSeconds: settings.presign_seconds,
  });
}
