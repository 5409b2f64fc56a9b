// platform init --config PATH: writes a production configuration with fresh secrets.
import { existsSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { UsageError } from '../../errors.js';
import { writeSecretFile } from '../../config/secret-files.js';
import { stringOption } from './command-support.js';

/** The text of a production platform.ini. */
export function productionConfig(options: { dataDir: string; secretsDir: string; dbUrl: string; siteUrl: string; plugins: string }): string {
  return `; Production configuration written by \`platform init\`. It holds no secret: the files
; under ${options.secretsDir} do (mode 0600). Check it with \`platform inspect\`.

[platform]
plugins = ${options.plugins}
data_dir = ${options.dataDir}
site_url = ${options.siteUrl}
site_title = Data platform
secret_key_file = ${join(options.secretsDir, 'secret-key')}

[http]
; nginx terminates TLS and proxies to this address (see docs/deployment.md).
host = 127.0.0.1
port = 5000
max_body_bytes = 1048576
trust_proxy = true

[db]
url = ${options.dbUrl}
; Apply migrations explicitly with \`platform db upgrade\` after an update.
auto_migrate = false

[auth]
max_failed_logins = 5
lockout_minutes = 15
min_password_length = 12

[jobs]
worker = internal

[depot]
active = fs

[logging]
level = info
`;
}

/** The init command. */
export function initCommands(): CommandDefinition[] {
  return [
    {
      name: 'init',
      summary: 'write a production platform.ini with fresh secrets (mode 0600)',
      description: 'Refuses to overwrite an existing file. Secrets are written to a secrets/ directory beside the configuration.',
      needs: 'none',
      options: {
        config: { type: 'string', value: 'PATH', description: 'where to write the configuration (required)' },
        'db-url': { type: 'string', value: 'URL', description: 'database URL (default: sqlite:<data dir>/platform.sqlite)' },
        'data-dir': { type: 'string', value: 'DIR', description: 'data directory (default: data/ beside the configuration)' },
        'site-url': { type: 'string', value: 'URL', description: 'public URL, e.g. https://data.example.org' },
        plugins: { type: 'string', value: 'LIST', description: 'plugins to enable, space-separated' },
      },
      async run(args, ctx) {
        // --config is a global option too; main() hands it over as PLATFORM_INI when given first.
        const target = stringOption(args, 'config');
        if (!target) throw new UsageError('--config PATH is required: where to write the new configuration');
        const file = resolve(target);
        if (existsSync(file)) throw new UsageError(`${file} already exists; not overwriting it`);
        const dir = dirname(file);
        const dataDir = resolve(stringOption(args, 'data-dir') ?? join(dir, 'data'));
        const secretsDir = join(dir, 'secrets');
        // Checked before anything is written: a second configuration beside the first must not replace its key.
        if (existsSync(join(secretsDir, 'secret-key'))) {
          throw new UsageError(`${join(secretsDir, 'secret-key')} already exists (another configuration in ${dir} uses it); not overwriting it: write the new configuration into another directory`);
        }
        mkdirSync(dir, { recursive: true });
        writeSecretFile(join(secretsDir, 'secret-key'));
        writeFileSync(
          file,
          productionConfig({ dataDir, secretsDir, dbUrl: stringOption(args, 'db-url') ?? `sqlite:${join(dataDir, 'platform.sqlite')}`, siteUrl: stringOption(args, 'site-url') ?? 'https://data.example.org', plugins: stringOption(args, 'plugins') ?? '' }),
          { mode: 0o600, flag: 'wx' },
        );
        chmodSync(file, 0o600);
        ctx.stderr.write(`wrote ${file} and ${join(secretsDir, 'secret-key')} (mode 0600)\nnext: platform --config ${file} db upgrade\n`);
        ctx.stdout.write(`${file}\n`);
      },
    },
  ];
}
