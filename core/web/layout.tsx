// The frame of every page: language, viewport, the style sheet, a skip link, navigation
// (core's and the plugins'), sign-in state and sign-out form; scripts load as modules last.
import type { Child } from 'hono/jsx';
import type { UserIdentity } from '../auth/actor.js';

/** A link of the navigation bar. */
export interface NavLink {
  href: string;
  label: string;
  order: number;
}

/** What the frame shows around a page's content. */
export interface LayoutProps {
  siteTitle: string;
  title: string;
  user: UserIdentity | undefined;
  nav: NavLink[];
  csrf: string;
  scripts: string[];
  children: Child;
}

/** The site frame. */
export function Layout(props: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="csrf-token" content={props.csrf} />
        <title>{`${props.title} · ${props.siteTitle}`}</title>
        <link rel="stylesheet" href="/assets/core/site.css" />
      </head>
      <body>
        <a class="skip" href="#content">Skip to content</a>
        <header class="site">
          <a class="brand" href="/">{props.siteTitle}</a>
          <nav aria-label="Main">
            <ul>
              {props.nav.map((link) => (
                <li>
                  <a href={link.href}>{link.label}</a>
                </li>
              ))}
            </ul>
          </nav>
          <div class="who">
            {props.user ? (
              <form method="post" action="/user/logout">
                <input type="hidden" name="_csrf" value={props.csrf} />
                <span class="muted">Signed in as {props.user.name} </span>
                <button type="submit" class="link">Sign out</button>
              </form>
            ) : (
              <a href="/user/login">Sign in</a>
            )}
          </div>
        </header>
        <main id="content" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
        <footer class="site">{props.siteTitle}</footer>
        {props.scripts.map((src) => (
          <script type="module" src={src}></script>
        ))}
      </body>
    </html>
  );
}
