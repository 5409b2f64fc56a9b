// The account page: the viewer's API tokens, newest first, with creation (the secret shown
// once, on the answer to the form) and revocation, through the token actions of the API.
import type { Context } from 'hono';
import type { AppEnv } from '../../http/app-env.js';
import type { CoreWebKit } from '../web-kit.js';
import type { UserIdentity } from '../../auth/actor.js';

interface TokenDict { id: string; name: string; prefix: string; created_at: string; expires_at: string | null; last_access: string | null; revoked_at: string | null }

/** `2026-12-07 21:50 UTC`, or a dash. */
export function formatTime(iso: string | null | undefined): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—';
}

/**
 * Renders a user's tokens: the viewer's own account page (`base` `/account`), or a site
 * administrator's view of another user (`/admin/users/<name>`); `created` is a token just
 * made, shown this once.
 */
export async function accountPage(c: Context<AppEnv>, kit: CoreWebKit, user: Pick<UserIdentity, 'id' | 'name' | 'sysadmin'>, created?: { token: string; name: string }, base = '/account'): Promise<Response> {
  const own = base === '/account';
  const tokens = (await kit.run<TokenDict[]>(c, 'api_token_list', { user: user.id })).sort((a, b) => b.created_at.localeCompare(a.created_at));
  return kit.page(c, own ? 'Your account' : `User ${user.name}`, <div>
    {own ? <p>Signed in as <strong>{user.name}</strong>{user.sysadmin ? ' (site administrator)' : ''}.</p> : <p><a href="/admin">Back to administration</a></p>}
    <h2>API tokens</h2>
    {created && <div class="notice" role="status">
      <p>The new token "{created.name}" is below. Copy it now: it will not be shown again.</p>
      <p class="secret" id="new-token">{created.token}</p>
    </div>}
    <form method="post" action={`${base}/tokens`}>
      {kit.csrfField(c)}
      <label for="token-name">Name of a new token</label>
      <input type="text" id="token-name" name="name" required maxlength={200} />
      <label for="token-days">Expires after (days, empty for never)</label>
      <input type="text" id="token-days" name="expires_days" inputmode="numeric" pattern="[0-9]*" />
      <p><button type="submit">Create token</button></p>
    </form>
    <table>
      <caption>{own ? 'Your tokens' : `Tokens of ${user.name}`}, newest first</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">State</th></tr></thead>
      <tbody>
        {tokens.map((t) => (
          <tr>
            <td>{t.name}</td><td><code>{t.prefix}</code></td><td>{formatTime(t.created_at)}</td><td>{formatTime(t.last_access)}</td><td>{formatTime(t.expires_at)}</td>
            <td>{t.revoked_at ? `revoked ${formatTime(t.revoked_at)}` : t.expires_at && t.expires_at < new Date().toISOString() ? 'expired' : (
              <form method="post" action={`${base}/tokens/${encodeURIComponent(t.id)}/revoke`}>
                {kit.csrfField(c)}
                <button type="submit" class="secondary" aria-label={`Revoke token ${t.name}`}>Revoke</button>
              </form>
            )}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>);
}
