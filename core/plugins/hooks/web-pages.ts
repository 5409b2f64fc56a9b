// WebPages and DatasetSections: what plugins add to the web front. Core renders the frame
// (navigation, sign-in, search, the dataset page) and knows no plugin; a plugin adds whole
// pages under a path of its own and sections of the dataset page.
import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { hookId } from '../hook-id.js';
import type { AppEnv } from '../../http/app-env.js';

/** How a page is framed by {@link WebKit.page}. */
export interface PageOptions {
  /** HTTP status (default 200). */
  status?: 200 | 400 | 403 | 404 | 409 | 413 | 422 | 429 | 503;
  /** Script URLs (from {@link WebKit.assetUrl}) the page loads as modules, after the content. */
  scripts?: string[];
}

/** What core lends a page or section to look like the rest of the site and to stay safe. */
export interface WebKit {
  /** Renders `body` inside the site's frame (navigation, sign-in state, footer). */
  page(c: Context<AppEnv>, title: string, body: Child, options?: PageOptions): Promise<Response>;
  /** A hidden input carrying the request's CSRF token; every form that posts needs one. */
  csrfField(c: Context<AppEnv>): Child;
  /**
   * Reads a posted form (urlencoded or multipart, text fields only) after checking its CSRF
   * token. @throws AuthorizationError (403) when the token is missing or wrong.
   */
  form(c: Context<AppEnv>): Promise<Record<string, string>>;
  /** URL of an asset a contribution declared: `/assets/<plugin>/<name>`. */
  assetUrl(plugin: string, name: string): string;
  /**
   * Runs an action as the viewer, with the API's permission rules; pages read and write
   * through it rather than around it. @throws the action's PlatformErrors.
   */
  run<T = unknown>(c: Context<AppEnv>, name: string, input: Record<string, unknown>): Promise<T>;
}

/**
 * Whole pages. Dispatch: **registry** keyed by `path`; core mounts each sub-app at `path`
 * after its own middleware, so `c.get('actor')` is the signed-in user (or anonymous), and a
 * PlatformError thrown there becomes an error page with its status.
 *
 * @example
 * ctx.contribute(WebPages, {
 *   path: '/hello', nav: { label: 'Hello' },
 *   mount: (app, kit) => app.get('/', (c) => kit.page(c, 'Hello', <p>Hello</p>)),
 * });
 */
export interface WebPage {
  /** Mount point: `/` and lower-case letters, digits, `-`, `_`; may not shadow core's pages. */
  readonly path: string;
  /**
   * A link in the navigation bar, shown to `audience` (default everyone): a fixed audience, or
   * a check of the request (a role the plugin grants); lower `order` comes first (default 50).
   */
  readonly nav?: { label: string; order?: number; audience?: 'everyone' | 'signed-in' | 'sysadmin' | ((c: Context<AppEnv>) => Promise<boolean>) };
  /** Files served under `/assets/<plugin>/<name>`: scripts (`.js`) and styles (`.css`) by absolute path. */
  readonly assets?: Readonly<Record<string, string>>;
  mount(app: Hono<AppEnv>, kit: WebKit): void;
}

/** What a dataset section is given to render. */
export interface DatasetSectionInput {
  c: Context<AppEnv>;
  /** The dataset as `package_show` answers it to this viewer (resources included). */
  dataset: Record<string, unknown> & { id: string; name: string; resources: Array<Record<string, unknown> & { id: string; name: string; state: string }> };
  kit: WebKit;
}

/**
 * Sections of the dataset page, below core's own. Dispatch: **registry** keyed by `name`,
 * rendered in `order` (then plugin order); a section that returns undefined is left out.
 * Sections see only what `package_show` shows this viewer: a private dataset's page is a 404
 * before any section runs.
 */
export interface DatasetSection {
  readonly name: string;
  /** Lower comes first (default 100). */
  readonly order?: number;
  /** Files served under `/assets/<plugin>/<name>`, as for {@link WebPage.assets}. */
  readonly assets?: Readonly<Record<string, string>>;
  /** Script URLs the dataset page loads when this section renders. */
  scripts?(kit: WebKit): string[];
  render(input: DatasetSectionInput): Child | undefined | Promise<Child | undefined>;
}

/** Service identifier of the {@link WebPage} hook. */
export const WebPages = hookId<WebPage>('WebPages');
/** Service identifier of the {@link DatasetSection} hook. */
export const DatasetSections = hookId<DatasetSection>('DatasetSections');
