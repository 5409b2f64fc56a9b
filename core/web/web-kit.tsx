// What pages (core's and the plugins') use to look like the site and stay safe: the frame,
// the CSRF field, posted forms, asset URLs, and calls of actions as the viewer.
import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../http/app-env.js';
import type { ActionRunner } from '../actions/action-runner.js';
import type { HookRegistries } from '../plugins/hook-registries.js';
import type { PageOptions, WebKit } from '../plugins/hooks/web-pages.js';
import { AuthorizationError } from '../errors.js';
import { actorUser } from '../auth/actor.js';
import { Layout, type NavLink } from './layout.js';
import { CONTENT_SECURITY_POLICY, type WebSecurity } from './web-security.js';

/** The core implementation of {@link WebKit}, plus what core's own pages need. */
export class CoreWebKit implements WebKit {
  constructor(
    private readonly security: WebSecurity,
    private readonly registries: HookRegistries,
    private readonly actions: ActionRunner,
    private readonly siteTitle: string,
  ) {}

  async page(c: Context<AppEnv>, title: string, body: Child, options: PageOptions = {}): Promise<Response> {
    const user = actorUser(c.get('actor'));
    const csrf = this.security.csrfToken(c);
    setPageHeaders(c);
    const html = (
      <Layout siteTitle={this.siteTitle} title={title} user={user} nav={await this.nav(c)} csrf={csrf} scripts={options.scripts ?? []}>
        {body}
      </Layout>
    );
    return c.html(`<!doctype html>${await html}`, options.status ?? 200);
  }

  csrfField(c: Context<AppEnv>): Child {
    return <input type="hidden" name="_csrf" value={this.security.csrfToken(c)} />;
  }

  async form(c: Context<AppEnv>): Promise<Record<string, string>> {
    const body = await c.req.parseBody();
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(body)) if (typeof value === 'string') fields[key] = value;
    // The middleware checked the token already; checking again here keeps a handler safe
    // even if it is ever mounted somewhere the middleware does not run.
    if (!this.security.checkCsrf(c, fields._csrf ?? c.req.header('x-csrf-token'))) throw new AuthorizationError('this form has no valid CSRF token; reload the page and send it again');
    delete fields._csrf;
    return fields;
  }

  assetUrl(plugin: string, name: string): string {
    return `/assets/${encodeURIComponent(plugin)}/${encodeURIComponent(name)}`;
  }

  /** Runs an action as the viewer, with the same permission rules as the API. */
  run<T = unknown>(c: Context<AppEnv>, name: string, input: Record<string, unknown>): Promise<T> {
    return this.actions.run(name, input, { actor: c.get('actor'), address: c.get('address'), requestId: c.get('requestId') }) as Promise<T>;
  }

  private async nav(c: Context<AppEnv>): Promise<NavLink[]> {
    const user = actorUser(c.get('actor'));
    const links: NavLink[] = [{ href: '/dataset', label: 'Datasets', order: 10 }];
    if (user) links.push({ href: '/dataset/new', label: 'Upload', order: 20 }, { href: '/account', label: 'Account', order: 80 });
    if (user?.sysadmin) links.push({ href: '/admin', label: 'Admin', order: 90 });
    for (const page of this.registries.webPages.values()) {
      const audience = page.nav?.audience ?? 'everyone';
      if (!page.nav || (audience === 'signed-in' && !user) || (audience === 'sysadmin' && !user?.sysadmin)) continue;
      if (typeof audience === 'function' && !(await audience(c))) continue;
      links.push({ href: page.path, label: page.nav.label, order: page.nav.order ?? 50 });
    }
    return links.sort((a, b) => a.order - b.order);
  }
}

/** Headers of every page: the CSP, no sniffing, no framing, no caching of personal pages. */
export function setPageHeaders(c: Context<AppEnv>): void {
  c.header('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'same-origin');
  c.header('Cache-Control', 'no-store');
}
