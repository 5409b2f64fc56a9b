// Access-token files from the admin page: an API token for a user, written with the server
// certificate into an encrypted `.dcor-access` file (as `platform access-token create`), and
// the password shown once. The file travels inside the answer as a data: link, so neither the
// file nor the password is ever stored on the server.
import type { Context } from 'hono';
import type { AppEnv } from '../../http/app-env.js';
import type { CoreWebKit } from '../web-kit.js';
import { generateTokenPassword, parseCertificate, writeAccessTokenFile } from '../../auth/access-token-file.js';
import { ConflictError, ValidationError } from '../../errors.js';

/** Creates the file for `fields.user` and renders the page that hands it over. */
export async function accessTokenFilePage(c: Context<AppEnv>, kit: CoreWebKit, fields: Record<string, string>, certificatePem: string | undefined): Promise<Response> {
  if (!certificatePem) throw new ConflictError('access-token files carry the server certificate: set [inspect] tls_certificate to the certificate nginx serves');
  parseCertificate(certificatePem, '[inspect] tls_certificate');
  const user = (fields.user ?? '').trim();
  const days = (fields.expires_days ?? '').trim();
  if (days && !/^\d{1,4}$/.test(days)) throw new ValidationError(`expires after "${days}" days is not a whole number of days`, { expires_days: ['a whole number of days'] });
  const name = `${user}-web-${new Date().toISOString().slice(0, 10)}`;
  const created = await kit.run<{ token: string; prefix: string }>(c, 'api_token_create', { user, name, ...(days ? { expires_days: Number(days) } : {}) });
  const password = generateTokenPassword();
  const data = await writeAccessTokenFile({ apiKey: created.token, certificatePem, password, encryption: 'aes-256' });
  const file = `${user}.dcor-access`;
  return kit.page(c, 'Access-token file', <div>
    <p>An API token ({created.prefix}) for <strong>{user}</strong> is in the file below, encrypted with this password. Both are shown only now: download the file, and send the password by another channel than the file.</p>
    <p class="secret" id="access-token-password">{password}</p>
    <p><a class="button" id="access-token-download" download={file} href={`data:application/octet-stream;base64,${Buffer.from(data).toString('base64')}`}>Download {file}</a></p>
    <p><a href="/admin">Back to administration</a></p>
  </div>);
}
