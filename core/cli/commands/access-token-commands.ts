// platform access-token create|inspect: encrypted `.dcor-access` files that give a user
// their API token and the server certificate to trust, protected by a password that is
// sent by another channel.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { CommandDefinition } from '../../plugins/hooks/commands.js';
import { ActionRunnerId } from '../../services/service-ids.js';
import { UsageError } from '../../errors.js';
import { generateTokenPassword, parseCertificate, readAccessTokenFile, summariseAccessToken, writeAccessTokenFile, type AccessTokenEncryption } from '../../auth/access-token-file.js';
import { checkPrivateFileTarget, writePrivateFile } from '../../util/private-file.js';
import { cliActor, positionals, printJson, requireOption, stringOption } from './command-support.js';

function readPasswordFile(path: string): string {
  try {
    const password = readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '';
    if (!password) throw new UsageError(`--password-file ${path} is empty`);
    return password;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read --password-file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** The access-token commands. */
export function accessTokenCommands(): CommandDefinition[] {
  return [
    {
      name: 'access-token create',
      summary: 'create an API token for a user and write it, with the server certificate, to an encrypted .dcor-access file',
      description: 'The password comes from --password-file or is generated and printed once on stdout: send it by another channel than the file. The API token is named after the file.',
      needs: 'database',
      options: {
        user: { type: 'string', value: 'NAME', description: 'the user the token acts as (required)' },
        cert: { type: 'string', value: 'FILE', description: 'the server certificate (PEM) the client will trust (required)' },
        out: { type: 'string', value: 'FILE', description: 'where to write the token file, e.g. alice.dcor-access (required)' },
        'password-file': { type: 'string', value: 'FILE', description: 'read the password from the first line of FILE (default: generate one)' },
        'expires-days': { type: 'string', value: 'N', description: 'the API token expires after N days (default: never)' },
        compat: { type: 'string', value: 'zipcrypto', description: 'write traditional ZipCrypto encryption for old readers (weaker)' },
        force: { type: 'boolean', description: 'replace an existing output file (with a new one of mode 0600; a symbolic link is refused)' },
      },
      async run(args, ctx) {
        const user = requireOption(args, 'user', 'access-token create');
        const certPath = requireOption(args, 'cert', 'access-token create');
        const out = requireOption(args, 'out', 'access-token create');
        const compat = stringOption(args, 'compat');
        if (compat !== undefined && compat !== 'zipcrypto') throw new UsageError(`--compat must be "zipcrypto", not "${compat}"`);
        const days = stringOption(args, 'expires-days');
        if (days !== undefined && !/^\d+$/.test(days)) throw new UsageError(`--expires-days must be a whole number of days, not "${days}"`);
        // Checked before the token exists, so a refusal leaves no token behind.
        checkPrivateFileTarget(out, args.options.force === true);
        let certificatePem: string;
        try {
          certificatePem = readFileSync(certPath, 'utf8');
        } catch (error) {
          throw new UsageError(`cannot read --cert ${certPath}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        }
        parseCertificate(certificatePem, `--cert ${certPath}`);
        const passwordFile = stringOption(args, 'password-file');
        const password = passwordFile ? readPasswordFile(passwordFile) : generateTokenPassword();
        const encryption: AccessTokenEncryption = compat === 'zipcrypto' ? 'zipcrypto' : 'aes-256';
        if (encryption === 'zipcrypto') ctx.stderr.write('warning: ZipCrypto falls to a known-plaintext attack (a PEM certificate\'s first line is known plaintext); use it only for clients that cannot read AES-256\n');
        const name = basename(out, extname(out));
        const created = (await ctx.services.get(ActionRunnerId).run('api_token_create', { user, name, ...(days ? { expires_days: Number(days) } : {}) }, { actor: cliActor })) as { token: string; prefix: string };
        const data = await writeAccessTokenFile({ apiKey: created.token, certificatePem, password, encryption });
        writePrivateFile(out, data, args.options.force === true);
        ctx.stderr.write(`wrote ${out} (${encryption}) with API token ${created.prefix} for ${user}\n`);
        if (!passwordFile) {
          ctx.stderr.write('the generated password follows; it is shown only now, send it by another channel than the file:\n');
          ctx.stdout.write(`${password}\n`);
        }
      },
    },
    {
      name: 'access-token inspect',
      usage: 'FILE',
      summary: 'show what an access token file holds, without revealing its secret',
      needs: 'none',
      options: {
        'password-file': { type: 'string', value: 'FILE', description: 'read the password from the first line of FILE (otherwise asked on the terminal)' },
        json: { type: 'boolean', description: 'print JSON' },
      },
      async run(args, ctx) {
        const [file] = positionals(args, ['FILE'], 'access-token inspect');
        let data: Uint8Array;
        try {
          data = readFileSync(file!);
        } catch (error) {
          throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        }
        const passwordFile = stringOption(args, 'password-file');
        const password = passwordFile ? readPasswordFile(passwordFile) : await ctx.promptSecret('Password of the access token: ');
        const summary = summariseAccessToken(await readAccessTokenFile(data, password));
        if (args.options.json) return printJson(ctx.stdout, summary);
        ctx.stdout.write(
          [
            `host: ${summary.commonName ?? '(no common name)'}`,
            `alternative names: ${summary.altNames.join(', ') || '(none)'}`,
            `certificate valid: ${summary.validFrom.toISOString()} to ${summary.validTo.toISOString()}`,
            `API key: ${summary.keyStart}`,
            `encryption: ${summary.encryption === 'aes-256' ? 'AES-256 (WinZip AE-2)' : 'ZipCrypto (traditional PKWARE)'}`,
            ...summary.warnings.map((w) => `warning: ${w}`),
          ].join('\n') + '\n',
        );
      },
    },
  ];
}
