// Sign-in and sign-out. The password check is core's own (UserService.authenticate, with its
// lockout and whatever limits core applies to password logins), so the pages add no second one.
import type { Context } from 'hono';
import type { AppEnv } from '../../http/app-env.js';
import type { CoreWebKit } from '../web-kit.js';

/** Where to go after signing in: a local path only, never another site. */
export function safeNext(value: string | undefined): string {
  return value && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) ? value : '/';
}

/** The sign-in form, with a message after a failed attempt. */
export function signInPage(c: Context<AppEnv>, kit: CoreWebKit, options: { message?: string; name?: string; next?: string; status?: 200 | 400 | 403 | 429 | 503 } = {}): Promise<Response> {
  const next = safeNext(options.next ?? c.req.query('next'));
  return kit.page(c, 'Sign in', <form method="post" action="/user/login">
    {kit.csrfField(c)}
    <input type="hidden" name="next" value={next} />
    {options.message && <p class="notice error" role="alert" id="login-error">{options.message}</p>}
    <label for="login-name">User name</label>
    <input type="text" id="login-name" name="name" autocomplete="username" required value={options.name ?? ''} autofocus aria-describedby={options.message ? 'login-error' : undefined} />
    <label for="login-password">Password</label>
    <input type="password" id="login-password" name="password" autocomplete="current-password" required />
    <p><button type="submit">Sign in</button></p>
  </form>, { status: options.status ?? 200 });
}
